"""Decode call recordings into 16 kHz float32 samples, one array per channel.

Channels are never mixed down: in a stereo call recording each channel is one party, and
keeping them apart is what lets the engine tell agent from customer and see overlaps.
Decoding streams in bounded windows so a one-hour call never sits in memory whole, and
damaged input fails loudly (a silently shortened call would be scored as if it were whole).
"""

from __future__ import annotations

import gc
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

SAMPLE_RATE = 16_000
"""What Whisper and the Silero VAD expect."""

DEFAULT_WINDOW_SECONDS = 600.0
CUT_SEARCH_SECONDS = 20.0
"""A window ends at the quietest moment of its last stretch this long, not mid-word."""

MIN_SAMPLE_RATE = 4_000
MAX_SAMPLE_RATE = 384_000
"""Telephone audio is 8 kHz; anything outside these is a damaged or hostile header."""
MAX_AUDIO_SECONDS = float(os.environ.get("QA_MAX_AUDIO_SECONDS", 4 * 3600))
"""Longest recording accepted (4 hours; `QA_MAX_AUDIO_SECONDS` changes it)."""

_CUT_BLOCK = SAMPLE_RATE // 10
_SILENT_PEAK = 1e-4
_MAX_LOST_SECONDS = 1.0
_HINT_CONVERT = (
    "convert it with e.g. `ffmpeg -i IN -ar 8000 OUT.wav` (keep both channels) "
    "or re-export it from the recording system."
)


class AudioError(Exception):
    """An audio file that cannot be used: names the file, the problem and a remedy."""

    def __init__(self, path: str | os.PathLike[str], problem: str, hint: str) -> None:
        self.path = str(path)
        self.problem = problem
        self.hint = hint
        super().__init__(f"{self.path}: {problem}. {hint}")


@dataclass(frozen=True)
class AudioInfo:
    """What the container says about a file, read before any decoding."""

    path: str
    format: str
    codec: str
    channels: int
    sample_rate: int
    duration: float | None


@dataclass(frozen=True)
class AudioWindow:
    """A stretch of the call: ``samples[c]`` is channel ``c`` from ``offset`` seconds.

    ``samples`` has shape (channels, n); each row is contiguous float32 at 16 kHz.
    """

    offset: float
    samples: np.ndarray

    @property
    def duration(self) -> float:
        return self.samples.shape[1] / SAMPLE_RATE

    @property
    def channels(self) -> int:
        return self.samples.shape[0]


def is_silent(samples: np.ndarray, peak: float = _SILENT_PEAK) -> bool:
    """True when nothing in ``samples`` rises above ``peak``: digital silence, no speech."""
    return samples.size == 0 or float(np.max(np.abs(samples))) <= peak


def probe(path: str | os.PathLike[str]) -> AudioInfo:
    """Check a file is usable audio and describe it, without decoding it.

    Fails fast (before any model is loaded) on the common mistakes: wrong path, empty
    file, a non-audio file, a container without an audio stream, or an implausible
    sample rate or length (see `check_plausible`).
    """
    with _open(path) as container:
        stream = _audio_stream(container, path)
        info = _info(container, stream, path)
    check_plausible(info, _wav_declared_seconds(path))
    return info


def check_plausible(info: AudioInfo, declared_seconds: float | None = None) -> None:
    """Raise `AudioError` for a sample rate or a declared length no call recording has.

    A WAV header claiming 1 Hz turns 1.7 MB into 121 hours of audio to decode and
    transcribe; such a file is rejected here, before any decoding. Shared by the batch
    and the server's upload path.
    """
    if not MIN_SAMPLE_RATE <= info.sample_rate <= MAX_SAMPLE_RATE:
        raise AudioError(
            info.path,
            f"implausible sample rate {info.sample_rate} Hz (accepted: {MIN_SAMPLE_RATE}–{MAX_SAMPLE_RATE} Hz); "
            "the header is probably damaged",
            _HINT_CONVERT,
        )
    for seconds in (declared_seconds, info.duration):
        if seconds is not None and seconds > MAX_AUDIO_SECONDS:
            raise AudioError(
                info.path,
                f"implausibly long: its header says {seconds / 3600:.1f} hours "
                f"(limit {MAX_AUDIO_SECONDS / 3600:g} h, QA_MAX_AUDIO_SECONDS)",
                "split the recording, or raise the limit if it really is that long; " + _HINT_CONVERT,
            )


