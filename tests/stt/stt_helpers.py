"""Helpers for the speech-to-text tests: audio files made on the fly, a fake model.

A plain module, not a conftest.py: other test folders import their own ``conftest`` by
name, which a second conftest module here would shadow. The fake model lets the whole pipeline (windows, channels, time mapping, merge, t2s,
hallucination filter, cache) run in milliseconds: it "hears" tone bursts and answers with
the text assigned to each tone's frequency.
"""

from __future__ import annotations

import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import numpy as np

CODECS = {".mp3": "libmp3lame", ".m4a": "aac", ".flac": "flac", ".ogg": "libopus"}

# Tone frequency (Hz) -> what the fake model says for it.
TONE_TEXT = {
    300: "您好",
    500: "請問有什麼可以幫您",  # traditional on purpose: output must be simplified
    700: "字幕由Amara.org社群提供",  # a silence hallucination: must be dropped
    900: "再見",
}


def tone(seconds: float, sr: int, freq: float = 440.0, amp: float = 0.3) -> np.ndarray:
    """A sine burst, float32 in [-1, 1]."""
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def write_wav(path: Path, samples: np.ndarray, sr: int) -> Path:
    """Write (channels, n) float samples as 16-bit PCM WAV with the stdlib."""
    samples = np.atleast_2d(samples)
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2").T.copy()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(samples.shape[0])
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())
    return path


def write_audio(path: Path, samples: np.ndarray, sr: int) -> Path:
    """Write (channels, n) float samples; the codec follows the file's suffix."""
    if path.suffix == ".wav":
        return write_wav(path, samples, sr)
    samples = np.atleast_2d(samples).astype(np.float32)
    layout = "mono" if samples.shape[0] == 1 else "stereo"
    codec = CODECS[path.suffix]
    rate = 48_000 if codec == "libopus" else sr
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)
        resampler = av.AudioResampler(
            format=stream.codec_context.format.name, layout=layout, rate=rate
        )

        def encode(frame: av.AudioFrame | None) -> None:
            for f in resampler.resample(frame):
                for packet in stream.encode(f):
                    out.mux(packet)

        for i in range(0, samples.shape[1], 1024):
            block = np.ascontiguousarray(samples[:, i:i + 1024])
            frame = av.AudioFrame.from_ndarray(block, format="fltp", layout=layout)
            frame.sample_rate = sr
            encode(frame)
        encode(None)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def place(total: float, sr: int, bursts: list[tuple[float, float, int]]) -> np.ndarray:
    """A channel of ``total`` seconds, silent except tone bursts (start, seconds, freq)."""
    out = np.zeros(int(total * sr), np.float32)
    for start, seconds, freq in bursts:
        burst = tone(seconds, sr, freq)
        i = int(start * sr)
        out[i:i + burst.size] = burst
    return out


def energy_regions(samples: np.ndarray, pad: float = 0.0) -> list[tuple[int, int]]:
    """Runs of 10 ms blocks above a small level, widened by ``pad`` seconds each side."""
    block = 160
    n = samples.size // block
    loud = np.abs(samples[: n * block]).reshape(n, block).max(axis=1) > 0.01
    regions: list[tuple[int, int]] = []
    start = None
    for i, on in enumerate([*loud, False]):
        if on and start is None:
            start = i
        elif not on and start is not None:
            regions.append((start * block, i * block))
            start = None
    widen = int(pad * 16_000)
    padded: list[tuple[int, int]] = []
    for a, b in regions:
        a, b = max(0, a - widen), min(samples.size, b + widen)
        if padded and a <= padded[-1][1]:
            padded[-1] = (padded[-1][0], b)
        else:
            padded.append((a, b))
    return padded


def fake_vad(samples: np.ndarray, vad: Any) -> list[tuple[int, int]]:
    """Stand-in for Silero VAD (which ignores pure tones), padded like it."""
    return energy_regions(samples, vad.speech_pad_ms / 1000)


@dataclass
class FakeWord:
    start: float
    end: float
    word: str
    probability: float = 0.9


@dataclass
class FakeSegment:
    start: float
    end: float
    text: str
    words: list[FakeWord]
    no_speech_prob: float = 0.05
    avg_logprob: float = -0.2


@dataclass
class FakeWhisper:
    """Answers each tone burst in the audio with ``TONE_TEXT`` for its frequency."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    max_seconds: float = 0.0
    skip_once: bool = False  # first call: hear only the first burst, like Whisper's skips

    def transcribe(self, audio: np.ndarray, **kwargs: Any) -> tuple[list[FakeSegment], None]:
        self.calls.append(kwargs)
        self.max_seconds = max(self.max_seconds, audio.size / 16_000)
        segments = []
        for start, end in energy_regions(audio):
            burst = audio[start:end]
            crossings = np.count_nonzero(np.diff(np.signbit(burst)))
            freq = crossings / 2 / (burst.size / 16_000)
            nearest = min(TONE_TEXT, key=lambda f: abs(f - freq))
            text = TONE_TEXT[nearest]
            t0, t1 = start / 16_000, end / 16_000
            segments.append(FakeSegment(t0, t1, text, [FakeWord(t0, t1, text)]))
        if self.skip_once and len(self.calls) == 1:
            segments = segments[:1]
        return segments, None
