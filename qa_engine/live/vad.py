"""Voice-activity endpointing on one live channel: when has this party finished a turn?

The Silero VAD bundled in faster-whisper is used as a stream. Its `SileroVADModel.__call__`
is made for whole files: it zeroes the LSTM state on every call, so fed frame by frame it
would forget the speech it just heard. `SileroStream` runs the same ONNX session but keeps
the state and the 64-sample context between frames; over a whole channel it gives exactly
the probabilities of one batch call (tests/live/test_vad.py checks this).

`Endpointer` turns those probabilities into finished chunks of speech with the hysteresis
of faster-whisper's `get_speech_timestamps` (speech starts above `threshold`, ends after
`min_silence_s` below `threshold - 0.15`), padded on both sides. A turn longer than
`max_utterance_s` is cut at its last short pause (or hard, if it has none) so the time
from a word to its finding stays bounded however long the speaker goes on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from qa_engine.stt.audio import SAMPLE_RATE
from qa_engine.stt.options import VadParams

WINDOW = 512
"""Samples per Silero decision at 16 kHz (32 ms)."""
CONTEXT = 64
SHORT_PAUSE_S = 0.1
"""A pause this long inside a turn is a fair place to cut an over-long turn."""


class EndpointConfig(BaseModel):
    """When a turn starts and ends. Defaults follow the batch path's `VadParams`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold: float = Field(0.5, gt=0, lt=1)
    min_silence_s: float = Field(0.5, gt=0, description="Silence that ends a turn")
    speech_pad_s: float = Field(0.2, ge=0, description="Audio kept on each side of the speech")
    min_speech_s: float = Field(0.1, ge=0, description="Shorter bursts (clicks, breaths) are dropped")
    max_utterance_s: float = Field(15.0, ge=2, description="Longer turns are cut so latency stays bounded")

    @property
    def neg_threshold(self) -> float:
        return max(self.threshold - 0.15, 0.01)

    @classmethod
    def from_vad(cls, vad: VadParams, **overrides: float) -> EndpointConfig:
        """The batch transcriber's VAD settings, so live and batch cut speech alike."""
        return cls(
            threshold=vad.threshold,
            min_silence_s=max(vad.min_silence_duration_ms / 1000, 0.1),
            speech_pad_s=vad.speech_pad_ms / 1000,
            min_speech_s=max(vad.min_speech_duration_ms / 1000, 0.1),
            **overrides,
        )


class SileroStream:
    """Silero speech probabilities for a stream, one per 512-sample window, state kept."""

    def __init__(self, session=None) -> None:
        if session is None:
            from faster_whisper.vad import get_vad_model

            session = get_vad_model().session  # one ONNX session per process, thread-safe
        self._session = session
        self._h = np.zeros((1, 1, 128), np.float32)
        self._c = np.zeros((1, 1, 128), np.float32)
        self._context = np.zeros(CONTEXT, np.float32)

    def probabilities(self, windows: np.ndarray) -> np.ndarray:
        """Probabilities of `windows` (shape (n, 512)), continuing from the previous call."""
        if len(windows) == 0:
            return np.zeros(0, np.float32)
        previous = np.concatenate([self._context[None, :], windows[:-1, -CONTEXT:]], axis=0)
        batch = np.concatenate([previous, windows], axis=1).astype(np.float32, copy=False)
        out, self._h, self._c = self._session.run(None, {"input": batch, "h": self._h, "c": self._c})
        self._context = windows[-1, -CONTEXT:].copy()
        return np.asarray(out, np.float32).reshape(-1)


@dataclass(frozen=True)
class SpeechChunk:
    """A finished stretch of one channel's speech, in 16 kHz samples, timed on the stream clock."""

    channel: int
    start: float
    samples: np.ndarray
    cut: bool = False
    """True when ended by `max_utterance_s` rather than by silence (the turn goes on)."""

    @property
    def end(self) -> float:
        return self.start + len(self.samples) / SAMPLE_RATE


@dataclass
class _Turn:
    start: int  # sample index of the chunk's first sample (padding included)
    windows: list[np.ndarray] = field(default_factory=list)
    speech_windows: int = 0
    silence_since: int | None = None
    last_pause: int | None = None  # middle of the latest short pause, for cutting

    def audio(self) -> np.ndarray:
        return np.concatenate(self.windows) if self.windows else np.zeros(0, np.float32)


