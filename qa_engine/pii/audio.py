"""A redacted copy of a call recording: silence (or a 1 kHz tone) over every PII span.

The spans come from the redacted transcript (`CallTranscript.pii.spans`): with
speech-to-text they are timed by Whisper's word timestamps (`timing == "words"`), from a
transcript file they are spread over their utterance by character (`interpolated`), so
those get a wider margin. Each span is muted on the channel of the speaker who said it
(stereo: the channel roles the transcript was made with); a mono call, or a speaker the
roles do not name, is muted on every channel.

The copy keeps the recording's rate and channels and is written as FLAC (16-bit), frame
by frame, so a long call never sits in memory whole. Nothing of the original is written
anywhere else: callers (the HTML pages) link to this copy instead of the recording.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from qa_engine.fsutil import write_atomic
from qa_engine.models import CallTranscript
from qa_engine.pii.redactor import RedactionError

WORDS_MARGIN = 0.25
"""Seconds muted either side of a span timed by word timestamps (Whisper's word edges
drift by about a syllable)."""
INTERPOLATED_MARGIN = 0.5
"""Seconds either side of a span whose time was spread over its utterance by character."""
TONE_HZ = 1000.0
TONE_LEVEL = 0.1  # -20 dBFS peak
FADE_SECONDS = 0.005


@dataclass(frozen=True)
class MuteSpan:
    start: float
    end: float
    channels: tuple[int, ...] | None  # None: every channel


def mute_spans(transcript: CallTranscript, channels: int, margin: float | None = None) -> list[MuteSpan]:
    """Where to mute, per channel, for this redacted transcript."""
    if transcript.pii is None:
        raise RedactionError("the transcript was not redacted; no redacted recording can be made")
    roles: Sequence[str] = ("agent", "customer")
    stt = transcript.stt
    options = (stt.options if stt else None) or {}
    if options.get("channel_roles"):
        roles = tuple(options["channel_roles"])
    mode = stt.mode if stt and "mode" in stt.model_fields_set else "stereo"
    stereo = channels >= 2 and mode == "stereo"
    out: list[MuteSpan] = []
    for span in transcript.pii.spans:
        pad = margin if margin is not None else (WORDS_MARGIN if span.timing == "words" else INTERPOLATED_MARGIN)
        speaker = transcript.utterances[span.utterance_index].speaker if span.utterance_index < len(transcript.utterances) else "unknown"
        chans = (roles.index(speaker),) if stereo and speaker in roles[:channels] else None
        out.append(MuteSpan(max(0.0, span.start - pad), span.end + pad, chans))
    return out


def redact_audio(
    source: str | os.PathLike[str],
    transcript: CallTranscript,
    target: str | os.PathLike[str],
    *,
    mode: str = "silence",
    margin: float | None = None,
) -> Path:
    """Write ``target`` (FLAC): ``source`` with every PII span of ``transcript`` muted.

    ``mode`` is ``silence`` or ``tone`` (a 1 kHz tone at -20 dBFS in the span). Raises
    `RedactionError` (naming no text) if the recording cannot be read or written; no
    partial file is left at ``target``.
    """
    target = Path(target)
    try:
        return _redact_audio(Path(source), transcript, target, mode, margin)
    except RedactionError:
        raise
    except Exception as error:
        raise RedactionError(f"audio redaction failed ({type(error).__name__}); no redacted recording written") from None


def _redact_audio(source: Path, transcript: CallTranscript, target: Path, mode: str, margin: float | None) -> Path:
    import io

    if mode not in ("silence", "tone"):
        raise ValueError(f"unknown audio redaction mode {mode!r}")
    with av.open(str(source), mode="r", metadata_errors="ignore") as container:
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        channels = stream.codec_context.channels
        layout = "mono" if channels == 1 else "stereo"
        if channels > 2:
            raise ValueError("more than two channels")
        spans = mute_spans(transcript, channels, margin)
        buffer = io.BytesIO()
        with av.open(buffer, mode="w", format="flac") as output:
            out_stream = output.add_stream("flac", rate=rate, layout=layout)
            out_stream.format = "s16"
            resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
            position = 0
            for frame in container.decode(stream):
                for chunk in resampler.resample(frame):
                    samples = chunk.to_ndarray().reshape(channels, -1).astype(np.float32)
                    _mute(samples, position, rate, spans, mode)
                    position += samples.shape[1]
                    _encode(output, out_stream, samples, rate, layout)
            for chunk in resampler.resample(None):
                samples = chunk.to_ndarray().reshape(channels, -1).astype(np.float32)
                _mute(samples, position, rate, spans, mode)
                position += samples.shape[1]
                _encode(output, out_stream, samples, rate, layout)
            for packet in out_stream.encode(None):
                output.mux(packet)
    write_atomic(target, buffer.getvalue())
    return target


def _encode(output, stream, samples: np.ndarray, rate: int, layout: str) -> None:
    pcm = np.clip(np.round(samples * 32767), -32768, 32767).astype(np.int16)
    frame = av.AudioFrame.from_ndarray(pcm.T.reshape(1, -1).copy(), format="s16", layout=layout)
    frame.sample_rate = rate
    for packet in stream.encode(frame):
        output.mux(packet)


def _mute(samples: np.ndarray, offset: int, rate: int, spans: list[MuteSpan], mode: str) -> None:
    """Mute the parts of ``samples`` (starting at sample ``offset`` of the call) inside spans.

    The mute ramps in over the first and out over the last 5 ms of a span (no clicks);
    the margins around each span keep those ramps off the PII itself.
    """
    n = samples.shape[1]
    fade = max(1, int(FADE_SECONDS * rate))
    for span in spans:
        a = int(np.floor(span.start * rate))
        b = int(np.ceil(span.end * rate))
        lo, hi = max(a - offset, 0), min(b - offset, n)
        if hi <= lo:
            continue
        index = np.arange(lo, hi) + offset
        depth = np.clip(np.minimum(index - a + 1, b - index) / fade, 0.0, 1.0).astype(np.float32)
        rows = range(samples.shape[0]) if span.channels is None else [c for c in span.channels if c < samples.shape[0]]
        tone = (TONE_LEVEL * np.sin(2 * np.pi * TONE_HZ * index / rate)).astype(np.float32) if mode == "tone" else None
        for row in rows:
            samples[row, lo:hi] *= 1.0 - depth
            if tone is not None:
                samples[row, lo:hi] += depth * tone


def read_recording(path: str | os.PathLike[str]) -> tuple[int, np.ndarray]:
    """(sample rate, float32 samples of shape (channels, n)) at the file's own rate: for
    tests and benchmarks that measure a redacted copy against its original."""
    with av.open(str(path), mode="r", metadata_errors="ignore") as container:
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        channels = stream.codec_context.channels
        layout = "mono" if channels == 1 else "stereo"
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
        parts = [c.to_ndarray().reshape(channels, -1) for f in container.decode(stream) for c in resampler.resample(f)]
        parts += [c.to_ndarray().reshape(channels, -1) for c in resampler.resample(None)]
    return rate, np.concatenate(parts, axis=1).astype(np.float32)
