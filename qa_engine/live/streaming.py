"""Live audio to findings on an event loop, many calls sharing one speech-to-text worker.

Frames are decoded and endpointed as they arrive (cheap, on the loop); each finished turn
is queued on the `SttWorker` at once, and the results are fed to the call strictly in the
order the turns finished, whatever order the lanes complete them in, so the engine sees
the same sequence the synchronous `AudioCall` would.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from qa_engine.live.audio import LiveEvent, Recognizer, chunk_utterances
from qa_engine.live.call import LiveCall
from qa_engine.live.segmenter import AudioSegmenter
from qa_engine.live.vad import EndpointConfig, SpeechChunk
from qa_engine.live.worker import LIVE, SttWorker
from qa_engine.models import Speaker
from qa_engine.pii import RedactionError

log = logging.getLogger(__name__)

EventSink = Callable[[LiveEvent], Awaitable[None]]


class StreamingAudioCall:
    """One live call's audio; events go to `sink` as soon as each turn is transcribed and scored."""

    def __init__(
        self,
        call: LiveCall,
        recognizer: Recognizer,
        worker: SttWorker,
        sink: EventSink,
        sample_rate: int = 8000,
        roles: tuple[Speaker, ...] = ("agent", "customer"),
        endpoint: EndpointConfig | None = None,
    ) -> None:
        self.call = call
        self.recognizer = recognizer
        self.worker = worker
        self.sink = sink
        self.roles = roles
        self.segmenter = AudioSegmenter(sample_rate, len(roles), endpoint)
        self.failed_turns = 0
        self._order: asyncio.Queue[tuple[SpeechChunk, asyncio.Future] | None] = asyncio.Queue()
        self._consumer = asyncio.create_task(self._consume())

    @property
    def seconds(self) -> float:
        """Audio received so far (the call's clock)."""
        return self.segmenter.seconds

    @property
    def pending(self) -> int:
        """Turns endpointed but not yet transcribed and scored."""
        return self._order.qsize()

    def feed(self, data: bytes, channel: int | None = None) -> None:
        """Interleaved s16le frames (or one channel's); returns at once."""
        for chunk in self.segmenter.push(data, channel):
            self._submit(chunk)

    async def finish(self) -> None:
        """End of audio: finish the turns in progress and wait until all are scored."""
        for chunk in self.segmenter.finish():
            self._submit(chunk)
        self._order.put_nowait(None)
        await self._consumer

    def _submit(self, chunk: SpeechChunk) -> None:
        job = self.worker.submit(
            self.recognizer.transcribe_samples, chunk.samples, chunk.start, priority=LIVE, key=self.call.call_id
        )
        self._order.put_nowait((chunk, asyncio.ensure_future(job)))

    async def _consume(self) -> None:
        while (item := await self._order.get()) is not None:
            chunk, job = item
            try:
                pieces = await job
            except Exception:  # one bad turn must not end the call
                self.failed_turns += 1
                log.exception("transcription of %s %.2f-%.2fs failed", self.call.call_id, chunk.start, chunk.end)
                continue
            for utterance in chunk_utterances(chunk, pieces, self.roles):
                try:
                    utterance = self.call.hear(utterance)
                except RedactionError as exc:  # fail closed: the turn is dropped (the message names no text)
                    self.failed_turns += 1
                    log.warning("call %s: %s", self.call.call_id, exc)
                    continue
                await self._emit(utterance)
                findings = self.call.feed(utterance)
                for event in [*findings, *self.call.felt()]:
                    await self._emit(event)

    async def _emit(self, event: LiveEvent) -> None:
        try:
            await self.sink(event)
        except Exception:  # the listener is gone; the call is still scored and saved
            log.debug("event for %s not delivered", self.call.call_id, exc_info=True)
