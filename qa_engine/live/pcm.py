"""Raw telephony audio in: 16-bit little-endian PCM at 8 or 16 kHz, out as 16 kHz float32.

Frames from a socket arrive in any size, so a trailing half sample is carried over to the
next frame. 8 kHz audio is resampled with FFmpeg's resampler (PyAV), the one the batch
path uses, so a call streamed live is heard like the same call scored from its file.
"""

from __future__ import annotations

import av
import numpy as np

from qa_engine.stt.audio import SAMPLE_RATE

SUPPORTED_RATES = (8000, 16000)
SAMPLE_WIDTH = 2
"""Bytes per sample: s16le."""


class ChannelDecoder:
    """One channel's s16 samples to 16 kHz float32, resampler state kept between frames."""

    def __init__(self, sample_rate: int) -> None:
        if sample_rate not in SUPPORTED_RATES:
            raise ValueError(f"sample rate {sample_rate} not supported; use one of {SUPPORTED_RATES}")
        self.sample_rate = sample_rate
        self._resampler = (
            None if sample_rate == SAMPLE_RATE else av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        )

    def decode(self, pcm: np.ndarray) -> np.ndarray:
        """s16 samples (any length) to float32 at 16 kHz."""
        if pcm.size == 0:
            return np.zeros(0, np.float32)
        if self._resampler is None:
            return pcm.astype(np.float32) / 32768.0
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm, dtype=np.int16)[None, :], format="s16", layout="mono")
        frame.sample_rate = self.sample_rate
        return self._collect(self._resampler.resample(frame))

    def flush(self) -> np.ndarray:
        """The resampler's last few samples (its filter delay), at the end of the stream."""
        if self._resampler is None:
            return np.zeros(0, np.float32)
        return self._collect(self._resampler.resample(None))

    @staticmethod
    def _collect(frames: list) -> np.ndarray:
        if not frames:
            return np.zeros(0, np.float32)
        return np.concatenate([f.to_ndarray().reshape(-1) for f in frames]).astype(np.float32, copy=False)


class PcmDecoder:
    """s16le bytes, interleaved or one channel at a time, to one float32 array per channel."""

    def __init__(self, sample_rate: int, channels: int) -> None:
        if channels not in (1, 2):
            raise ValueError(f"expected 1 or 2 channels, got {channels}")
        self.channels = channels
        self._decoders = [ChannelDecoder(sample_rate) for _ in range(channels)]
        self._carry = b""
        self._channel_carry = [b""] * channels

    def interleaved(self, data: bytes) -> list[np.ndarray]:
        """Decode interleaved frames (L R L R … for stereo)."""
        data = self._carry + data
        step = SAMPLE_WIDTH * self.channels
        usable = len(data) - len(data) % step
        self._carry = data[usable:]
        pcm = np.frombuffer(data[:usable], dtype="<i2").reshape(-1, self.channels)
        return [decoder.decode(pcm[:, index]) for index, decoder in enumerate(self._decoders)]

    def channel(self, index: int, data: bytes) -> np.ndarray:
        """Decode a mono frame of channel `index` (for platforms that send each leg apart)."""
        data = self._channel_carry[index] + data
        usable = len(data) - len(data) % SAMPLE_WIDTH
        self._channel_carry[index] = data[usable:]
        return self._decoders[index].decode(np.frombuffer(data[:usable], dtype="<i2"))

    def flush(self) -> list[np.ndarray]:
        return [decoder.flush() for decoder in self._decoders]
