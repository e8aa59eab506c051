"""Turn a call recording into a ``CallTranscript`` with faster-whisper.

Each channel of a stereo recording is one party, so each is transcribed on its own and
the results interleaved by time; that is what lets the engine attribute words to agent or
customer and see interruptions. Audio is processed window by window (bounded memory), the
model is loaded only when first needed, and every transcript records the settings used.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from qa_engine.models import CallTranscript, Speaker
from qa_engine.stt.audio import (
    SAMPLE_RATE,
    AudioError,
    AudioWindow,
    is_silent,
    iter_windows,
    probe,
)
from qa_engine.stt.hallucination import (
    is_hallucination,
    is_known_hallucination,
    is_silence_hallucination,
    rms,
)
from qa_engine.stt.model_loader import load_whisper
from qa_engine.stt.normalize import tidy
from qa_engine.stt.options import STTOptions, VadParams
from qa_engine.stt.short_window import decode_turn
from qa_engine.stt.speech import (
    PackedSpeech,
    clip_windows,
    find_speech,
    pack_speech,
    uncovered_spans,
    vad_padding,
)
from qa_engine.stt.utterances import TimedText, TimedWord, merge_channels, split_at_pauses

__all__ = ["STTOptions", "Transcriber", "VadParams", "WhisperLike", "file_sha256"]

log = logging.getLogger(__name__)

# Skipped stretches retried one by one after the batched retry, at most (cost bound).
_MAX_SINGLE_RETRIES = 8

# Identical channels within this (after 16-bit rounding) mean a mono call saved as stereo.
_SAME_CHANNEL_TOLERANCE = 2e-3


@dataclass
class _Decoded:
    """One Whisper pass: kept words, every span it produced text for, segments dropped.

    Dropped (hallucinated) segments count as heard: Whisper did not skip that audio, so
    transcribing it again would only invent the same text.
    """

    words: list[TimedWord] = field(default_factory=list)  # times in the channel's window
    heard: list[tuple[float, float]] = field(default_factory=list)
    dropped: int = 0


class WhisperLike(Protocol):
    """What the transcriber needs from a model: faster-whisper's ``transcribe``."""

    def transcribe(self, audio: np.ndarray, **kwargs: Any) -> tuple[Iterable[Any], Any]: ...


