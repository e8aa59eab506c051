"""`/v1/stream`: one WebSocket connection is one live call.

A malformed message gets an `error` event and the connection stays usable. A client that
vanishes mid-call loses nothing: turns already heard are still transcribed and scored, and
the partial report is written to the server's out dir.
"""

from __future__ import annotations

import asyncio
import json
import logging

from fastapi import WebSocket
from pydantic import BaseModel, ValidationError
from starlette.websockets import WebSocketState

from qa_engine.live.audio import LiveEvent
from qa_engine.live.call import EmotionAlert, LiveCall
from qa_engine.live.streaming import StreamingAudioCall
from qa_engine.models import Finding, Utterance, UtteranceEmotion
from qa_engine.pii import RedactionError
from qa_engine.server.http import public_report
from qa_engine.server.protocol import (
    AlertMessage,
    BusyMessage,
    EmotionMessage,
    EndMessage,
    ErrorCode,
    ErrorMessage,
    FindingMessage,
    ReportMessage,
    StartedMessage,
    StartMessage,
    TranscriptMessage,
    UtteranceMessage,
    client_message,
)
from qa_engine.server.sanity import BadInput, parse_json
from qa_engine.server.state import ActiveCall, ServerState

log = logging.getLogger(__name__)

CLOSE_NORMAL = 1000
CLOSE_POLICY = 1008
CLOSE_TRY_LATER = 1013


def describe_validation(error: ValidationError) -> str:
    """The first few problems of a message, as `field: reason`."""
    parts = []
    for item in error.errors()[:3]:
        where = ".".join(str(p) for p in item["loc"]) or "message"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


async def stream_endpoint(websocket: WebSocket) -> None:
    state: ServerState = websocket.app.state.qa
    await websocket.accept()
    handler = StreamHandler(websocket, state)
    if not state.auth.allows(websocket.headers.get("authorization"), websocket.query_params.get("token")):
        await handler.send(ErrorMessage(code="unauthorized", message="missing or wrong bearer token"))
        await handler.close(CLOSE_POLICY)
        return
    await handler.run()


