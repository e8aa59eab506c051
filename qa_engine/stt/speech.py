"""Find the speech in one channel and pack it for Whisper, keeping a map back to call time.

faster-whisper's own VAD filter butts speech regions together with no gap, so Whisper
hears the end of one turn run straight into the next and its word timings smear across the
join (a turn's first word lands at the end of the previous turn). Packing the regions with
a second of silence between them (a natural pause) keeps turns apart for the model while
still skipping the long silences of a turn-taking channel.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from qa_engine.stt.audio import SAMPLE_RATE
from qa_engine.stt.options import VadParams

PACK_GAP_SECONDS = 1.0


@dataclass(frozen=True)
class PackedSpeech:
    """Speech regions laid end to end with gaps; ``regions`` pairs packed and call times."""

    audio: np.ndarray
    # (packed_start, original_start, length) in samples, ordered by packed_start
    regions: tuple[tuple[int, int, int], ...]
    # per region, the call-time samples words are kept within: the region less VAD padding
    cores: tuple[tuple[int, int], ...] = ()

    @property
    def empty(self) -> bool:
        return not self.regions

    def to_original(self, start: float, end: float) -> tuple[float, float]:
        """Map a packed (start, end) span to call time, inside the region it belongs to.

        The region is chosen by the span's midpoint (the nearer one when it falls in a
        gap); times are clamped to the region's speech core (without the VAD's padding),
        since Whisper stretches a turn's first word back over the padding's silence.
        """
        middle = (start + end) / 2 * SAMPLE_RATE
        starts = [r[0] for r in self.regions]
        index = max(0, bisect.bisect_right(starts, middle) - 1)
        region_end = starts[index] + self.regions[index][2]
        # In a gap, Whisper's early-running word timings make a word as likely the next
        # turn's first word as the last one's tail: take the nearer region.
        in_gap = middle > region_end and index + 1 < len(starts)
        if in_gap and starts[index + 1] - middle < middle - region_end:
            index += 1
        packed, original, length = self.regions[index]
        low, high = self.cores[index] if self.cores else (original, original + length)

        def convert(t: float) -> float:
            sample = original + t * SAMPLE_RATE - packed
            return min(max(sample, low), high) / SAMPLE_RATE

        return convert(start), max(convert(start), convert(end))


def find_speech(samples: np.ndarray, vad: VadParams) -> list[tuple[int, int]]:
    """Speech regions as (start, end) sample indices, by faster-whisper's Silero VAD."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    chunks = get_speech_timestamps(samples, VadOptions(**vad.as_faster_whisper()))
    return [(int(c["start"]), int(c["end"])) for c in chunks]


def vad_padding(vad: VadParams) -> float:
    """Seconds of silence the VAD surely added at each inner edge of a region.

    Silero pads by ``speech_pad_ms``, or by half the silence when two regions are closer
    than twice that; regions are at least ``min_silence_duration_ms`` apart.
    """
    return min(vad.speech_pad_ms, vad.min_silence_duration_ms / 2) / 1000


def pack_speech(
    samples: np.ndarray,
    regions: list[tuple[int, int]],
    gap: float = PACK_GAP_SECONDS,
    padding: float = 0.0,
) -> PackedSpeech:
    """Concatenate ``regions`` of ``samples`` with ``gap`` seconds of silence between.

    ``padding`` is the VAD padding inside each region (see ``vad_padding``); it is fed to
    Whisper as context but no word time may fall in it. Edges at the ends of ``samples``
    may have been clipped, so no padding is assumed there.
    """
    gap_samples = int(gap * SAMPLE_RATE)
    pad = int(padding * SAMPLE_RATE)
    pieces: list[np.ndarray] = []
    table: list[tuple[int, int, int]] = []
    cores: list[tuple[int, int]] = []
    cursor = 0
    for start, end in regions:
        if end <= start:
            continue
        if pieces:
            pieces.append(np.zeros(gap_samples, np.float32))
            cursor += gap_samples
        pieces.append(samples[start:end])
        table.append((cursor, start, end - start))
        low = start + pad if start > 0 else start
        high = end - pad if end < samples.size else end
        cores.append((low, high) if low < high else (start, end))
        cursor += end - start
    audio = np.concatenate(pieces).astype(np.float32, copy=False) if pieces else (
        np.zeros(0, np.float32)
    )
    return PackedSpeech(audio, tuple(table), tuple(cores))


RECOVER_MIN_SECONDS = 1.5
"""A stretch this long inside a region that no word covers is transcribed again."""
RECOVER_EMPTY_SECONDS = 0.5
"""A whole region without words is transcribed again from this length (a short 没有了)."""


def uncovered_spans(
    regions: list[tuple[int, int]],
    words: list[tuple[float, float]],
    min_seconds: float = RECOVER_MIN_SECONDS,
    min_empty_seconds: float = RECOVER_EMPTY_SECONDS,
) -> list[tuple[int, int]]:
    """Stretches of speech regions (sample indices) that no word's time span touches.

    Whisper sometimes ends a 30-second window early, or jumps its timestamps forward, and
    silently skips whole turns; those turns show up here as speech without words. Inside
    a region that has words, only long stretches count (padding and pauses are short).
    """
    min_len = int(min_seconds * SAMPLE_RATE)
    min_empty = int(min_empty_seconds * SAMPLE_RATE)
    spans: list[tuple[int, int]] = []
    times = sorted((int(a * SAMPLE_RATE), int(b * SAMPLE_RATE)) for a, b in words)
    for start, end in regions:
        inside = [(a, b) for a, b in times if b > start and a < end]
        if not inside:
            if end - start >= min_empty:
                spans.append((start, end))
            continue
        cursor = start
        for w_start, w_end in inside:
            if w_start - cursor >= min_len:
                spans.append((cursor, w_start))
            cursor = max(cursor, w_end)
        if end - cursor >= min_len:
            spans.append((cursor, end))
    return spans


def clip_windows(packed: PackedSpeech, max_seconds: float = 30.0) -> list[dict[str, float]]:
    """Packed audio cut into windows of at most ``max_seconds``, at the gaps between regions.

    The batched pipeline decodes each window on its own (no 30 s window straddles two
    speech regions when it can be avoided), so per-channel VAD segmentation is kept; a
    single region longer than a window is cut at window length.
    """
    limit = int(max_seconds * SAMPLE_RATE)
    windows: list[tuple[int, int]] = []
    for packed_start, _original, length in packed.regions:
        end = packed_start + length
        if windows and end - windows[-1][0] <= limit:
            windows[-1] = (windows[-1][0], end)
            continue
        start = packed_start
        while end - start > limit:
            windows.append((start, start + limit))
            start += limit
        windows.append((start, end))
    return [{"start": a / SAMPLE_RATE, "end": b / SAMPLE_RATE} for a, b in windows]
