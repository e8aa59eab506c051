"""Score many calls: transcripts and audio, in worker processes, losing none.

Each call is scored on its own; a call that fails (bad JSON, corrupt audio) becomes a
report with status "failed" and its error, and the batch goes on. Workers transcribe
and score; only the parent writes files, so outputs never interleave.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from .engine import Engine
from .fsutil import safe_name, write_atomic
from .inputs import CallSource
from .models import CallReport, CallTranscript
from .pii import RedactionError
from .report.writer import ReportSink
from .rulefile import load_rules


@dataclass
class BatchSummary:
    calls: int = 0
    scored: int = 0
    failed: int = 0
    skipped: int = 0
    passed: int = 0
    audio_seconds: float = 0.0
    stt_seconds: float = 0.0
    wall_seconds: float = 0.0
    reports: list[CallReport] = field(default_factory=list)

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.scored if self.scored else None

    @property
    def real_time_factor(self) -> float | None:
        """Wall time spent on audio calls over their audio duration."""
        return self.stt_seconds / self.audio_seconds if self.audio_seconds else None


@dataclass
class CallOutcome:
    report: CallReport
    transcript: CallTranscript | None = None
    audio: Path | None = None
    audio_seconds: float = 0.0
    seconds: float = 0.0


def failed_report(engine: Engine, source: CallSource, error: str) -> CallReport:
    return CallReport(
        call_id=source.key,
        status="failed",
        error=error,
        provenance=engine.provenance(source=source.origin),
    )


class CallScorer:
    """Scores one source: reads or transcribes it, then runs the engine."""

    def __init__(self, engine: Engine, stt_options=None, cache_dir: Path | None = None) -> None:
        self.engine = engine
        self.stt_options = stt_options
        self.cache_dir = cache_dir
        self._transcriber = None

    def transcribe(self, audio: Path) -> CallTranscript:
        from .stt import Transcriber, transcribe_cached

        if self._transcriber is None:
            self._transcriber = Transcriber(self.stt_options)
        return transcribe_cached(
            audio, cache_dir=self.cache_dir, transcriber=self._transcriber, redactor=self.engine.redactor
        )

    def __call__(self, source: CallSource) -> CallOutcome:
        started = time.perf_counter()
        if source.error:
            return CallOutcome(failed_report(self.engine, source, source.error))
        transcript = source.transcript
        audio_seconds = 0.0
        try:
            if source.audio is not None:
                transcript = self.transcribe(source.audio)
                audio_seconds = float((transcript.stt or {}).get("duration", 0.0))
            assert transcript is not None
            transcript = self.engine.redact(transcript)  # fail closed: raises, never returns it raw
            report = self.engine.score(transcript)
        except RedactionError as error:
            return CallOutcome(failed_report(self.engine, source, f"{source.origin}: {error}"))
        except Exception as error:  # one bad call must not stop the batch
            message = f"{source.origin}: {error}" if source.origin not in str(error) else str(error)
            return CallOutcome(failed_report(self.engine, source, message))
        seconds = time.perf_counter() - started
        return CallOutcome(report, transcript, source.audio, audio_seconds, seconds)


_WORKER: CallScorer | None = None


def _init_worker(rules_path: str | None, stt_options, cache_dir: Path | None, keep_pii: bool = False) -> None:
    global _WORKER
    _WORKER = CallScorer(Engine(load_rules(rules_path), keep_pii=keep_pii), stt_options, cache_dir)


def _work(source: CallSource) -> CallOutcome:
    assert _WORKER is not None
    return _WORKER(source)


def run_batch(
    sources: Iterable[CallSource],
    engine: Engine,
    sink: ReportSink,
    *,
    rules_path: str | None = None,
    stt_options=None,
    cache_dir: Path | None = None,
    workers: int = 1,
    on_done: Callable[[CallOutcome], None] | None = None,
) -> BatchSummary:
    """Score every source not already in `sink.done`; write each report as it is ready."""
    summary = BatchSummary()
    started = time.perf_counter()
    todo = []
    for source in sources:
        summary.calls += 1
        if source.key in sink.done:
            summary.skipped += 1
        else:
            todo.append(source)

    def finish(outcome: CallOutcome) -> None:
        report = outcome.report
        if outcome.audio is not None and outcome.transcript is not None:
            path = sink.out_dir / f"{safe_name(report.call_id)}.transcript.json"
            write_atomic(path, outcome.transcript.model_dump_json(indent=1))
            summary.audio_seconds += outcome.audio_seconds
            summary.stt_seconds += outcome.seconds
        sink.write(report)
        summary.reports.append(report)
        if report.status == "scored":
            summary.scored += 1
            summary.passed += bool(report.passed)
        else:
            summary.failed += 1
        if on_done:
            on_done(outcome)

    if workers <= 1 or len(todo) <= 1:
        scorer = CallScorer(engine, stt_options, cache_dir)
        for source in todo:
            finish(scorer(source))
    else:
        with ProcessPoolExecutor(
            max_workers=min(workers, len(todo), os.cpu_count() or 1),
            initializer=_init_worker,
            initargs=(rules_path, stt_options, cache_dir, engine.keep_pii),
        ) as pool:
            futures = {pool.submit(_work, source): source for source in todo}
            for future in as_completed(futures):
                try:
                    outcome = future.result()
                except Exception as error:  # a worker died (e.g. out of memory)
                    source = futures[future]
                    outcome = CallOutcome(failed_report(engine, source, f"{source.origin}: worker failed: {error}"))
                finish(outcome)
    summary.wall_seconds = time.perf_counter() - started
    return summary
