"""The speech-to-text lane(s) of a server: every call's turns queue here.

Transcription is the bottleneck (seconds per turn on a CPU), so one model per process is
shared and its jobs serialised on a thread (or a small pool of lanes): never two calls
racing for the same cores, and the queue's lag is a number the server can act on (refuse
new calls with `busy` rather than let everyone fall behind). Live turns go before batch
uploads. CTranslate2 releases the GIL, so the event loop stays responsive meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import queue
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

LIVE = 0
BATCH = 1


@dataclass
class _Job:
    priority: int
    seq: int
    enqueued: float
    fn: Callable[..., Any]
    args: tuple
    key: str | None
    future: asyncio.Future
    loop: asyncio.AbstractEventLoop


class SttWorker:
    """Runs blocking speech-to-text jobs on `lanes` threads, in priority then arrival order."""

    def __init__(self, lanes: int = 1) -> None:
        if lanes < 1:
            raise ValueError("lanes must be at least 1")
        self.lanes = lanes
        self._queue: queue.PriorityQueue = queue.PriorityQueue()
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self._waiting: dict[int, float] = {}
        self._threads: list[threading.Thread] = []
        self._seconds: dict[str, float] = defaultdict(float)
        self.waits: deque[float] = deque(maxlen=200)
        self.busy_seconds = 0.0
        self.jobs_done = 0

    def start(self) -> None:
        if self._threads:
            return
        for index in range(self.lanes):
            thread = threading.Thread(target=self._run, name=f"qa-stt-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 5.0) -> None:
        """Let queued jobs finish, then end the threads."""
        for _ in self._threads:
            self._queue.put((99, next(self._seq), None))
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []

    async def submit(self, fn: Callable[..., Any], *args: Any, priority: int = LIVE, key: str | None = None) -> Any:
        """Run `fn(*args)` on a lane; `key` (a call id) is charged the seconds it takes."""
        if not self._threads:
            self.start()
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        seq = next(self._seq)
        now = time.monotonic()
        with self._lock:
            self._waiting[seq] = now
        self._queue.put((priority, seq, _Job(priority, seq, now, fn, args, key, future, loop)))
        return await future

    def lag(self) -> float:
        """Seconds the oldest queued job has waited: how far behind real time the lane is."""
        with self._lock:
            oldest = min(self._waiting.values(), default=None)
        return 0.0 if oldest is None else time.monotonic() - oldest

    @property
    def queued(self) -> int:
        with self._lock:
            return len(self._waiting)

    def seconds_for(self, key: str) -> float:
        return self._seconds.get(key, 0.0)

    def forget(self, key: str) -> None:
        self._seconds.pop(key, None)

    def _run(self) -> None:
        while True:
            _, _, job = self._queue.get()
            if job is None:
                return
            started = time.monotonic()
            with self._lock:
                self._waiting.pop(job.seq, None)
            self.waits.append(started - job.enqueued)
            try:
                result, error = job.fn(*job.args), None
            except BaseException as exc:  # delivered to the awaiting coroutine
                result, error = None, exc
            spent = time.monotonic() - started
            with self._lock:
                self.busy_seconds += spent
                self.jobs_done += 1
                if job.key is not None:
                    self._seconds[job.key] += spent
            with contextlib.suppress(RuntimeError):  # the event loop is gone (shutting down)
                job.loop.call_soon_threadsafe(_settle, job.future, result, error)


def _settle(future: asyncio.Future, result: Any, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
