"""Hardening: an audio header cannot make a small file into hours of work."""

from __future__ import annotations

import struct
import time

import pytest

from qa_engine.stt.audio import AudioError, iter_windows, probe


def wav(path, sample_rate: int, data_bytes: int):
    channels, bits = 1, 16
    byte_rate = sample_rate * channels * bits // 8
    header = b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, channels, sample_rate, byte_rate, channels * bits // 8, bits)
    header += b"data" + struct.pack("<I", data_bytes)
    path.write_bytes(header + bytes(data_bytes))
    return path


def test_defect_06_wav_header_claiming_1_hz_is_rejected_at_decode(tmp_path):
    path = wav(tmp_path / "one_hz.wav", 1, 1_700_000)
    started = time.perf_counter()
    with pytest.raises(AudioError, match="implausible sample rate 1 Hz"):
        probe(path)
    with pytest.raises(AudioError, match="implausible sample rate 1 Hz"):
        next(iter_windows(path))
    assert time.perf_counter() - started < 2


def test_defect_06_ordinary_wav_still_decodes(tmp_path):
    path = wav(tmp_path / "ok.wav", 8000, 16000)
    assert probe(path).sample_rate == 8000
    assert sum(w.samples.shape[1] for w in iter_windows(path)) == 16000
