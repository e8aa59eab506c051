"""The HTTP endpoints: score a transcript, score an uploaded recording, reload rules, health."""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from qa_engine.live.worker import BATCH
from qa_engine.models import CallReport, CallTranscript
from qa_engine.rulefile import RuleFileError
from qa_engine.server.rules import NamedRules
from qa_engine.server.state import ServerState

bearer = HTTPBearer(auto_error=False, description="The server's --token, when it has one")


def get_state(request: Request) -> ServerState:
    return request.app.state.qa


def require_token(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> None:
    state = get_state(request)
    if not state.auth.required:
        return
    offered = f"Bearer {credentials.credentials}" if credentials else None
    if not state.auth.allows(offered):
        raise HTTPException(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})


State = Annotated[ServerState, Depends(get_state)]
RulesName = Annotated[str | None, Query(description="Name of a loaded rule set (default: the first)")]
router = APIRouter(prefix="/v1", dependencies=[Depends(require_token)])


def rules_or_404(state: ServerState, name: str | None) -> NamedRules:
    try:
        return state.rules.get(name)
    except KeyError:
        raise HTTPException(404, f"no rule set '{name}'; loaded: {', '.join(state.rules.names())}") from None


@router.post("/score", response_model=CallReport, summary="Score a transcript")
async def score(transcript: CallTranscript, state: State, rules: RulesName = None) -> CallReport:
    """A whole call's transcript in (the same JSON as `qa score` reads), its report out."""
    return rules_or_404(state, rules).engine.score(transcript)


AUDIO_BODY = {
    "requestBody": {
        "required": True,
        "description": "The recording's bytes (wav, flac, mp3, ogg…; stereo: agent left, customer right)",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                    "audio/*": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.post("/calls", response_model=CallReport, summary="Score a recording", openapi_extra=AUDIO_BODY)
async def score_recording(
    request: Request,
    state: State,
    call_id: Annotated[str | None, Query(max_length=200)] = None,
    agent_id: Annotated[str | None, Query(max_length=200)] = None,
    filename: Annotated[str, Query(description="Original file name; its suffix tells the format")] = "call.wav",
    rules: RulesName = None,
) -> CallReport:
    """Upload a recording as the request body (e.g. `curl --data-binary @call.flac`).

    It is transcribed by the batch path with the transcript cache, on the server's shared
    model, after any live turns waiting (live calls go first), then scored.
    """
    from qa_engine.stt import AudioError, transcribe_cached

    named = rules_or_404(state, rules)
    recognizer = state.recognizer
    if not hasattr(recognizer, "transcribe"):
        raise HTTPException(501, "this server's speech-to-text cannot transcribe whole recordings")
    suffix = Path(filename).suffix or ".wav"
    uploads = state.config.out_dir / ".uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=uploads, suffix=suffix, delete=False) as handle:
        path = Path(handle.name)
        async for block in request.stream():
            handle.write(block)
    call = call_id or Path(filename).stem
    try:
        transcript: CallTranscript = await state.worker.submit(
            lambda: transcribe_cached(
                path, cache_dir=state.config.cache_dir, transcriber=recognizer, call_id=call, agent_id=agent_id
            ),
            priority=BATCH,
        )
    except AudioError as exc:
        raise HTTPException(422, f"{filename}: {exc.problem}. {exc.hint}") from None
    finally:
        path.unlink(missing_ok=True)
    transcript = transcript.model_copy(update={"audio": filename})
    report = named.engine.score(transcript)
    await asyncio.to_thread(state.archive.save, report, transcript)
    return report


@router.post("/rules/reload", summary="Reload rule files")
async def reload_rules(state: State) -> Any:
    """Load every rule file again. A broken file keeps the old rules; the answer (422) locates its problems."""
    try:
        described = await asyncio.to_thread(state.rules.reload)
    except RuleFileError as error:
        problems = [dataclasses.asdict(p) for p in error.problems]
        body = {"reloaded": False, "problems": problems, "rules": state.rules.describe()}
        return JSONResponse(body, status_code=422)
    return {"reloaded": True, "rules": described}


@router.get("/rules", summary="Loaded rule sets")
async def list_rules(state: State) -> dict[str, Any]:
    return {"default": state.rules.default, "rules": state.rules.describe()}


health_router = APIRouter()


@health_router.get("/healthz", summary="Liveness, load and capacity")
async def healthz(state: State) -> dict[str, Any]:
    return state.health()
