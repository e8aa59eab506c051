"""Loudness and pitch of each utterance, measured on its own channel.

- loudness: RMS level in dBFS over the utterance's voiced 20 ms frames (frames within
  30 dB of the loudest), so the pauses inside a turn do not pull it down;
- pitch: Praat's autocorrelation pitch (`To Pitch`, 75–600 Hz) through praat-parselmouth,
  the field-standard phonetics tool: mean in Hz and range (5th to 95th percentile) in
  semitones. Without parselmouth the pitch is left empty and loudness alone is used.

Raw values go into `Utterance.voice`; `qa_engine.emotion` compares them with the same
speaker's median in the call (thresholds in the rule file's `emotion.voice`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import numpy as np

from qa_engine.models import CallTranscript, Utterance, VoiceMeasure

SAMPLE_RATE = 16000
_FRAME = 0.02
_FLOOR_DB = -100.0


def loudness_dbfs(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> float | None:
    """RMS level in dBFS of the voiced frames (full-scale sine = -3 dBFS)."""
    x = np.asarray(samples, dtype=np.float64)
    frame = max(1, int(_FRAME * sample_rate))
    usable = len(x) // frame * frame
    if usable == 0:
        return None
    power = np.mean(x[:usable].reshape(-1, frame) ** 2, axis=1)
    if not np.any(power > 0):
        return None
    db = 10 * np.log10(np.maximum(power, 1e-20))
    voiced = power[db >= db.max() - 30.0]
    return round(float(10 * math.log10(float(np.mean(voiced)))), 2)


def pitch(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> tuple[float | None, float | None]:
    """(mean Hz, range in semitones) of the voiced frames, by Praat; (None, None) without it."""
    try:
        import parselmouth
    except ImportError:  # optional: loudness alone still works
        return None, None
    if len(samples) < int(0.1 * sample_rate):
        return None, None
    sound = parselmouth.Sound(np.asarray(samples, dtype=np.float64), sampling_frequency=sample_rate)
    values = sound.to_pitch(time_step=0.01, pitch_floor=75.0, pitch_ceiling=600.0).selected_array["frequency"]
    voiced = values[values > 0]
    if len(voiced) < 3:
        return None, None
    low, high = np.percentile(voiced, [5, 95])
    return round(float(np.mean(voiced)), 1), round(float(12 * math.log2(high / low)), 2)


def measure(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> VoiceMeasure:
    mean, spread = pitch(samples, sample_rate)
    return VoiceMeasure(loudness_db=loudness_dbfs(samples, sample_rate), pitch_mean_hz=mean, pitch_range_st=spread)


def with_voice(utterance: Utterance, channel: np.ndarray, offset: float, sample_rate: int = SAMPLE_RATE) -> Utterance:
    """The utterance with `voice` measured on `channel` (whose first sample is at `offset` seconds)."""
    first = max(0, int((utterance.start - offset) * sample_rate))
    last = min(len(channel), int((utterance.end - offset) * sample_rate))
    if last - first < int(0.1 * sample_rate):
        return utterance
    return utterance.model_copy(update={"voice": measure(channel[first:last], sample_rate)})


def attach_voice(
    transcript: CallTranscript, path: str | os.PathLike[str], roles: Sequence[str] = ("agent", "customer")
) -> CallTranscript:
    """Measure every utterance of a stereo recording on its speaker's channel (bounded memory: by window)."""
    from qa_engine.stt.audio import iter_windows

    if (transcript.stt.mode if transcript.stt else None) not in (None, "stereo"):
        return transcript
    utterances = list(transcript.utterances)
    for window in iter_windows(path):
        if window.samples.shape[0] < 2:
            return transcript
        end = window.offset + window.samples.shape[1] / SAMPLE_RATE
        for i, u in enumerate(utterances):
            if u.voice is None and u.speaker in roles and window.offset <= (u.start + u.end) / 2 < end:
                utterances[i] = with_voice(u, window.samples[list(roles).index(u.speaker)], window.offset)
    return transcript.model_copy(update={"utterances": utterances})
