"""Audio decoding: every accepted format and rate, channels kept apart, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
import wave
from pathlib import Path

import av
import numpy as np
import pytest
from stt_helpers import tone, write_audio, write_wav

from qa_engine.stt import SAMPLE_RATE, AudioError, is_silent, iter_windows, load_audio, probe


def _dominant_freq(x: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    return float(np.argmax(spectrum) * SAMPLE_RATE / x.size)


@pytest.mark.parametrize("suffix", [".wav", ".mp3", ".m4a", ".flac", ".ogg"])
@pytest.mark.parametrize("rate", [8000, 16000, 44100])
def test_decodes_stereo_to_16k_float32_per_channel(tmp_path, suffix, rate):
    left, right = tone(2.0, rate, 440, 0.3), tone(2.0, rate, 1000, 0.1)
    path = write_audio(tmp_path / f"call{suffix}", np.stack([left, right]), rate)

    audio = load_audio(path)

    assert audio.dtype == np.float32
    assert audio.shape[0] == 2
    assert abs(audio.shape[1] / SAMPLE_RATE - 2.0) < 0.25  # codec priming/padding only
    middle = audio[:, SAMPLE_RATE // 2: SAMPLE_RATE * 3 // 2]
    # Not mixed down: each channel keeps its own tone and level.
    assert abs(_dominant_freq(middle[0]) - 440) < 10
    assert abs(_dominant_freq(middle[1]) - 1000) < 10
    assert np.abs(middle[0]).max() > 2 * np.abs(middle[1]).max()


@pytest.mark.parametrize("suffix", [".wav", ".mp3", ".flac"])
def test_decodes_mono(tmp_path, suffix):
    path = write_audio(tmp_path / f"mono{suffix}", tone(1.0, 8000)[None], 8000)
    audio = load_audio(path)
    assert audio.shape[0] == 1 and audio.dtype == np.float32
    assert probe(path).channels == 1


def test_missing_file(tmp_path):
    with pytest.raises(AudioError, match="not found") as err:
        probe(tmp_path / "nope.wav")
    assert "nope.wav" in str(err.value)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(AudioError, match="empty") as err:
        probe(path)
    assert "empty.wav" in str(err.value) and err.value.hint


def test_text_file_renamed_wav(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("这不是音频 / this is not audio\n" * 50)
    with pytest.raises(AudioError, match="not a readable audio file") as err:
        list(iter_windows(path))
    assert "notes.wav" in str(err.value) and "ffmpeg" in str(err.value)


@pytest.mark.parametrize("suffix", [".wav", ".flac", ".mp3"])
def test_truncated_file(tmp_path, suffix):
    full = write_audio(tmp_path / f"full{suffix}", tone(6.0, 8000)[None], 8000)
    cut = tmp_path / f"cut{suffix}"
    data = full.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    probe(cut)  # the header is intact: only decoding shows the loss
    with pytest.raises(AudioError, match="truncated") as err:
        list(iter_windows(cut))
    assert "cut" in str(err.value)


def test_header_only_wav(tmp_path):
    path = write_wav(tmp_path / "hollow.wav", np.zeros((2, 0), np.float32), 8000)
    with pytest.raises(AudioError, match="no audio samples"):
        load_audio(path)


def test_no_audio_stream(tmp_path):
    path = tmp_path / "video_only.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for _ in range(5):
            frame = av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    with pytest.raises(AudioError, match="no audio stream") as err:
        probe(path)
    assert "video" in str(err.value)


def test_silent_file_is_not_an_error(tmp_path):
    path = write_wav(tmp_path / "silence.wav", np.zeros((2, 8000 * 3), np.float32), 8000)
    audio = load_audio(path)
    assert audio.shape == (2, SAMPLE_RATE * 3)
    assert is_silent(audio)


def test_windows_are_bounded_contiguous_and_cut_in_quiet(tmp_path):
    sr = 8000
    signal = tone(100.0, sr, 300, 0.3)
    # A pause inside the first window's search stretch: the cut should land in it.
    signal[int(33.0 * sr):int(33.5 * sr)] = 0
    path = write_wav(tmp_path / "long.wav", np.stack([signal, signal * 0.5]), sr)

    windows = list(iter_windows(path, max_seconds=35.0, cut_search_seconds=5.0))

    assert all(w.duration <= 35.0 for w in windows)
    assert 33.0 <= windows[0].duration <= 33.5
    for before, after in zip(windows, windows[1:], strict=False):
        assert after.offset == pytest.approx(before.offset + before.duration)
    assert sum(w.duration for w in windows) == pytest.approx(100.0, abs=0.01)


_RSS_PROBE = """
import json, resource, sys
from qa_engine.stt import iter_windows
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
clicks, windows = [], []
for w in iter_windows(sys.argv[1], max_seconds=600.0):
    windows.append((w.offset, w.duration))
    hits = (abs(w.samples[0]) > 0.5).nonzero()[0]
    if hits.size:
        # first sample of each click (clicks are one minute apart)
        starts = hits[[0, *((hits[1:] - hits[:-1]) > 16000).nonzero()[0] + 1]]
        clicks += [round(w.offset + s / 16000, 2) for s in starts]
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"growth_mb": (after - before) / 1024, "windows": windows, "clicks": clicks}))
"""


def test_one_hour_call_decodes_in_bounded_memory(tmp_path):
    """A 1-hour 8 kHz stereo call never sits in memory whole (decoded: 460 MB)."""
    path = tmp_path / "hour.wav"
    sr, minute = 8000, 8000 * 60
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(sr)
        rng = np.random.default_rng(0)
        for _ in range(60):
            block = (rng.standard_normal((minute, 2)) * 300).astype("<i2")
            block[:80, 0] = 30000  # a 10 ms click at the start of every minute
            w.writeframes(block.tobytes())
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", _RSS_PROBE, str(path)],
        capture_output=True, text=True, check=True, cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
    )
    result = json.loads(out.stdout)

    durations = [d for _, d in result["windows"]]
    assert max(durations) <= 600.0
    assert sum(durations) == pytest.approx(3600.0, abs=0.05)
    assert len(durations) == 7  # cuts land before each 600 s mark, so one extra window
    # Offsets are right across windows: every minute's click is found where it was put.
    assert result["clicks"] == pytest.approx([60.0 * m for m in range(60)], abs=0.02)
    # One window of 16 kHz stereo float32 is 77 MB; the whole call would be 460 MB.
    assert result["growth_mb"] < 250, result["growth_mb"]
