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
    text = "你找领导去" + "啊" * 1_000_000
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
