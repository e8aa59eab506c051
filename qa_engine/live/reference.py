"""A stand-in recognizer that answers from a reference transcript instead of a model.

It lets the whole live path (decoding, endpointing, ordering, scoring, the server) run
in milliseconds, so tests and benchmarks can tell the pipeline's own latency from
Whisper's. A chunk of audio is "heard" as the reference utterances lying inside it;
with cross-talk one channel's chunk may also contain the other party's words, so use
it on calls without overlapping speech.
"""

from __future__ import annotations

import time

import numpy as np

from qa_engine.models import CallTranscript
from qa_engine.stt.audio import SAMPLE_RATE
from qa_engine.stt.utterances import TimedText

TOLERANCE_S = 0.35
"""How far an utterance may stick out of a chunk (VAD padding and timing jitter)."""


class ReferenceRecognizer:
    def __init__(self, transcript: CallTranscript, delay_s: float = 0.0) -> None:
        self.utterances = sorted(transcript.utterances, key=lambda u: u.start)
        self.delay_s = delay_s
        self.calls = 0

    def transcribe_samples(self, samples: np.ndarray, offset: float = 0.0) -> list[TimedText]:
        self.calls += 1
        if self.delay_s:
            time.sleep(self.delay_s)
        end = offset + len(samples) / SAMPLE_RATE
        return [
            TimedText(u.start, u.end, u.text)
            for u in self.utterances
            if u.start >= offset - TOLERANCE_S and u.end <= end + TOLERANCE_S
        ]

    def stt_record(self) -> dict:
        return {"engine": "reference transcript", "utterances": len(self.utterances)}
