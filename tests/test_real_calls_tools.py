"""The real-speech development tools: rebuilding calls from the dataset's shape, unjudged pairs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa_engine.cli import app
from qa_engine.workbench.calibrate import LabelFileError, read_unjudged

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench" / "real_calls"))
import desed  # noqa: E402

# Made-up dialogues in the dataset's shape (its texts never enter the repository).
DIALOGUES = [
    {"id": 1, "content": ["客服:您好请问有什么可以帮您,", "用户:我的外卖还没到,", "客服:嗯您稍等,",
                          "用户:好,", "客服:已经帮您催了,", "用户:谢谢,", "客服:不客气再见"]},
    {"id": 2, "content": ["客服:您好，欢迎您进入人工客服~,", "用户:在吗,", "客服:在的亲,", "用户:a,", "客服:b,", "用户:c,"]},
    {"id": 3, "content": ["客服:您好,", "用户:喂,"]},  # too short to be a call
    {"id": 4, "content": ["RULE:退款规则,", "客服:a,", "用户:b,", "客服:c,", "用户:d,", "客服:e,", "用户:f"]},
]


def test_only_unpunctuated_phone_calls_are_rebuilt_with_sequential_synthetic_times(tmp_path):
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(DIALOGUES, ensure_ascii=False), encoding="utf-8")
    calls = desed.phone_calls(desed.find_dev_json(path))
    assert list(calls) == ["1"]  # 2 is a typed chat (punctuation), 3 too short, 4 has a non-speaker line
    transcript = desed.transcript("1", calls["1"])
    utterances = transcript["utterances"]
    assert [u["speaker"] for u in utterances[:2]] == ["agent", "customer"]
    assert utterances[-1]["text"] == "不客气再见"  # the trailing comma of the dataset's lines is dropped
    assert all(a["end"] < b["start"] for a, b in zip(utterances, utterances[1:], strict=False))


def test_a_missing_dev_json_names_what_to_pass(tmp_path):
    with pytest.raises(FileNotFoundError, match="dev.json"):
        desed.find_dev_json(tmp_path)


def test_unjudged_pairs_are_read_and_bad_rows_are_located(tmp_path):
    good = tmp_path / "unjudged.csv"
    good.write_text("call_id,category,reason\n9,closing,cut off\n", encoding="utf-8")
    assert read_unjudged(good) == {("9", "closing")}
    bad = tmp_path / "bad.csv"
    bad.write_text("call_id,category\n9,\n", encoding="utf-8")
    with pytest.raises(LabelFileError, match=r"bad.csv:2"):
        read_unjudged(bad)


def test_calibrate_leaves_unjudged_findings_out(tmp_path):
    call = {"call_id": "c1", "utterances": [
        {"speaker": "agent", "start": 0, "end": 4, "text": "您好请问有什么可以帮您"},
        {"speaker": "customer", "start": 3, "end": 5, "text": "我查个快递"},
        {"speaker": "agent", "start": 6, "end": 8, "text": "好的我看一下"},
    ]}
    (tmp_path / "c1.json").write_text(json.dumps(call, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "labels.csv").write_text("call_id,utterance_index,category\n", encoding="utf-8")
    (tmp_path / "unjudged.csv").write_text("call_id,category\nc1,closing\n", encoding="utf-8")
    runner = CliRunner()
    base = ["calibrate", str(tmp_path / "c1.json"), "--labels", str(tmp_path / "labels.csv"), "--no-tune"]
    plain = runner.invoke(app, base)
    assert "误报 (false positives): 1" in plain.output and "closing.standard" in plain.output
    skipped = runner.invoke(app, [*base, "--unjudged", str(tmp_path / "unjudged.csv")])
    assert skipped.exit_code == 0 and "误报 (false positives): 0" in skipped.output
