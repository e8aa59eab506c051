"""A call's raw audio in, finished turns out: PCM decoding plus one endpointer per channel.

Each party has its own channel and its own endpointer, so both can speak at once: an
interruption is simply two turns whose times overlap, as on the batch path.
"""

from __future__ import annotations

from qa_engine.live.pcm import PcmDecoder
from qa_engine.live.vad import EndpointConfig, Endpointer, SileroStream, SpeechChunk


class AudioSegmenter:
    """Splits a live call's audio into per-channel speech chunks as frames arrive."""

    def __init__(self, sample_rate: int, channels: int, config: EndpointConfig | None = None, vad_session=None) -> None:
        self.decoder = PcmDecoder(sample_rate, channels)
        self.endpointers = [
            Endpointer(index, config, SileroStream(vad_session)) for index in range(channels)
        ]
        self.finished = False

    @property
    def seconds(self) -> float:
        """The stream clock: audio heard so far on the furthest channel."""
        return max(e.seconds for e in self.endpointers)

    def push(self, data: bytes, channel: int | None = None) -> list[SpeechChunk]:
        """Interleaved s16le frames (`channel` None) or one channel's mono frames."""
        if self.finished:
            raise RuntimeError("audio arrived after the stream was finished")
        if channel is None:
            decoded = self.decoder.interleaved(data)
            chunks = [c for e, samples in zip(self.endpointers, decoded, strict=True) for c in e.push(samples)]
        else:
            if not 0 <= channel < len(self.endpointers):
                raise ValueError(f"channel {channel} out of range (call has {len(self.endpointers)})")
            chunks = self.endpointers[channel].push(self.decoder.channel(channel, data))
        return sorted(chunks, key=lambda c: (c.end, c.channel))

    def finish(self) -> list[SpeechChunk]:
        """End of the call: turns still in progress are finished as they stand."""
        if self.finished:
            return []
        self.finished = True
        tails = self.decoder.flush()
        chunks = [c for e, tail in zip(self.endpointers, tails, strict=True) for c in e.push(tail)]
        chunks += [c for e in self.endpointers for c in e.flush()]
        return sorted(chunks, key=lambda c: (c.end, c.channel))