def file_sha256(path: str | os.PathLike[str]) -> str:
    """sha256 of a file's bytes, read in blocks (a one-hour WAV is over 100 MB)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


class Transcriber:
    """Holds the options and (once loaded) the model; reuse one for many calls.

    ``model`` may be given directly (any object with faster-whisper's ``transcribe``),
    which tests use to run the whole pipeline without weights.
    """

    def __init__(
        self,
        options: STTOptions | None = None,
        *,
        model: WhisperLike | None = None,
        model_cache_dir: Path | None = None,
    ) -> None:
        self.options = options or STTOptions()
        self.model_cache_dir = model_cache_dir
        self._model = model
        self._load_lock = threading.Lock()
        self._batched = None  # faster-whisper's BatchedInferencePipeline, made on first use
        self._model_record: dict[str, Any] = (
            {"model_path": None, "device": "injected", "compute_type": None}
            if model is not None else {}
        )

    @property
    def model(self) -> WhisperLike:
        """The Whisper model, loaded on first use (seconds, and the model's size in RAM).

        Loading is locked so server threads sharing one transcriber load it once.
        """
        if self._model is None:
            with self._load_lock:
                if self._model is None:
                    model, self._model_record = load_whisper(self.options, self.model_cache_dir)
                    self._model = model  # published last: readers then see the record
        return self._model

    def stt_record(self) -> dict[str, Any]:
        """The settings a transcript was made with (options plus what 'auto' became)."""
        import faster_whisper

        _ = self.model
        return {
            "engine": "faster-whisper",
            "engine_version": faster_whisper.__version__,
            "options": self.options.model_dump(mode="json"),
            **self._model_record,
            "vad_method": "silero (faster-whisper); regions packed with speech_gap",
            "decoding": f"batched ({self.options.batch_size})" if self.options.batch_size else "sequential",
            "skipped_speech_retry": True,
            "word_timestamps": True,
            "condition_on_previous_text": False,
            "script": "opencc t2s",
            "hallucination_filter": True,
        }

    def transcribe(
        self,
        path: str | os.PathLike[str],
        *,
        call_id: str | None = None,
        agent_id: str | None = None,
        audio_sha256: str | None = None,
        progress: Callable[[float], None] | None = None,
    ) -> CallTranscript:
        """Transcribe a call recording: stereo as agent/customer, mono as 'unknown'.

        ``progress``, if given, is called with the seconds of audio decoded so far before
        each window and channel is transcribed; an exception it raises stops the work there
        (the server uses it to bound a recording's length and to cancel on shutdown).
        """
        info = probe(path)  # bad files fail here, before the model is loaded
        if info.channels > 2:
            raise AudioError(
                path, f"has {info.channels} channels; expected mono or stereo",
                "extract the two parties' channels: `ffmpeg -i IN -af "
                "'pan=stereo|c0=c0|c1=c1' OUT.wav`.",
            )
        words: list[list[TimedWord]] = [[], []]
        mode: str | None = None
        duration = 0.0
        dropped = recovered = 0
        for window in iter_windows(path, self.options.window_seconds):
            duration = window.offset + window.duration
            if progress is not None:
                progress(duration)
            if mode is None:
                if is_silent(window.samples):
                    continue  # decide mono/stereo on the first window with sound
                mode = _channel_mode(window)
            rows = window.samples[:1] if mode != "stereo" else window.samples
            for index, channel in enumerate(rows):
                if progress is not None and index:
                    progress(duration)
                got, lost, again = self._channel_words(channel, window.offset)
                words[index].extend(got)
                dropped += lost
                recovered += again
        if mode is None:  # all silence: no speech, but keep the file's layout
            mode = "stereo" if info.channels == 2 else "mono"
        if mode == "stereo":
            roles: list[Speaker] = list(self.options.channel_roles)
        else:
            roles = ["unknown"]
        pause = self.options.pause_split
        utterances = merge_channels(
            [(role, split_at_pauses(words[i], pause, timed=True)) for i, role in enumerate(roles)]
        )
        stt = self.stt_record() | {
            "mode": mode,
            "channels": info.channels,
            "source_format": info.format,
            "source_codec": info.codec,
            "source_sample_rate": info.sample_rate,
            "duration": round(duration, 3),
            "audio_sha256": audio_sha256 or file_sha256(path),
            "dropped_segments": dropped,
            "recovered_spans": recovered,
        }
        return CallTranscript(
            call_id=call_id or Path(path).stem,
            agent_id=agent_id,
            utterances=utterances,
            source="stt",
            audio=str(path),
            stt=stt,
        )

    def transcribe_samples(
        self, samples: np.ndarray, offset: float = 0.0
    ) -> list[TimedText]:
        """Transcribe one live turn of 16 kHz float32 audio (already cut by an endpointer).

        Returns one `TimedText` spanning the turn, times shifted by ``offset``,
        or nothing for silence or a known hallucination. Decoded on a short encoder window
        without word timings (see `stt.short_window`): a live turn needs its words fast.
        """
        samples = np.asarray(samples, dtype=np.float32)
        if samples.ndim != 1:
            raise ValueError(f"expected one channel (1-D samples), got shape {samples.shape}")
        if samples.size == 0 or is_silent(samples):
            return []
        text, no_speech_prob = self._decode_turn(samples)
        text = tidy(text)
        if not text or is_hallucination(text, no_speech_prob, 0.0, rms(samples)):
            return []
        return [TimedText(offset, offset + samples.size / SAMPLE_RATE, text)]

    def _decode_turn(self, samples: np.ndarray) -> tuple[str, float]:
        """Short-window decoding on a faster-whisper model; the standard call on any other."""
        opts = self.options
        model = self.model
        if hasattr(model, "feature_extractor") and hasattr(model, "hf_tokenizer"):
            heard = decode_turn(
                model, samples, opts.language, opts.beam_size, min_window=opts.turn_window_seconds
            )
            return heard.text, heard.no_speech_prob
        segments, _info = model.transcribe(
            samples, language=opts.language, beam_size=opts.beam_size,
            condition_on_previous_text=False, without_timestamps=True,
        )
        segments = list(segments)
        doubt = max((getattr(s, "no_speech_prob", 0.0) for s in segments), default=0.0)
        return "".join(s.text for s in segments), doubt

    def _channel_words(
        self, samples: np.ndarray, offset: float
    ) -> tuple[list[TimedWord], int, int]:
        """Words of one channel of one window (call time), with drop and recovery counts.

        Speech the first pass left without words (Whisper skipped it) is transcribed
        once more on its own, so a skipped turn is not silently missing from the report.
        """
        if is_silent(samples):
            return [], 0, 0  # digital silence: nothing to hear, Whisper would invent text
        regions = find_speech(samples, self.options.vad)
        padding = vad_padding(self.options.vad)
        packed = pack_speech(samples, regions, self.options.speech_gap, padding)
        if packed.empty:
            return [], 0, 0  # no speech found: never ask Whisper about noise alone
        passes = [self._decode(packed)]
        missing = uncovered_spans(regions, passes[0].heard)
        if missing:
            # All skipped stretches in one more pass; any still skipped, one by one.
            passes.append(self._decode(pack_speech(samples, missing, self.options.speech_gap)))
            for span in uncovered_spans(missing, passes[-1].heard)[:_MAX_SINGLE_RETRIES]:
                passes.append(self._decode(pack_speech(samples, [span])))
        words = sorted(
            (TimedWord(offset + w.start, offset + w.end, w.text) for p in passes for w in p.words),
            key=lambda w: (w.start, w.end),
        )
        return words, sum(p.dropped for p in passes), len(missing)

    def _batched_pipeline(self):
        """faster-whisper's batched pipeline around the loaded model (None for a fake model)."""
        if self._batched is None and hasattr(self.model, "feature_extractor"):
            from faster_whisper import BatchedInferencePipeline

            self._batched = BatchedInferencePipeline(model=self.model)
        return self._batched

    def _decode(self, packed: PackedSpeech) -> _Decoded:
        """Run Whisper on packed speech; times come back in window time.

        With ``batch_size`` the packed speech is cut into windows at the gaps between
        speech regions and the windows are decoded together (one encoder and decoder call
        per batch: what keeps a GPU busy); otherwise window after window.
        """
        opts = self.options
        common = dict(
            language=opts.language,
            task="transcribe",
            beam_size=opts.beam_size,
            condition_on_previous_text=False,
            vad_filter=False,  # done by the caller, with gaps kept between speech regions
            word_timestamps=True,
            initial_prompt=opts.initial_prompt,
            hotwords=opts.hotwords,
        )
        pipeline = self._batched_pipeline() if opts.batch_size else None
        if pipeline is not None:
            segments, _info = pipeline.transcribe(
                packed.audio, clip_timestamps=clip_windows(packed), batch_size=opts.batch_size,
                without_timestamps=True, **common,
            )
        else:
            segments, _info = self.model.transcribe(packed.audio, **common)
        out = _Decoded()
        for segment in segments:
            if self._is_invented(segment, packed.audio):
                log.debug("dropped hallucinated segment %r", segment.text)
                out.dropped += 1
                out.heard.append(packed.to_original(segment.start, segment.end))
                continue
            for word in _segment_words(segment):
                span = packed.to_original(word.start, word.end)
                out.words.append(TimedWord(*span, word.text))
                out.heard.append(span)
        return out

    @staticmethod
    def _is_invented(segment: Any, samples: np.ndarray) -> bool:
        if is_known_hallucination(segment.text):
            return True
        span = samples[int(segment.start * SAMPLE_RATE):int(segment.end * SAMPLE_RATE)]
        return is_silence_hallucination(segment.no_speech_prob, segment.avg_logprob, rms(span))


def _segment_words(segment: Any) -> Iterator[TimedWord]:
    """A segment's timed words (times in the packed audio); the segment itself when word times are missing."""
    words = segment.words or []
    if not words:
        if segment.text.strip():
            yield TimedWord(segment.start, segment.end, segment.text)
        return
    for word in words:
        if word.word.strip():
            yield TimedWord(word.start, word.end, word.word)


def _channel_mode(window: AudioWindow) -> str:
    """'stereo' for two distinct parties, 'mono' for one channel or two identical ones.

    Some systems save a mono mix as two identical channels; transcribing it twice would
    double every utterance and invent an agent and a customer who are the same voice.
    """
    if window.channels == 1:
        return "mono"
    left, right = window.samples[0], window.samples[1]
    if float(np.max(np.abs(left - right))) <= _SAME_CHANNEL_TOLERANCE:
        return "mono"
    return "stereo"
