"""Hardening: calibration labels, BOM transcripts, huge texts and large rule files."""

from __future__ import annotations

import json
import time

import pytest

from qa_engine import Engine
from qa_engine.inputs import iter_calls
from qa_engine.models import CallTranscript, Utterance
from qa_engine.rulefile import load_rules_text
from qa_engine.workbench.calibrate import LabelFileError, read_labels


def test_defect_17_short_label_row_is_a_located_error(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("call_id,utterance_index,category\nc1,2,forbidden\nc2\n", encoding="utf-8")
    with pytest.raises(LabelFileError, match=r"labels.csv:3: too few cells"):
        read_labels(path)


def test_defect_17_labels_not_utf8_is_a_located_error(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_bytes("call_id,utterance_index,category\nc1,2,禁语\n".encode() + b"c2,3,\xb7\xfe\n")
    with pytest.raises(LabelFileError, match=r"labels.csv:3: not valid UTF-8"):
        read_labels(path)


def test_defect_17_bom_prefixed_json_is_accepted(tmp_path):
    path = tmp_path / "bom.json"
    call = {"call_id": "bom", "utterances": [{"speaker": "agent", "start": 0, "end": 1, "text": "您好"}]}
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(call).encode())
    (source,) = iter_calls([path])
    assert source.error is None and source.transcript.call_id == "bom"


def test_defect_17_huge_utterance_keeps_evidence_short(engine):
    text = "你找领导去" + "啊" * 19_000  # just under the input bound (MAX_UTTERANCE_CHARS)
    call = CallTranscript(call_id="big", utterances=[Utterance(speaker="agent", start=0, end=60, text=text)])
    report = engine.score(call)
    assert report.findings
    for finding in report.findings:
        if finding.evidence:
            assert len(finding.evidence.text) <= 500
            assert finding.evidence.text == text[finding.evidence.start_char : finding.evidence.end_char]


def test_defect_17_many_rules_check_in_linear_time():
    def rules(count: int) -> str:
        lines = ["name: many", "categories: {c: C}", "rules:"]
        for i in range(count):
            lines += [f"  - id: r{i}", "    kind: phrases", "    category: c", "    message: m", f"    phrases: [词语{i}号]"]
        return "\n".join(lines) + "\n"

    timings = []
    for count in (1000, 4000):
        text = rules(count)
        started = time.perf_counter()
        Engine(load_rules_text(text, "many.yaml"))
        timings.append(time.perf_counter() - started)
    assert timings[1] < 10 and timings[1] < 8 * timings[0] + 1


def test_defect_17_silent_recording_says_no_speech_and_dead_air_sees_it(tmp_path):
    """A 20-minute recording with nobody speaking: its length is reported and dead air fires."""
    import wave

    from typer.testing import CliRunner

    from qa_engine.cli import app

    audio = tmp_path / "silent.wav"
    with wave.open(str(audio), "wb") as handle:
        handle.setnchannels(2)
        handle.setsampwidth(2)
        handle.setframerate(8000)
        handle.writeframes(b"\0" * (8000 * 2 * 2 * 60 * 20))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["score", str(audio), "--out", str(out), "--cache-dir", str(tmp_path / "cache")])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "silent.json").read_text(encoding="utf-8"))
    assert report["utterance_count"] == 0 and report["duration"] == 1200.0
    [silence] = [f for f in report["findings"] if f["rule_id"] == "dead_air.gap"]
    assert silence["message"] == "录音中没有语音(全程静默)" and silence["end"] == 1200.0
    assert "1200.0 秒中没有检测到任何语音" in silence["match"]["detail"]


def test_defect_17_twenty_thousand_rules_check_reads_the_file_once_per_batch_of_problems(tmp_path, monkeypatch):
    """Every warning's code frame used to re-read and re-split the whole file (quadratic)."""
    from rich.console import Console

    from qa_engine.report import console as console_module
    from qa_engine.rulefile import Problem

    rules = tmp_path / "many.yaml"
    rules.write_text("\n".join(f"line {i}" for i in range(2000)), encoding="utf-8")
    reads = []
    real = console_module._file_lines
    monkeypatch.setattr(console_module, "_file_lines", lambda path: reads.append(path) or real(path))
    problems = [Problem(str(rules), "m", line=i, column=1, severity="warning") for i in range(1, 2000)]
    with (tmp_path / "out.txt").open("w", encoding="utf-8") as sink:
        console_module.print_problems(Console(file=sink), problems)
    assert reads == [str(rules)]


def test_defect_17_fifty_megabyte_text_field_is_a_located_failure_not_gigabytes(tmp_path):
    """A 50 MB text field is refused at input (the turn's analysis grows with its length)."""
    from typer.testing import CliRunner

    from qa_engine.cli import app

    huge = {"call_id": "huge", "utterances": [{"speaker": "agent", "start": 0, "end": 9, "text": "好" * 50_000_000}]}
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "huge.json").write_text(json.dumps(huge, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "in" / "fine.json").write_text(json.dumps(
        {"call_id": "fine", "utterances": [{"speaker": "agent", "start": 0, "end": 2, "text": "您好"}]},
        ensure_ascii=False), encoding="utf-8")
    started = time.perf_counter()
    result = CliRunner().invoke(app, ["score", str(tmp_path / "in"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert time.perf_counter() - started < 60
    failed = json.loads((tmp_path / "out" / "huge.json").read_text(encoding="utf-8"))
    assert failed["status"] == "failed" and "utterances[0].text" in failed["error"] and "20000" in failed["error"]
    assert json.loads((tmp_path / "out" / "fine.json").read_text(encoding="utf-8"))["status"] == "scored"
