"""Live audio to findings, synchronously: each finished turn is transcribed at once.

This is the Python API for one call in one thread (a script, a telephony plug-in). The
server uses the same pieces but queues transcription on a shared worker
(`qa_engine.live.worker`) so many calls can share one Whisper model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np

from qa_engine.live.call import EmotionAlert, LiveCall
from qa_engine.live.segmenter import AudioSegmenter
from qa_engine.live.vad import EndpointConfig, SpeechChunk
from qa_engine.models import CallReport, Finding, Speaker, Utterance, UtteranceEmotion
from qa_engine.voice import with_voice

if TYPE_CHECKING:
    from qa_engine.stt.utterances import TimedText

LiveEvent = Utterance | Finding | UtteranceEmotion | EmotionAlert
"""What a live call yields: a recognised utterance, its emotion (and an alert when the customer
escalates), or a finding as soon as it is decided."""


class Recognizer(Protocol):
    """What live audio needs from speech-to-text: `stt.Transcriber.transcribe_samples`."""

    def transcribe_samples(self, samples: np.ndarray, offset: float = 0.0) -> list[TimedText]: ...


def chunk_utterances(chunk: SpeechChunk, pieces: list[TimedText], roles: tuple[Speaker, ...]) -> list[Utterance]:
    """The recognised pieces of a chunk as utterances of the chunk's channel."""
    speaker = roles[chunk.channel]
    return [
        with_voice(
            Utterance(speaker=speaker, start=round(float(start), 3), end=round(float(max(end, start)), 3), text=text),
            chunk.samples,
            chunk.start,
        )
        for start, end, text in pieces
        if text.strip()
    ]


class AudioCall:
    """Audio frames of one call in; transcripts and findings out as each turn ends."""

    def __init__(
        self,
        call: LiveCall,
        recognizer: Recognizer,
        sample_rate: int = 8000,
        roles: tuple[Speaker, ...] = ("agent", "customer"),
        endpoint: EndpointConfig | None = None,
    ) -> None:
        self.call = call
        self.recognizer = recognizer
        self.roles = roles
        self.segmenter = AudioSegmenter(sample_rate, len(roles), endpoint)

    def feed(self, data: bytes, channel: int | None = None) -> list[LiveEvent]:
        """Interleaved s16le frames (or one channel's, with `channel`); blocks while transcribing."""
        return self._hear(self.segmenter.push(data, channel))

    def flush(self) -> list[LiveEvent]:
        """End of audio: transcribe the turns still in progress."""
        return self._hear(self.segmenter.finish())

    def close(self) -> CallReport:
        """Finish the audio and the call; the report holds every finding."""
        self.flush()
        return self.call.close()

    def _hear(self, chunks: list[SpeechChunk]) -> list[LiveEvent]:
        events: list[LiveEvent] = []
        for chunk in chunks:
            pieces = self.recognizer.transcribe_samples(chunk.samples, chunk.start)
            for utterance in chunk_utterances(chunk, pieces, self.roles):
                utterance = self.call.hear(utterance)
                events.append(utterance)
                findings = self.call.feed(utterance)
                events.extend(findings)
                events.extend(self.call.felt())  # after the findings: each finding follows its utterance
        return events
