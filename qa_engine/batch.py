"""Score many calls: transcripts and audio, in worker processes, losing none.

Each call is scored on its own; a call that fails (bad JSON, corrupt audio) becomes a
report with status "failed" and its error, and the batch goes on. Workers transcribe
and score; only the parent writes files, so outputs never interleave.
"""

from __future__ import annotations

import bisect
import gc
import itertools
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from qa_engine.engine import Engine
from qa_engine.fsutil import safe_name, write_atomic
from qa_engine.inputs import CallSource
from qa_engine.models import CallReport, CallTranscript
from qa_engine.pii import RedactionError
from qa_engine.report.writer import ReportSink
from qa_engine.rulefile import load_rules
from qa_engine.voice import attach_voice

KEPT_REPORTS = 50
"""Reports a summary keeps for the terminal table (the first by call id); the rest are
counted only, so a batch's memory does not grow with its size."""
KEPT_FAILURES = 200


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
    """The first `KEPT_REPORTS` reports by call id (all of them in a small batch)."""
    failures: list[tuple[str, str]] = field(default_factory=list)
    """(call id, error) of the first `KEPT_FAILURES` failed calls."""

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.scored if self.scored else None

    @property
    def real_time_factor(self) -> float | None:
        """Wall time spent on audio calls over their audio duration."""
        return self.stt_seconds / self.audio_seconds if self.audio_seconds else None

    def keep(self, report: CallReport) -> None:
        """Count a finished call; keep it only while it is among the first by call id."""
        if report.status == "scored":
            self.scored += 1
            self.passed += bool(report.passed)
        else:
            self.failed += 1
            if len(self.failures) < KEPT_FAILURES:
                self.failures.append((report.call_id, report.error or ""))
        if len(self.reports) < KEPT_REPORTS:
            bisect.insort(self.reports, report, key=lambda r: r.call_id)
        elif report.call_id < self.reports[-1].call_id:
            self.reports.pop()
            bisect.insort(self.reports, report, key=lambda r: r.call_id)


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


@dataclass
class Heard:
    """What speech-to-text made of one source: its transcript, or why there is none.

    The first half of scoring a call, on its own so it can run where the model is loaded
    (a Ray actor) and the rules where they are (a Ray task)."""

    transcript: CallTranscript | None = None
    audio_seconds: float = 0.0
    error: str | None = None
    seconds: float = 0.0


def failure_message(source: CallSource, error: Exception) -> str:
    """The error a failed call's report carries: always naming the file it came from."""
    if isinstance(error, RedactionError):
        return f"{source.origin}: {error}"
    return f"{source.origin}: {error}" if source.origin not in str(error) else str(error)


class CallScorer:
    """Scores one source: reads or transcribes it, then runs the engine."""

    def __init__(self, engine: Engine, stt_options=None, cache_dir: Path | None = None) -> None:
        self.engine = engine
        self.stt_options = stt_options
        self.cache_dir = cache_dir
        self._transcriber = None

    def transcribe(self, audio: Path, redact: bool = True) -> CallTranscript:
        from qa_engine.stt import Transcriber, transcribe_cached

        if self._transcriber is None:
            self._transcriber = Transcriber(self.stt_options)
        redactor = self.engine.redactor if redact else None
        return transcribe_cached(audio, cache_dir=self.cache_dir, transcriber=self._transcriber, redactor=redactor)

    def _roles(self) -> tuple[str, ...]:
        options = self._transcriber.options if self._transcriber is not None else None
        return tuple(options.channel_roles) if options is not None else ("agent", "customer")

    def hear(self, source: CallSource, redact: bool = True) -> Heard:
        """The source's transcript (read, or transcribed through the cache), or its error."""
        started = time.perf_counter()
        if source.error:
            return Heard(error=source.error)
        if source.audio is None:
            return Heard(source.transcript)
        try:
            transcript = self.transcribe(source.audio, redact)
            transcript = attach_voice(transcript, source.audio, self._roles())
        except Exception as error:  # one bad call must not stop the batch
            return Heard(error=failure_message(source, error), seconds=time.perf_counter() - started)
        stt = transcript.stt
        audio_seconds = float(stt.duration if stt and "duration" in stt.model_fields_set else 0.0)
        return Heard(transcript, audio_seconds, seconds=time.perf_counter() - started)

    def score_heard(self, source: CallSource, heard: Heard) -> CallOutcome:
        """The second half: redact and score what was heard; any failure is a failed report."""
        started = time.perf_counter()
        if heard.error is not None:
            return CallOutcome(failed_report(self.engine, source, heard.error))
        try:
            assert heard.transcript is not None
            transcript = self.engine.redact(heard.transcript)  # fail closed: raises, never returns it raw
            report = self.engine.score(transcript)
        except Exception as error:  # one bad call must not stop the batch
            return CallOutcome(failed_report(self.engine, source, failure_message(source, error)))
        seconds = heard.seconds + time.perf_counter() - started
        return CallOutcome(report, transcript, source.audio, heard.audio_seconds, seconds)

    def __call__(self, source: CallSource) -> CallOutcome:
        return self.score_heard(source, self.hear(source))


