"""Calls distributed over a Ray cluster: transcription in actors, rule scoring in tasks.

- **Transcription** runs in a pool of long-lived actors (`Listener`), each loading the
  Whisper model once: CPU actors reserve ``cpu_threads`` CPUs each (2 unless set), one
  per that many CPUs of every alive node; when the cluster has GPUs (and the device is
  not forced to ``cpu``) one actor per GPU, decoding with the batched pipeline in float16.
- **Rule scoring** runs in Ray tasks (`_score`); a worker process builds its `Engine` once
  and keeps it for every later task. A transcript call is one task; an audio call is an
  actor call whose result (an object reference, never fetched by the driver) feeds the
  scoring task.
- **Backpressure**: at most ``2 × slots`` calls are in flight (slots: actors, or CPUs for
  a transcript-only batch); the driver pulls the next source only when one finishes, so
  memory stays flat on a million-call batch.
- **Failures**: an actor killed mid-call is restarted and its calls retried
  (``max_restarts``/``max_task_retries``); a scoring task whose worker died is retried
  (``max_retries``). A call still failing after its retries becomes a failed report, as a
  crashed local worker does. Reports are written by the driver only, once per call, so a
  retried call is never duplicated.

Inputs, the rule file and the transcript cache must be on a filesystem every node sees
(the same path everywhere); outputs are written by the driver.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa_engine.batch import CallOutcome, CallScorer, Heard, failed_report
from qa_engine.engine import Engine
from qa_engine.inputs import CallSource
from qa_engine.models import CallTranscript
from qa_engine.rulefile import load_rules

RETRIES = 3
"""Times a call is retried after its actor or worker process died."""

DEFAULT_ACTOR_THREADS = 2
"""CPU threads (and Ray CPUs) per transcription actor when --threads is not given:
the bench's sweet spot (two threads per call transcribe at RTF ≈ 0.1)."""

GPU_BATCH_SIZE = 8
"""Windows decoded together by a GPU actor when no --batch-size is given."""


class RayUnavailableError(RuntimeError):
    """Ray is not installed, or no cluster answers at the address."""


@dataclass(frozen=True)
class WorkerConfig:
    """What every remote worker needs to build its scorer; small, sent once (ray.put)."""

    rules_path: str | None
    stt_options: Any = None
    cache_dir: Path | None = None
    keep_pii: bool = False
    redact: bool = True


_SCORERS: dict[WorkerConfig, CallScorer] = {}


def _scorer(config: WorkerConfig) -> CallScorer:
    """This worker process's scorer for `config`, built on first use (rules, spaCy)."""
    scorer = _SCORERS.get(config)
    if scorer is None:
        engine = Engine(load_rules(config.rules_path), keep_pii=config.keep_pii)
        scorer = _SCORERS[config] = CallScorer(engine, config.stt_options, config.cache_dir)
    return scorer


class Listener:
    """A transcription actor: one loaded model, calls heard one after another."""

    def __init__(self, config: WorkerConfig) -> None:
        self.config = config
        self.scorer = _scorer(config)

    def hear(self, source: CallSource) -> Heard:
        return self.scorer.hear(source, redact=self.config.redact)

    def pid(self) -> int:
        return os.getpid()


def _score(config: WorkerConfig, source: CallSource, heard: Heard | None) -> CallOutcome:
    scorer = _scorer(config)
    return scorer.score_heard(source, heard if heard is not None else scorer.hear(source))


def _ray():
    try:
        import ray
    except ImportError as error:
        raise RayUnavailableError(
            "--ray needs Ray: pip install 'qa-engine[ray]' (or pip install ray) on the "
            "driver and on every node, in the same version"
        ) from error
    return ray


def connect(address: str):
    """Join the cluster at `address` ('auto': the one `ray start` made on this machine or
    $RAY_ADDRESS; 'local': a throwaway single-node cluster; or HOST:PORT / ray://…)."""
    ray = _ray()
    if ray.is_initialized():
        return ray
    try:
        ray.init(
            address=None if address == "local" else address,
            logging_level="WARNING",
            log_to_driver=False,
            include_dashboard=False if address == "local" else None,
        )
    except (ConnectionError, RuntimeError, ValueError) as error:
        raise RayUnavailableError(
            f"no Ray cluster at {address!r}: {error}. Start one (`ray start --head`), set "
            "RAY_ADDRESS, or pass its address: --ray HOST:6379"
        ) from error
    return ray


@dataclass
class _Plan:
    """How the pool is laid out on the cluster as it is now."""

    actors: int
    actor_options: dict[str, Any]
    stt_options: Any
    slots: int


