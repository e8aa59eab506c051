"""What one server process shares between its calls: rules, the speech model and its
worker, admission control, the calls in progress and where reports go."""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException

from qa_engine import __version__
from qa_engine.engine import Engine
from qa_engine.live.audio import Recognizer
from qa_engine.live.capacity import CallLoad, Capacity
from qa_engine.live.streaming import StreamingAudioCall
from qa_engine.live.worker import LIVE, SttWorker
from qa_engine.models import CallReport, CallTranscript
from qa_engine.server.archive import Archive
from qa_engine.server.auth import TokenCheck
from qa_engine.server.config import ServerConfig
from qa_engine.server.rules import RuleLibrary
from qa_engine.server.uploads import Uploads

log = logging.getLogger(__name__)


@dataclass
class ActiveCall:
    call_id: str
    mode: str
    audio: StreamingAudioCall | None = None


class ServerState:
    def __init__(self, config: ServerConfig, recognizer: Recognizer | None = None) -> None:
        self.config = config
        self.rules = RuleLibrary(config.rules, keep_pii=config.keep_pii)
        self.auth = TokenCheck(config.token)
        self.store = None
        if config.db:
            import secrets

            from qa_engine.store import Store

            self.store = Store(config.db)
            self.session_secret = secrets.token_bytes(32)
        self.archive = Archive(config.out_dir, on_saved=self.store_report if self.store else None)
        self.worker = SttWorker(config.stt_lanes)
        self.capacity = Capacity(config.capacity, config.stt_lanes)
        self.endpoint = config.endpoint_config()
        self.uploads = Uploads(config, self.worker)
        self._scoring = ThreadPoolExecutor(config.score_workers, thread_name_prefix="qa-score")
        self._scores_pending = 0
        self.calls: dict[str, ActiveCall] = {}
        self.refused = 0
        self.started_at = time.time()
        self._recognizer = recognizer
        self._stt_record: dict[str, Any] | None = None

    @property
    def recognizer(self) -> Recognizer:
        """The shared speech-to-text model wrapper, created on first use (the model loads lazily)."""
        if self._recognizer is None:
            from qa_engine.stt import Transcriber

            self._recognizer = Transcriber(self.config.stt)
        return self._recognizer

    async def stt_record(self) -> dict[str, Any] | None:
        """How live audio is transcribed, for the reports' provenance (loads the model once)."""
        if self._stt_record is None:
            record = getattr(self.recognizer, "stt_record", None)
            base = await self.worker.submit(record, priority=LIVE) if callable(record) else {}
            self._stt_record = dict(base) | {"live": {"endpointing": self.endpoint.model_dump()}}
        return self._stt_record

    async def preload(self) -> None:
        try:
            await self.stt_record()
        except Exception:  # reported again, with its cause, to the first audio call
            log.exception("speech-to-text model could not be loaded")

    async def score(self, engine: Engine, transcript: CallTranscript) -> CallReport:
        """Score on the scoring threads, off the event loop; 503 when too many are waiting."""
        if self._scores_pending >= self.config.max_pending_scores:
            raise HTTPException(503, "server busy: too many transcripts being scored; try again later",
                                headers={"Retry-After": "5"})
        self._scores_pending += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._scoring, engine.score, transcript)
        finally:
            self._scores_pending -= 1

    def store_report(self, report: CallReport, transcript: CallTranscript | None) -> None:
        """Keep a finished call in the results database (`--db`); blocking, call off the loop."""
        if self.store is not None:
            self.store.write_reports([(report, transcript)])

    def close(self) -> None:
        """Server shutdown: stop uploads at their next window, let scoring threads finish."""
        self.uploads.cancel_all()
        self._scoring.shutdown(wait=False, cancel_futures=True)

    def stt_lag(self) -> float:
        """How far behind the speech-to-text lanes are: the oldest queued job's wait, or the
        expected remaining work of uploads (each holds a lane until done), whichever is more."""
        uploads = self.uploads.backlog(self.capacity.estimate) / self.worker.lanes
        return max(self.worker.lag(), uploads)

    def audio_loads(self) -> list[CallLoad]:
        return [
            CallLoad(call.audio.seconds, self.worker.seconds_for(call.call_id))
            for call in self.calls.values()
            if call.audio is not None
        ]

    def refusal(self, mode: str) -> str | None:
        """Why a new call of `mode` must get `busy`, or None."""
        if mode == "audio":
            return self.capacity.refusal(self.audio_loads(), self.stt_lag())
        transcript_calls = sum(1 for c in self.calls.values() if c.mode == "transcript")
        if transcript_calls >= self.config.max_transcript_calls:
            return f"at the limit of {self.config.max_transcript_calls} transcript calls"
        return None

    def finished_audio(self, call: ActiveCall) -> None:
        """Learn the call's transcription load, then forget it."""
        if call.audio is not None:
            self.capacity.observe(CallLoad(call.audio.seconds, self.worker.seconds_for(call.call_id)))
        self.worker.forget(call.call_id)

    def health(self, full: bool = True) -> dict[str, Any]:
        """Liveness for anyone; load and capacity only with `full` (an authorised caller).

        No file paths either way: rule sets are described by name, title and hash.
        """
        if not full:
            return {"status": "ok", "version": __version__}
        loads = self.audio_loads()
        rules = {name: {k: v for k, v in info.items() if k != "path"} for name, info in self.rules.summaries().items()}
        return {
            "status": "ok",
            "version": __version__,
            "uptime_s": round(time.time() - self.started_at, 1),
            "rules": rules,
            "default_rules": self.rules.default,
            "calls": {
                "audio": len(loads),
                "transcript": sum(1 for c in self.calls.values() if c.mode == "transcript"),
                "refused": self.refused,
            },
            "stt": {
                "model_loaded": self._stt_record is not None,
                "lanes": self.worker.lanes,
                "queued": self.worker.queued,
                "lag_s": round(self.stt_lag(), 3),
                "uploads": {
                    "running": self.uploads.running,
                    "queued": self.uploads.queued,
                    "backlog_s": round(self.uploads.backlog(self.capacity.estimate), 1),
                },
                "jobs_done": self.worker.jobs_done,
                "busy_s": round(self.worker.busy_seconds, 2),
            },
            "capacity": {
                "audio_calls": self.capacity.computed(loads),
                "load_per_call": round(self.capacity.per_call(loads), 3),
                "measured_calls": self.capacity.measured_calls,
                "policy": self.capacity.policy.model_dump(),
            },
        }