class StreamHandler:
    """The conversation on one connection: start, audio or utterances, end."""

    def __init__(self, websocket: WebSocket, state: ServerState) -> None:
        self.ws = websocket
        self.state = state
        self.call: LiveCall | None = None
        self.active: ActiveCall | None = None
        self.audio: StreamingAudioCall | None = None
        self.start: StartMessage | None = None
        self._send_lock = asyncio.Lock()
        self._open = True  # keep reading: frames already sent by the client are still used
        self._deliver = True  # the client still takes events

    async def run(self) -> None:
        idle = self.state.config.idle_timeout_s
        try:
            while self._open:
                try:
                    message = await asyncio.wait_for(self.ws.receive(), timeout=idle)
                except TimeoutError:
                    log.warning("call %s silent for %.0fs; treated as disconnected", self._call_id, idle)
                    await self.close(CLOSE_POLICY)
                    break
                if message["type"] == "websocket.disconnect":
                    self._open = self._deliver = False
                    break
                if message.get("bytes") is not None:
                    await self._on_bytes(message["bytes"])
                elif message.get("text") is not None:
                    await self._on_text(message["text"])
        finally:
            await self._abandon()

    @property
    def _call_id(self) -> str | None:
        return self.start.call_id if self.start else None

    async def send(self, message: BaseModel) -> None:
        """Send one event; a client that has gone is not an error (its call is still saved).

        A failed send stops delivery only: the frames the client sent before leaving are
        still read and scored until the disconnect itself arrives.
        """
        if not self._deliver:
            return
        try:
            payload = message.model_dump_json()
            payload.encode("utf-8")
        except (ValueError, UnicodeError):  # cannot be sent as JSON text: say so, keep the connection
            log.exception("event of call %s could not be encoded", self._call_id)
            payload = ErrorMessage(code="internal", message="an event could not be encoded and was dropped").model_dump_json()
        async with self._send_lock:
            try:
                await self.ws.send_text(payload)
            except Exception:
                self._deliver = False

    async def close(self, code: int) -> None:
        self._open = self._deliver = False
        if self.ws.application_state == WebSocketState.CONNECTED:
            try:
                await self.ws.close(code)
            except Exception:
                log.debug("close after the client left", exc_info=True)

    async def error(self, code: ErrorCode, message: str) -> None:
        await self.send(ErrorMessage(code=code, message=message))

    async def _on_text(self, text: str) -> None:
        limit = self.state.config.max_message_bytes
        if len(text) > limit or len(text.encode()) > limit:
            await self.error("message_too_large", f"JSON messages are limited to {limit} bytes; message ignored")
            return
        try:
            data = parse_json(text, self.state.config.max_json_depth)
        except json.JSONDecodeError as exc:
            await self.error("bad_json", f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
            return
        except BadInput as exc:  # NaN, a lone surrogate, too deep: refused before the engine sees it
            await self.error("invalid_message", f"{exc.where}: {exc.problem}; message ignored")
            return
        try:
            message = client_message.validate_python(data)
        except ValidationError as exc:
            await self.error("invalid_message", describe_validation(exc))
            return
        if isinstance(message, StartMessage):
            await self._on_start(message)
        elif self.call is None:
            await self.error("not_started", "send a 'start' message first")
        elif isinstance(message, UtteranceMessage):
            await self._on_utterance(message)
        elif isinstance(message, EndMessage):
            await self._on_end()

    async def _on_bytes(self, data: bytes) -> None:
        if self.call is None or self.start is None:
            await self.error("not_started", "send a 'start' message before audio")
        elif self.audio is None:
            await self.error("wrong_mode", "binary audio frames need mode 'audio'; this call is in transcript mode")
        elif len(data) > self.state.config.max_frame_bytes:
            await self.error(
                "frame_too_large",
                f"audio frames are limited to {self.state.config.max_frame_bytes} bytes, got {len(data)}; frame dropped",
            )
        else:
            self.audio.feed(data)

    async def _on_start(self, start: StartMessage) -> None:
        state = self.state
        if self.call is not None:
            await self.error("already_started", f"call {self._call_id} is in progress on this connection")
            return
        try:
            rules = state.rules.get(start.rules)
        except KeyError:
            names = ", ".join(state.rules.names())
            await self.error("unknown_rules", f"no rule set '{start.rules}'; loaded: {names}")
            return
        if start.call_id in state.calls:
            await self.error("call_in_progress", f"call {start.call_id} is already streaming on another connection")
            return
        refusal = state.refusal(start.mode)
        if refusal:
            state.refused += 1
            await self.send(BusyMessage(message=f"server busy: {refusal}; try again later"))
            await self.close(CLOSE_TRY_LATER)
            return
        active = ActiveCall(start.call_id, start.mode)
        state.calls[start.call_id] = active  # reserved before any await
        try:
            stt = await state.stt_record() if start.mode == "audio" else None
        except Exception as exc:
            del state.calls[start.call_id]
            await self.error("internal", f"speech-to-text is unavailable: {exc}")
            return
        call = LiveCall(
            rules.engine, start.call_id, start.agent_id, roles=start.roles, source=f"live:{start.mode}", stt=stt
        )
        if start.mode == "audio":
            self.audio = active.audio = StreamingAudioCall(
                call, state.recognizer, state.worker, self._on_event, start.sample_rate, start.roles, state.endpoint
            )
        self.start, self.call, self.active = start, call, active
        await self.send(
            StartedMessage(call_id=start.call_id, mode=start.mode, rules=rules.name, rules_sha256=rules.engine.rules.sha256)
        )

    async def _on_utterance(self, message: UtteranceMessage) -> None:
        if self.audio is not None:
            await self.error("wrong_mode", "utterance events need mode 'transcript'; this call is in audio mode")
            return
        assert self.call is not None
        try:
            findings = self.call.feed(message.utterance())
        except RedactionError as exc:  # fail closed: the turn is dropped, never scored, sent or saved
            log.warning("call %s: a turn was dropped: %s", self.call.call_id, exc)
            await self.error("redaction_failed", f"{exc}; send the next turn")
            return
        felt = self.call.felt()
        for finding in findings:
            await self._send_finding(finding)
        for event in felt:
            await self._send_felt(event)

    async def _send_felt(self, event) -> None:
        if self.start is None or not self.start.emotion:
            return
        if isinstance(event, EmotionAlert):
            await self.send(AlertMessage(**event.model_dump()))
        else:
            await self.send(EmotionMessage(**event.model_dump()))

    async def _on_event(self, event: LiveEvent) -> None:
        """A recognised utterance (before it is scored) or a finding (after)."""
        assert self.call is not None
        if isinstance(event, Utterance):
            fields = event.model_dump()
            await self.send(TranscriptMessage(**fields, index=len(self.call.utterances)))
        elif isinstance(event, UtteranceEmotion | EmotionAlert):
            await self._send_felt(event)
        else:
            await self._send_finding(event)

    async def _send_finding(self, finding: Finding, at_end: bool = False) -> None:
        assert self.call is not None
        decided_at = None if at_end else len(self.call.utterances) - 1
        await self.send(FindingMessage(**finding.model_dump(), decided_at=decided_at))

    async def _on_end(self) -> None:
        assert self.call is not None and self.active is not None
        if self.audio is not None:
            await self.audio.finish()
        decided = len(self.call.session.findings)
        report = self.call.close()
        await self._save(report, partial=False)  # on disk before the client hears of it
        for finding in self.call.session.findings[decided:]:
            await self._send_finding(finding, at_end=True)
        await self.send(ReportMessage(**public_report(report).model_dump()))
        await self.close(CLOSE_NORMAL)

    async def _abandon(self) -> None:
        """The connection is gone: finish what was heard and save the partial report."""
        call, active = self.call, self.active
        if call is None or active is None:
            return
        try:
            if not call.closed:
                if self.audio is not None:
                    await self.audio.finish()
                await self._save(call.report(), partial=True)
                log.warning("call %s disconnected mid-call; partial report saved", call.call_id)
        finally:
            self.state.finished_audio(active)
            self.state.calls.pop(active.call_id, None)

    async def _save(self, report, partial: bool) -> None:
        assert self.call is not None
        transcript = self.call.transcript() if self.audio is not None else None
        try:
            heard = self.call.transcript() if self.state.store is not None and transcript is None else None
            await asyncio.to_thread(self.state.archive.save, report, transcript, partial, heard)
        except OSError:
            log.exception("could not save the report of call %s", report.call_id)