def plan(resources: list[dict[str, float]], stt_options, actors: int | None = None) -> _Plan:
    """Actors and their resources for alive nodes' `resources` (Ray's per-node dicts).

    GPU nodes get one actor per GPU (device cuda, batched decoding); otherwise each actor
    reserves as many CPUs as it runs threads, as many as fit on each node.
    """
    gpus = sum(int(node.get("GPU", 0)) for node in resources)
    device = getattr(stt_options, "device", "auto") if stt_options is not None else "auto"
    cpus = [int(node.get("CPU", 0)) for node in resources]
    if gpus and device != "cpu":
        options = stt_options and stt_options.model_copy(update={
            "device": "cuda", "batch_size": stt_options.batch_size or GPU_BATCH_SIZE,
        })
        count = actors or gpus
        return _Plan(count, {"num_gpus": 1, "num_cpus": 1}, options, max(count, 1))
    threads = (stt_options.cpu_threads if stt_options is not None else 0) or DEFAULT_ACTOR_THREADS
    threads = max(1, min(threads, max(cpus, default=1) or 1))
    # Only what the actor changes is set: a local run with the same --threads records the
    # same options, so its reports are byte for byte those of the cluster run.
    options = stt_options and stt_options.model_copy(update={"cpu_threads": threads})
    count = actors or max(1, sum(c // threads for c in cpus))
    return _Plan(count, {"num_cpus": threads}, options, max(count, 1))


def _alive_resources(ray) -> list[dict[str, float]]:
    return [node["Resources"] for node in ray.nodes() if node.get("Alive")]


class _Pool:
    """Long-lived transcription actors, made on the first audio call, least-loaded first."""

    def __init__(self, ray, config: WorkerConfig, layout: _Plan) -> None:
        remote = ray.remote(max_restarts=-1, max_task_retries=RETRIES)(Listener)
        self.actors = [remote.options(**layout.actor_options).remote(config) for _ in range(layout.actors)]
        self.load = [0] * len(self.actors)

    def pick(self) -> int:
        return min(range(len(self.actors)), key=self.load.__getitem__)


def _pump(
    ray,
    sources: Iterable[CallSource],
    submit: Callable[[CallSource], tuple[Any, int | None]],
    limit: int,
    pool_load: Callable[[], list[int]],
) -> Iterator[tuple[CallSource, Any, Exception | None]]:
    """Submit sources with at most `limit` in flight; yield (source, result, error) as each
    finishes (an error when the call failed even after its retries)."""
    in_flight: dict[Any, tuple[CallSource, int | None]] = {}
    for source in itertools.chain(sources, [None]):
        if source is not None:
            ref, actor = submit(source)
            in_flight[ref] = (source, actor)
            if len(in_flight) < limit:
                continue
        while in_flight and (source is None or len(in_flight) >= limit):
            done, _ = ray.wait(list(in_flight), num_returns=1)
            for ref in done:
                origin, actor = in_flight.pop(ref)
                if actor is not None:
                    pool_load()[actor] -= 1
                try:
                    yield origin, ray.get(ref), None
                except Exception as error:  # retries spent: the call fails alone
                    yield origin, None, error


def run_on_ray(
    sources: Iterable[CallSource],
    engine: Engine,
    finish: Callable[[CallOutcome], None],
    *,
    address: str,
    rules_path: str | None,
    stt_options=None,
    cache_dir: Path | None = None,
    actors: int | None = None,
) -> None:
    """Score `sources` on the cluster at `address`, calling `finish` in this process for
    each call as it completes (the caller writes and counts, as for a local run)."""
    ray = connect(address)
    resources = _alive_resources(ray)
    layout = plan(resources, stt_options, actors)
    config = WorkerConfig(rules_path, layout.stt_options, cache_dir, engine.keep_pii)
    config_ref = ray.put(config)
    cpus = max(1, int(sum(node.get("CPU", 0) for node in resources)))
    pool: _Pool | None = None
    score = ray.remote(max_retries=RETRIES)(_score)
    transcripts_only = score.options(num_cpus=1)
    # Beside the actors, which hold the CPUs, scoring takes no reservation: it is about
    # 1 % of a call's transcription time, and in-flight calls are bounded anyway.
    after_actor = score.options(num_cpus=0)

    def submit(source: CallSource) -> tuple[Any, int | None]:
        nonlocal pool
        if source.audio is None or source.error:
            return transcripts_only.remote(config_ref, source, None), None
        if pool is None:
            pool = _Pool(ray, config, layout)
        index = pool.pick()
        pool.load[index] += 1
        heard = pool.actors[index].hear.remote(source)
        return after_actor.remote(config_ref, source, heard), index

    limit = 2 * max(layout.slots if stt_options is not None else cpus, 1)
    try:
        for source, outcome, error in _pump(ray, sources, submit, limit, lambda: pool.load):
            if error is not None:
                outcome = CallOutcome(failed_report(
                    engine, source, f"{source.origin}: worker failed after {RETRIES} retries: {_first_line(error)}"
                ))
            finish(outcome)
    finally:
        if pool is not None:
            for actor in pool.actors:
                ray.kill(actor)


def iter_transcripts_on_ray(
    sources: Iterable[CallSource],
    stt_options,
    *,
    address: str,
    cache_dir: Path | None = None,
    rules_path: str | None = None,
    keep_pii: bool = False,
    actors: int | None = None,
) -> Iterator[tuple[CallSource, CallTranscript | None, str | None]]:
    """`qa transcribe` on the cluster: (source, transcript or None, error or None) for each
    audio source, in completion order; redacted before the cache (by the rule file's
    `redact:` section) unless `keep_pii`, as locally."""
    ray = connect(address)
    layout = plan(_alive_resources(ray), stt_options, actors)
    config = WorkerConfig(rules_path, layout.stt_options, cache_dir, keep_pii=keep_pii)
    pool = _Pool(ray, config, layout)

    def submit(source: CallSource) -> tuple[Any, int]:
        index = pool.pick()
        pool.load[index] += 1
        return pool.actors[index].hear.remote(source), index

    try:
        for source, heard, error in _pump(ray, sources, submit, 2 * layout.slots, lambda: pool.load):
            if error is not None:
                yield source, None, f"{source.origin}: worker failed after {RETRIES} retries: {_first_line(error)}"
            else:
                yield source, heard.transcript, heard.error
    finally:
        for actor in pool.actors:
            ray.kill(actor)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


__all__ = ["RayUnavailableError", "WorkerConfig", "connect", "iter_transcripts_on_ray", "plan", "run_on_ray"]
