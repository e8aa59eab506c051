"""`qa score` on recordings, with the real bundled model: audio in, findings out, nothing lost."""

from __future__ import annotations

import json
import shutil
import wave
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from qa_engine.cli import app
from qa_engine.stt import Transcriber

from helpers import ROOT, SAMPLES

pytestmark = pytest.mark.slow  # runs the real Whisper model

runner = CliRunner()
AUDIO = ROOT / "samples" / "audio"
FAST_CALL = AUDIO / "audio_fast_06.flac"  # the shortest sample (36 s)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """One real batch: a good stereo call, an empty file and a text file named .wav."""
    calls = tmp_path_factory.mktemp("calls")
    shutil.copy(FAST_CALL, calls)
    (calls / "empty.wav").write_bytes(b"")
    (calls / "notes.wav").write_text("this is not audio", encoding="utf-8")
    out = calls.parent / "out"
    cache = calls.parent / "cache"
    result = runner.invoke(app, ["score", str(calls), "--out", str(out), "--cache-dir", str(cache), "--threads", "2"])
    return calls, out, cache, result


def test_audio_call_is_transcribed_and_scored(batch):
    _, out, _, result = batch
    assert result.exit_code == 2, result.output  # two bad files; the good call is still scored
    report = json.loads((out / "audio_fast_06.json").read_text(encoding="utf-8"))
    assert report["status"] == "scored"
    rules = {f["rule_id"] for f in report["findings"]}
    assert {"speech_rate.fast", "greeting.standard"} <= rules  # fast agent, no greeting: as scripted
    stt = report["provenance"]["stt"]
    assert stt["engine"] == "faster-whisper" and stt["model_sha256"] and stt["options"]["language"] == "zh"
    transcript = json.loads((out / "audio_fast_06.transcript.json").read_text(encoding="utf-8"))
    assert {u["speaker"] for u in transcript["utterances"]} == {"agent", "customer"}
    assert "audio" in result.output and "RTF" in result.output


def test_bad_audio_files_are_recorded_with_their_error(batch):
    _, out, _, _ = batch
    empty = json.loads((out / "empty.json").read_text(encoding="utf-8"))
    notes = json.loads((out / "notes.json").read_text(encoding="utf-8"))
    assert empty["status"] == "failed" and "empty.wav" in empty["error"] and "empty" in empty["error"]
    assert notes["status"] == "failed" and "notes.wav" in notes["error"]


def test_resume_after_interruption_uses_the_transcript_cache(batch, monkeypatch):
    calls, out, cache, _ = batch
    (out / "audio_fast_06.json").unlink()  # as if the batch had been killed before writing it

    def no_stt(*args, **kwargs):
        raise AssertionError("speech-to-text ran again: the transcript cache was not used")

    monkeypatch.setattr(Transcriber, "transcribe", no_stt)
    result = runner.invoke(app, ["score", str(calls), "--out", str(out), "--cache-dir", str(cache), "--resume"])
    report = json.loads((out / "audio_fast_06.json").read_text(encoding="utf-8"))
    assert report["status"] == "scored"
    assert "scored 1" in result.output and "skipped (resume) 0" in result.output


def test_mono_call_reports_role_rules_as_not_checked(tmp_path):
    from faster_whisper import decode_audio

    agent, customer = decode_audio(str(FAST_CALL), sampling_rate=16000, split_stereo=True)
    mixed = np.clip((agent + customer) * 32767, -32768, 32767).astype("<i2")
    mono = tmp_path / "mono_call.wav"
    with wave.open(str(mono), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(mixed.tobytes())
    result = runner.invoke(app, ["score", str(mono), "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "mono_call.json").read_text(encoding="utf-8"))
    skipped = {n["rule_id"]: n["reason"] for n in report["not_checked"]}
    assert "interruption.agent" in skipped and "greeting.standard" in skipped
    assert all(f["speaker"] in ("unknown", None) for f in report["findings"])


def test_workers_give_the_same_reports(tmp_path):
    one = runner.invoke(app, ["score", str(SAMPLES), "--out", str(tmp_path / "one"), "--format", "jsonl"])
    two = runner.invoke(app, ["score", str(SAMPLES), "--out", str(tmp_path / "two"), "--format", "jsonl", "--workers", "2"])
    assert one.exit_code == two.exit_code == 0

    def reports(folder: Path):
        lines = (folder / "reports.jsonl").read_text(encoding="utf-8").splitlines()
        return sorted((json.loads(line) for line in lines), key=lambda r: r["call_id"])

    strip = lambda rs: [{k: v for k, v in r.items() if k != "provenance"} for r in rs]  # noqa: E731
    assert strip(reports(tmp_path / "one")) == strip(reports(tmp_path / "two"))
