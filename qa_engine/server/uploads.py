"""Recordings uploaded to `POST /v1/calls`: bounded, counted and cancellable.

- Before any transcription the recording's length is read from its header (a WAV's RIFF
  header, else the container) and one longer than `max_call_seconds` is refused (413); the
  bound is checked again as windows are decoded, for files whose header does not say.
- Uploads queued or being transcribed are counted: at most `max_uploads` (503 beyond), and
  their expected remaining transcription time is part of the lag that admission control
  of live audio calls sees (an upload holds a speech-to-text lane until it is done).
- `cancel_all()` (server shutdown) stops every upload at its next window or channel.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import HTTPException

from qa_engine.live.worker import BATCH, SttWorker
from qa_engine.models import CallTranscript
from qa_engine.server.config import ServerConfig

log = logging.getLogger(__name__)


class UploadCancelled(Exception):
    """The server is stopping: the upload's transcription was abandoned."""


class UploadTooLong(Exception):
    def __init__(self, seconds: float, limit: float) -> None:
        self.seconds, self.limit = seconds, limit
        super().__init__(f"the recording is longer than {limit:.0f} s (at least {seconds:.0f} s)")


@dataclass
class UploadJob:
    seconds: float
    queued_at: float = field(default_factory=time.monotonic)
    started_at: float | None = None
    cancelled: threading.Event = field(default_factory=threading.Event)

    def remaining(self, load: float) -> float:
        """Expected seconds of speech-to-text work still to do."""
        spent = 0.0 if self.started_at is None else time.monotonic() - self.started_at
        return max(0.0, self.seconds * load - spent)


class Uploads:
    def __init__(self, config: ServerConfig, worker: SttWorker) -> None:
        self.config = config
        self.worker = worker
        self.jobs: dict[int, UploadJob] = {}
        self._ids = itertools.count()
        self.refused = 0

    @property
    def running(self) -> int:
        return sum(1 for job in self.jobs.values() if job.started_at is not None)

    @property
    def queued(self) -> int:
        return len(self.jobs) - self.running

    def backlog(self, load: float) -> float:
        """Expected speech-to-text seconds of the uploads queued or running."""
        return sum(job.remaining(load) for job in list(self.jobs.values()))

    def cancel_all(self) -> None:
        for job in list(self.jobs.values()):
            job.cancelled.set()

    async def transcribe(
        self, path: Path, *, recognizer, call_id: str, agent_id: str | None, filename: str, redactor=None
    ) -> CallTranscript:
        """Check, queue and transcribe one uploaded recording; HTTPException for the client's faults.

        With a ``redactor`` the transcript is redacted before the cache write (and returned so)."""
        from qa_engine.pii import RedactionError
        from qa_engine.stt import AudioError, transcribe_cached

        if len(self.jobs) >= self.config.max_uploads:
            self.refused += 1
            raise HTTPException(
                503, f"server busy: {len(self.jobs)} uploads in progress; try again later", headers={"Retry-After": "30"}
            )
        limit = self.config.max_call_seconds
        key = next(self._ids)
        job = self.jobs[key] = UploadJob(0.0)  # counted from now: the probe is work too
        try:
            try:
                job.seconds = await asyncio.to_thread(declared_seconds, path)
            except AudioError as exc:
                raise HTTPException(422, f"{filename}: {exc.problem}. {exc.hint}") from None
            if job.seconds > limit:
                raise HTTPException(
                    413, f"{filename}: its header says {job.seconds:.0f} s of audio; this server takes "
                    f"recordings up to {limit:.0f} s (max_call_seconds)",
                )
            takes_progress = "progress" in inspect.signature(recognizer.transcribe).parameters

            def progress(seconds: float) -> None:
                if job.cancelled.is_set():
                    raise UploadCancelled()
                if seconds > limit:
                    raise UploadTooLong(seconds, limit)

            def run() -> CallTranscript:
                job.started_at = time.monotonic()
                progress(0.0)
                return transcribe_cached(
                    path,
                    cache_dir=self.config.cache_dir,
                    transcriber=recognizer,
                    call_id=call_id,
                    agent_id=agent_id,
                    progress=progress if takes_progress else None,
                    redactor=redactor,
                )

            try:
                return await self.worker.submit(run, priority=BATCH)
            except asyncio.CancelledError:
                job.cancelled.set()  # the request was cancelled (server stopping): stop the work too
                raise
            except AudioError as exc:
                raise HTTPException(422, f"{filename}: {exc.problem}. {exc.hint}") from None
            except UploadTooLong as exc:
                raise HTTPException(413, f"{filename}: {exc}; the limit is max_call_seconds") from None
            except RedactionError as exc:  # fail closed: nothing of the call is saved
                raise HTTPException(500, f"{filename}: {exc}") from None
            except UploadCancelled:
                raise HTTPException(503, "the server is shutting down; upload again later") from None
        finally:
            del self.jobs[key]


def declared_seconds(path: Path) -> float:
    """How long the recording says it is, read from its header without decoding it.

    Raises `AudioError` for a file that is not usable audio, including nonsense headers
    (no channels, no sample rate) that would otherwise fail deep inside the decoder.
    """
    from qa_engine.stt.audio import AudioError, _wav_declared_seconds, probe

    try:
        info = probe(path)
    except AudioError:
        raise
    except Exception as exc:  # the decoder library failed on a malformed header
        raise AudioError(path, f"not a readable audio file ({type(exc).__name__})", "send a wav, flac, mp3 or ogg") from None
    if not info.channels or not info.sample_rate or info.sample_rate < 0:
        raise AudioError(path, "its header declares no channels or no sample rate", "send a wav, flac, mp3 or ogg")
    try:
        wav = _wav_declared_seconds(path)
    except (ValueError, ZeroDivisionError, OverflowError):
        wav = None
    return max(wav or 0.0, info.duration or 0.0)