def iter_windows(
    path: str | os.PathLike[str],
    max_seconds: float = DEFAULT_WINDOW_SECONDS,
    cut_search_seconds: float = CUT_SEARCH_SECONDS,
) -> Iterator[AudioWindow]:
    """Yield the call as consecutive windows of at most ``max_seconds``.

    Each window is cut at the quietest 0.1 s (loudest channel) inside its last
    ``cut_search_seconds``, so a word is rarely split between windows. Memory stays at
    about one window (10 min of 16 kHz stereo float32 is 77 MB) whatever the file's length.
    Raises ``AudioError`` for unusable input, including truncation found at the end.
    """
    max_samples = int(max_seconds * SAMPLE_RATE)
    search = min(int(cut_search_seconds * SAMPLE_RATE), max_samples // 2)
    if max_samples < 2 * _CUT_BLOCK:
        raise ValueError(f"max_seconds={max_seconds} is too small for a window")
    declared_wav = _wav_declared_seconds(path)
    with _open(path) as container:
        stream = _audio_stream(container, path)
        info = _info(container, stream, path)
        check_plausible(info, declared_wav)
        max_emitted = int(MAX_AUDIO_SECONDS * SAMPLE_RATE)
        resampler = av.AudioResampler(format="fltp", layout=stream.layout, rate=SAMPLE_RATE)
        channels = stream.codec_context.channels
        # Chunks are copied straight into a window-sized buffer: no list of pieces and no
        # concatenation, so peak memory is this buffer plus the window last handed out.
        buf = np.empty((channels, max_samples), np.float32)
        filled = 0
        emitted = 0
        lost = 0.0
        for chunk, bad in _decode(container, stream, resampler, path):
            lost += bad
            if lost > _MAX_LOST_SECONDS:
                raise AudioError(
                    path, f"corrupt: about {lost:.1f} s of audio could not be decoded",
                    _HINT_CONVERT,
                )
            used = 0
            while used < chunk.shape[1]:
                take = min(chunk.shape[1] - used, max_samples - filled)
                buf[:, filled:filled + take] = chunk[:, used:used + take]
                filled += take
                used += take
                if filled == max_samples:
                    if emitted + filled > max_emitted:
                        raise AudioError(
                            path, f"longer than the limit of {MAX_AUDIO_SECONDS / 3600:g} hours (QA_MAX_AUDIO_SECONDS)",
                            "split the recording, or raise the limit",
                        )
                    cut = _quiet_cut(buf, search)
                    fresh = np.empty_like(buf)
                    fresh[:, : max_samples - cut] = buf[:, cut:]
                    yield AudioWindow(emitted / SAMPLE_RATE, buf[:, :cut])
                    emitted += cut
                    buf, filled = fresh, max_samples - cut
        if filled:
            yield AudioWindow(emitted / SAMPLE_RATE, buf[:, :filled])
            emitted += filled
        del resampler
    # PyAV's resampler graph is freed only by the cycle collector (faster-whisper #390).
    gc.collect()
    decoded = emitted / SAMPLE_RATE
    if emitted == 0:
        raise AudioError(path, "contains no audio samples (0 seconds)", _HINT_CONVERT)
    declared = declared_wav if declared_wav is not None else _trusted_duration(info)
    if declared is not None and declared - decoded > max(1.0, 0.03 * declared):
        raise AudioError(
            path,
            f"truncated or corrupt: its header promises {declared:.1f} s but only "
            f"{decoded:.1f} s could be decoded",
            "the file was probably cut short while copying or recording; fetch it again or "
            + _HINT_CONVERT,
        )


def load_audio(path: str | os.PathLike[str]) -> np.ndarray:
    """Decode a whole (short) file to an array of shape (channels, samples).

    For long calls use ``iter_windows``; this is for clips, tests and the benchmark.
    """
    windows = [w.samples for w in iter_windows(path)]
    return windows[0] if len(windows) == 1 else np.concatenate(windows, axis=1)


def _open(path: str | os.PathLike[str]) -> av.container.InputContainer:
    p = Path(path)
    if not p.exists():
        raise AudioError(path, "file not found", "check the path and that the file was copied.")
    if p.is_dir():
        raise AudioError(path, "is a directory, not an audio file", "pass the audio file.")
    if p.stat().st_size == 0:
        raise AudioError(path, "file is empty (0 bytes)", "the recording was not written; "
                         "fetch it again from the recording system.")
    try:
        return av.open(str(p), mode="r", metadata_errors="ignore")
    except av.error.FFmpegError as exc:
        raise AudioError(
            path,
            f"not a readable audio file ({exc.strerror or exc})",
            "expected wav, mp3, m4a, flac or ogg; the file may be of another kind, or so "
            "damaged its header is unreadable; " + _HINT_CONVERT,
        ) from exc


def _audio_stream(container: av.container.InputContainer, path: str | os.PathLike[str]):
    if not container.streams.audio:
        kinds = ", ".join(s.type for s in container.streams) or "none"
        raise AudioError(
            path, f"has no audio stream (streams found: {kinds})",
            "pass the call's audio recording, or extract its sound: "
            "`ffmpeg -i IN -vn -ar 8000 OUT.wav`.",
        )
    return container.streams.audio[0]


def _info(container, stream, path) -> AudioInfo:
    duration = None
    if stream.duration is not None and stream.time_base is not None:
        duration = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        duration = container.duration / av.time_base
    return AudioInfo(
        path=str(path),
        format=container.format.name,
        codec=stream.codec_context.name,
        channels=stream.codec_context.channels,
        sample_rate=stream.codec_context.sample_rate,
        duration=duration,
    )


def _trusted_duration(info: AudioInfo) -> float | None:
    """The declared length, only for containers that store it (not estimated from size).

    FFmpeg clamps WAV durations to the file size and finds Ogg's from the last page, so
    those cannot reveal truncation; WAV is checked from its RIFF header instead.
    """
    trusted = ("flac", "mp3", "mov", "mp4", "m4a")
    return info.duration if any(t in info.format.split(",") for t in trusted) else None


def _decode(container, stream, resampler, path) -> Iterator[tuple[np.ndarray, float]]:
    """Yield resampled (channels, n) float32 chunks, with the seconds lost to bad packets."""
    try:
        for packet in container.demux(stream):
            lost = 0.0
            try:
                frames = packet.decode()
            except av.error.InvalidDataError:
                tb = packet.time_base or 0
                lost = float(packet.duration * tb) if packet.duration else 0.03
                frames = []
            for frame in frames:
                frame.pts = None
                for out in resampler.resample(frame):
                    yield out.to_ndarray(), 0.0
            if lost:
                yield np.zeros((stream.codec_context.channels, 0), np.float32), lost
        for out in resampler.resample(None):
            yield out.to_ndarray(), 0.0
    except av.error.FFmpegError as exc:
        raise AudioError(
            path, f"truncated or corrupt: decoding failed ({exc.strerror or exc})",
            _HINT_CONVERT,
        ) from exc


def _quiet_cut(buf: np.ndarray, search: int) -> int:
    """Index in ``buf`` to end a window at: the middle of its quietest block near the end."""
    n = buf.shape[1]
    start = n - search
    blocks = search // _CUT_BLOCK
    region = np.abs(buf[:, start:start + blocks * _CUT_BLOCK])
    energy = region.reshape(buf.shape[0], blocks, _CUT_BLOCK).mean(axis=2).max(axis=0)
    # Prefer the latest of equally quiet blocks so windows stay as long as allowed.
    best = blocks - 1 - int(np.argmin(energy[::-1]))
    return start + best * _CUT_BLOCK + _CUT_BLOCK // 2


def _wav_declared_seconds(path: str | os.PathLike[str]) -> float | None:
    """The length a WAV's RIFF header promises, or None if unknown/streamed/not WAV."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            byte_rate = None
            while True:
                chunk = fh.read(8)
                if len(chunk) < 8:
                    return None
                cid, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                if cid == b"fmt ":
                    fmt = fh.read(size + (size & 1))
                    if len(fmt) >= 12:
                        byte_rate = struct.unpack("<I", fmt[8:12])[0]
                elif cid == b"data":
                    if not byte_rate or size in (0, 0xFFFFFFFF):
                        return None
                    return size / byte_rate
                else:
                    fh.seek(size + (size & 1), os.SEEK_CUR)
    except OSError:
        return None