_WORKER: CallScorer | None = None


def _init_worker(rules_path: str | None, stt_options, cache_dir: Path | None, keep_pii: bool = False) -> None:
    global _WORKER
    _WORKER = CallScorer(Engine(load_rules(rules_path), keep_pii=keep_pii), stt_options, cache_dir)
    gc.freeze()  # a worker's rule set lives as long as the worker: never scan it again


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
    ray_address: str | None = None,
) -> BatchSummary:
    """Score every source not already in `sink.done`; write each report as it is ready.

    `sources` is consumed lazily and at most a few calls per worker are in flight, so
    memory stays flat however many calls there are. A call id seen earlier in the same
    run is recorded as a failed duplicate, never written over the first one. With
    `ray_address` the calls are scored on a Ray cluster (`qa_engine.distributed`); only
    where the work runs changes: this process still reads, writes and counts every call.
    """
    summary = BatchSummary()
    started = time.perf_counter()
    seen: dict[str, str] = {}  # call id -> where it was first read in this run

    def todo() -> Iterator[CallSource]:
        for source in sources:
            summary.calls += 1
            if source.key in seen:
                first = seen[source.key]
                error = f"{source.origin}: duplicate call_id '{source.key}' (already read from {first}); give each call its own id"
                source = CallSource(source.key, source.origin, error=error)
            else:
                seen[source.key] = source.origin
                if source.key in sink.done:
                    summary.skipped += 1
                    continue
            yield source

    def finish(outcome: CallOutcome) -> None:
        report = outcome.report
        if outcome.audio is not None and outcome.transcript is not None:
            path = sink.out_dir / f"{safe_name(report.call_id)}.transcript.json"
            write_atomic(path, outcome.transcript.model_dump_json(indent=1))
            summary.audio_seconds += outcome.audio_seconds
            summary.stt_seconds += outcome.seconds
        sink.write(report)
        summary.keep(report)
        if on_done:
            on_done(outcome)

    pending = todo()
    if ray_address is not None:
        from qa_engine.distributed import run_on_ray

        run_on_ray(
            pending, engine, finish, address=ray_address, rules_path=rules_path,
            stt_options=stt_options, cache_dir=cache_dir,
        )
    elif workers <= 1:
        scorer = CallScorer(engine, stt_options, cache_dir)
        for source in pending:
            finish(scorer(source))
    else:
        first = list(itertools.islice(pending, 2))
        if len(first) <= 1:
            scorer = CallScorer(engine, stt_options, cache_dir)
            for source in first:
                finish(scorer(source))
        else:
            _run_pool(itertools.chain(first, pending), engine, finish, workers, (rules_path, stt_options, cache_dir, engine.keep_pii))
    summary.wall_seconds = time.perf_counter() - started
    return summary


def _run_pool(sources: Iterator[CallSource], engine: Engine, finish, workers: int, initargs) -> None:
    """Score in worker processes with a bounded number of calls in flight."""
    workers = min(workers, os.cpu_count() or 1)
    limit = 2 * workers
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=initargs) as pool:
        futures: dict = {}
        for source in itertools.chain(sources, [None]):
            if source is not None:
                futures[pool.submit(_work, source)] = source
                if len(futures) < limit:
                    continue
            while futures and (source is None or len(futures) >= limit):
                done, _ = wait(futures, return_when=FIRST_COMPLETED)
                for future in done:
                    origin = futures.pop(future)
                    try:
                        outcome = future.result()
                    except Exception as error:  # a worker died (e.g. out of memory)
                        outcome = CallOutcome(
                            failed_report(engine, origin, f"{origin.origin}: worker failed: {error}")
                        )
                    finish(outcome)


def transcribe_all(
    paths, options, redactor, cache_dir: Path | None = None, *, ray_address: str | None = None,
    rules_path: str | None = None, keep_pii: bool = False,
) -> Iterator[tuple[CallSource, CallTranscript | None, str | None]]:
    """`qa transcribe`: (source, transcript, None) or (source, None, error) for every recording,
    locally or on a Ray cluster; transcripts are redacted before the cache write unless keep_pii."""
    from qa_engine.inputs import iter_calls
    from qa_engine.stt import Transcriber, transcribe_cached

    audio = []
    for source in iter_calls(paths):
        if source.audio is not None:
            audio.append(source)
        elif source.error:
            yield source, None, source.error
    if ray_address is not None:
        from qa_engine.distributed import iter_transcripts_on_ray

        yield from iter_transcripts_on_ray(
            audio, options, address=ray_address, cache_dir=cache_dir, rules_path=rules_path, keep_pii=keep_pii
        )
        return
    transcriber = Transcriber(options)
    for source in audio:
        try:
            yield source, transcribe_cached(source.audio, cache_dir=cache_dir, transcriber=transcriber, redactor=redactor), None
        except Exception as error:  # record and go on with the other files (a RedactionError names no text)
            yield source, None, f"{source.audio}: {error}"