class Endpointer:
    """Cuts one channel's audio into finished turns as it streams in."""

    def __init__(self, channel: int = 0, config: EndpointConfig | None = None, vad: SileroStream | None = None) -> None:
        self.channel = channel
        self.config = config or EndpointConfig()
        self.vad = vad or SileroStream()
        self._pending = np.zeros(0, np.float32)  # less than a window, waiting for more
        self._position = 0  # samples consumed into windows
        self._preroll: list[np.ndarray] = []
        self._turn: _Turn | None = None
        rate = SAMPLE_RATE
        self._pad = int(self.config.speech_pad_s * rate)
        self._min_silence = int(self.config.min_silence_s * rate)
        self._min_speech_windows = max(1, int(np.ceil(self.config.min_speech_s * rate / WINDOW)))
        self._max_len = int(self.config.max_utterance_s * rate)
        self._preroll_windows = int(np.ceil(self._pad / WINDOW)) + 1

    @property
    def seconds(self) -> float:
        """How much of this channel has been heard (the stream clock)."""
        return (self._position + len(self._pending)) / SAMPLE_RATE

    @property
    def in_speech(self) -> bool:
        return self._turn is not None

    def push(self, samples: np.ndarray) -> list[SpeechChunk]:
        """Add 16 kHz float32 samples; return the turns they finish."""
        data = np.concatenate([self._pending, np.asarray(samples, np.float32)])
        whole = len(data) - len(data) % WINDOW
        self._pending = data[whole:]
        if not whole:
            return []
        windows = data[:whole].reshape(-1, WINDOW)
        probs = self.vad.probabilities(windows)
        chunks: list[SpeechChunk] = []
        for window, prob in zip(windows, probs, strict=True):
            chunk = self._step(window, float(prob))
            self._position += WINDOW
            if chunk is not None:
                chunks.append(chunk)
        return chunks

    def flush(self) -> list[SpeechChunk]:
        """End of the stream: the turn in progress, if any, is finished as it stands."""
        turn = self._turn
        self._turn = None
        if turn is None:
            return []
        if len(self._pending):
            turn.windows.append(self._pending)
            self._pending = np.zeros(0, np.float32)
        if turn.speech_windows < self._min_speech_windows:
            return []
        return [SpeechChunk(self.channel, turn.start / SAMPLE_RATE, turn.audio())]

    def _step(self, window: np.ndarray, prob: float) -> SpeechChunk | None:
        config = self.config
        here = self._position
        turn = self._turn
        if turn is None:
            self._preroll.append(window)
            del self._preroll[: -self._preroll_windows]
            if prob >= config.threshold:
                pad_windows = self._preroll[:-1][-int(np.ceil(self._pad / WINDOW)) :] if self._pad else []
                start = here - WINDOW * len(pad_windows)
                self._turn = _Turn(start, [*pad_windows, window], speech_windows=1)
                self._preroll = []
            return None
        turn.windows.append(window)
        if prob >= config.threshold:
            turn.speech_windows += 1
            if turn.silence_since is not None and here - turn.silence_since >= SHORT_PAUSE_S * SAMPLE_RATE:
                turn.last_pause = (turn.silence_since + here) // 2
            turn.silence_since = None
        elif prob < config.neg_threshold:
            if turn.silence_since is None:
                turn.silence_since = here
            if here + WINDOW - turn.silence_since >= self._min_silence:
                return self._finish(turn, turn.silence_since + self._pad)
        if here + WINDOW - turn.start >= self._max_len:
            return self._cut(turn, here + WINDOW)
        return None

    def _finish(self, turn: _Turn, end: int) -> SpeechChunk | None:
        """The turn ended in silence: keep the speech plus padding, the rest is preroll."""
        audio = turn.audio()
        keep = min(max(end - turn.start, 0), len(audio))
        self._turn = None
        self._preroll = turn.windows[-self._preroll_windows :]
        if turn.speech_windows < self._min_speech_windows:
            return None
        return SpeechChunk(self.channel, turn.start / SAMPLE_RATE, audio[:keep])

    def _cut(self, turn: _Turn, now: int) -> SpeechChunk:
        """An over-long turn: cut in the pause going on, else at its last pause in the
        later half, else right here (mid-word, but latency stays bounded)."""
        audio = turn.audio()
        short = SHORT_PAUSE_S * SAMPLE_RATE
        if turn.silence_since is not None and now - turn.silence_since >= short:
            at = turn.silence_since + min(self._pad, (now - turn.silence_since) // 2)
            rest_speech, silence_since = 0, turn.silence_since  # the rest is silence so far
        elif turn.last_pause is not None and turn.last_pause - turn.start > self._max_len // 2:
            at, rest_speech, silence_since = turn.last_pause, self._min_speech_windows, turn.silence_since
        else:
            at, rest_speech, silence_since = now, self._min_speech_windows, turn.silence_since
        keep = at - turn.start
        head, rest = audio[:keep], audio[keep:]
        self._turn = _Turn(at, [rest] if len(rest) else [], rest_speech, silence_since)
        return SpeechChunk(self.channel, turn.start / SAMPLE_RATE, head, cut=True)
