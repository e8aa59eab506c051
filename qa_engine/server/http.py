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

from qa_engine.models import CallReport, CallTranscript, SttRecord
from qa_engine.rulefile import RuleFileError
from qa_engine.server.config import ServerConfig
from qa_engine.server.rules import NamedRules
from qa_engine.server.sanity import BadInput, check_json
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


@router.post(
    "/score",
    response_model=CallReport,
    summary="Score a transcript",
    responses={413: {"description": "Body or transcript over the server's limits"},
               422: {"description": "Invalid transcript"}, 503: {"description": "Too many scoring requests"}},
)
async def score(transcript: CallTranscript, state: State, rules: RulesName = None) -> CallReport:
    """A whole call's transcript in (the same JSON as `qa score` reads), its report out.

    Scored on the server's scoring threads, never on the event loop, so a big transcript
    cannot stall live calls or `/healthz`.
    """
    named = rules_or_404(state, rules)
    check_transcript(transcript, state.config)
    report = await state.score(named.engine, transcript)
    if state.store is not None:
        await asyncio.to_thread(lambda: state.store_report(report, named.engine.redact(transcript)))
    return report


def check_transcript(transcript: CallTranscript, config: ServerConfig) -> None:
    """422 for values the engine cannot take (NaN, lone surrogates, deep nesting); 413 over the limits."""
    try:
        check_json(transcript.model_dump(), config.max_json_depth)
    except BadInput as problem:
        raise HTTPException(422, f"{problem.where}: {problem.problem}") from None
    if len(transcript.utterances) > config.max_utterances:
        raise HTTPException(
            413, f"{len(transcript.utterances)} utterances; this server takes at most {config.max_utterances} a call"
        )
    for index, utterance in enumerate(transcript.utterances):
        if len(utterance.text) > config.max_utterance_chars:
            raise HTTPException(
                413,
                f"utterances.{index}.text: {len(utterance.text)} characters; the limit is {config.max_utterance_chars}",
            )


AUDIO_BODY = {
    "requestBody": {
        "required": True,
        "description": "The recording's bytes (wav, flac, mp3, ogg…; stereo: agent left, customer right)",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                    "audio/*": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.post(
    "/calls",
    response_model=CallReport,
    summary="Score a recording",
    openapi_extra=AUDIO_BODY,
    responses={413: {"description": "Body or recording over the server's limits"},
               422: {"description": "Not a usable recording"},
               503: {"description": "Too many uploads, or the server is stopping"}},
)
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
    named = rules_or_404(state, rules)
    recognizer = state.recognizer
    if not hasattr(recognizer, "transcribe"):
        raise HTTPException(501, "this server's speech-to-text cannot transcribe whole recordings")
    suffix = _suffix(filename)
    uploads = state.config.out_dir / ".uploads"
    await asyncio.to_thread(uploads.mkdir, parents=True, exist_ok=True)
    path = await receive_upload(request, uploads, suffix)
    try:
        transcript = await state.uploads.transcribe(
            path, recognizer=recognizer, call_id=call_id or Path(filename).stem or "call", agent_id=agent_id,
            filename=filename, redactor=named.engine.redactor,
        )
        transcript = transcript.model_copy(update={"audio": filename})
        report = await state.score(named.engine, transcript)
        await asyncio.to_thread(state.archive.save, report, transcript)
    finally:
        await asyncio.to_thread(path.unlink, missing_ok=True)
    return public_report(report)


def _suffix(filename: str) -> str:
    """The upload's suffix for the decoder, reduced to a short plain extension."""
    suffix = Path(filename).suffix.lower()
    return suffix if 1 < len(suffix) <= 8 and suffix[1:].isascii() and suffix[1:].isalnum() else ".wav"


async def receive_upload(request: Request, folder: Path, suffix: str) -> Path:
    """Write the request body to a temporary file in `folder`; the file is removed if the
    body does not arrive whole (client gone, over the limit, server stopping)."""
    handle = await asyncio.to_thread(tempfile.NamedTemporaryFile, dir=folder, suffix=suffix, delete=False)
    path = Path(handle.name)
    try:
        async for block in request.stream():
            if block:
                await asyncio.to_thread(handle.write, block)
        await asyncio.to_thread(handle.close)
    except BaseException:
        handle.close()
        path.unlink(missing_ok=True)
        raise
    return path


def public_report(report: CallReport) -> CallReport:
    """The report as clients see it: without the server's own file paths (the model's)."""
    provenance = report.provenance
    recorded = provenance.model_dump()["stt"] if provenance is not None else None
    if not recorded or "model_path" not in recorded:
        return report
    stt = SttRecord.model_validate({k: v for k, v in recorded.items() if k != "model_path"})
    return report.model_copy(update={"provenance": provenance.model_copy(update={"stt": stt})})


@router.post("/rules/reload", summary="Reload rule files")
async def reload_rules(state: State) -> Any:
    """Load every rule file again. A broken file keeps the old rules; the answer (422) locates its problems."""
    try:
        described = await asyncio.to_thread(state.rules.reload)
    except RuleFileError as error:
        problems = [dataclasses.asdict(p) for p in error.problems]
        body = {"reloaded": False, "problems": problems, "rules": state.rules.summaries()}
        return JSONResponse(body, status_code=422)
    return {"reloaded": True, "rules": described}


@router.get("/rules", summary="Loaded rule sets")
async def list_rules(state: State) -> dict[str, Any]:
    return {"default": state.rules.default, "rules": state.rules.summaries()}


health_router = APIRouter()


@health_router.get("/healthz", summary="Liveness, load and capacity")
async def healthz(
    request: Request, state: State, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> dict[str, Any]:
    """Open to load-balancer probes: status and version. With the token (or on a server
    without one) also load, lag, uploads and capacity."""
    offered = f"Bearer {credentials.credentials}" if credentials else None
    return state.health(full=state.auth.allows(offered))
