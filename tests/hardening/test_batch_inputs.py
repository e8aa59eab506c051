"""Hardening: one bad input never stops a batch, loses a call or overwrites a report."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from typer.testing import CliRunner

from qa_engine.cli import app
from qa_engine.fsutil import safe_name
from qa_engine.inputs import iter_calls

runner = CliRunner()


def call(call_id: str, text: str = "您好,请问有什么可以帮您", **extra) -> dict:
    return {
        "call_id": call_id,
        "utterances": [{"speaker": "agent", "start": 0, "end": 2, "text": text}],
        **extra,
    }


def score(*args: str):
    return runner.invoke(app, ["score", *args])


def reports(folder: Path) -> dict[str, dict]:
    out = {}
    for path in folder.glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        out.setdefault(data["call_id"], []).append(data)
    return out


def test_defect_04_long_chinese_call_id_is_recorded_not_fatal(tmp_path):
    long_id = "客" * 100
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(call(i), ensure_ascii=False) for i in (long_id, "after")), encoding="utf-8")
    result = score(str(source), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    found = reports(tmp_path / "out")
    assert found[long_id][0]["status"] == "scored" and found["after"][0]["status"] == "scored"
    assert len(safe_name(long_id).encode()) <= 150


def test_defect_04_lone_surrogate_in_ids_is_a_failed_call_not_a_crash(tmp_path):
    source = tmp_path / "in.jsonl"
    lines = [
        '{"call_id": "bad\\ud800", "utterances": []}',
        '{"call_id": "agent", "agent_id": "A\\udc00", "utterances": []}',
        json.dumps(call("after")),
    ]
    source.write_text("\n".join(lines), encoding="utf-8")
    result = score(str(source), "--out", str(tmp_path / "out"), "--format", "csv")
    assert result.exit_code == 2, result.output
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out" / "calls.csv").read_text(encoding="utf-8-sig"))))
    assert [r["status"] for r in rows] == ["failed", "failed", "scored"]
    assert "in.jsonl:1" in rows[0]["error"] and "in.jsonl:2" in rows[1]["error"]


def test_defect_04_deeply_nested_json_is_a_located_failure(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "deep.json").write_text("[" * 100000, encoding="utf-8")
    (tmp_path / "in" / "deep.jsonl").write_text("[" * 100000 + "\n" + json.dumps(call("after")), encoding="utf-8")
    result = score(str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--format", "jsonl")
    assert result.exit_code == 2, result.output
    lines = [json.loads(x) for x in (tmp_path / "out" / "reports.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["status"] for r in lines] == ["failed", "failed", "scored"]
    assert all("nested too deeply" in r["error"] for r in lines[:2])
    assert "deep.jsonl:1" in lines[1]["error"]


def test_defect_05_invalid_byte_in_jsonl_loses_only_that_line(tmp_path):
    source = tmp_path / "in.jsonl"
    lines = [json.dumps(call(f"c{i:04d}"), ensure_ascii=False).encode() for i in range(1, 1001)]
    lines[499] = lines[499].replace("您好".encode(), b"\xff\xfe")
    source.write_bytes(b"\n".join(lines) + b"\n")
    result = score(str(source), "--out", str(tmp_path / "out"), "--format", "jsonl")
    assert result.exit_code == 2, result.output
    assert "calls 1000  scored 999  failed 1" in result.output
    out = [json.loads(x) for x in (tmp_path / "out" / "reports.jsonl").read_text(encoding="utf-8").splitlines()]
    failed = [r for r in out if r["status"] == "failed"]
    assert len(out) == 1000 and len(failed) == 1
    assert f"{source}:500:" in failed[0]["error"] and "UTF-8" in failed[0]["error"]


def test_defect_05_invalid_byte_in_json_is_located(tmp_path):
    source = tmp_path / "bad.json"
    source.write_bytes(b'{"call_id": "x",\n "utterances": [\xff]}')
    (error,) = [s.error for s in iter_calls([source])]
    assert error.startswith(f"{source}:2:") and "UTF-8" in error


def test_defect_07_resume_after_line_torn_inside_a_multibyte_character(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(call(f"c{i}"), ensure_ascii=False) for i in range(3)), encoding="utf-8")
    for fmt, name in (("jsonl", "reports.jsonl"), ("csv", "calls.csv")):
        out = tmp_path / f"out-{fmt}"
        assert score(str(source), "--out", str(out), "--format", fmt).exit_code == 0
        path = out / name
        data = path.read_bytes()
        torn = "客服一号".encode()
        data = data + (torn if fmt == "csv" else b'{"call_id": "c9", "x": "') + torn[:4]  # cut inside a character
        path.write_bytes(data)
        result = score(str(source), "--out", str(out), "--format", fmt, "--resume")
        assert result.exit_code == 0, result.output
        assert "skipped (resume) 3" in result.output
        assert path.read_bytes().endswith(b"\n")


def test_defect_08_duplicate_call_ids_are_recorded_not_overwritten(tmp_path):
    source = tmp_path / "in.json"
    source.write_text(json.dumps([call("same", "你找领导去"), call("same")], ensure_ascii=False), encoding="utf-8")
    result = score(str(source), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2, result.output
    assert "scored 1  failed 1" in result.output
    found = reports(tmp_path / "out")["same"]
    assert sorted(r["status"] for r in found) == ["failed", "scored"]
    assert "duplicate call_id" in next(r["error"] for r in found if r["status"] == "failed")


def test_defect_08_ids_that_clean_alike_get_their_own_files(tmp_path):
    ids = ["a/b", "a_b", ".", "..", "call"]
    assert len({safe_name(i) for i in ids}) == len(ids)
    source = tmp_path / "in.json"
    source.write_text(json.dumps([call(i) for i in ids]), encoding="utf-8")
    result = score(str(source), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert sorted(reports(tmp_path / "out")) == sorted(ids)
    assert safe_name("forbidden_03") == "forbidden_03"  # ordinary ids keep their names


def test_defect_08_out_inside_the_input_folder_is_not_read_back(tmp_path):
    (tmp_path / "c1.json").write_text(json.dumps(call("c1")), encoding="utf-8")
    out = tmp_path / "qa-out"
    for _ in range(2):
        result = score(str(tmp_path), "--out", str(out))
        assert result.exit_code == 0, result.output
        assert "calls 1  scored 1  failed 0" in result.output
    assert json.loads((out / "c1.json").read_text(encoding="utf-8"))["status"] == "scored"


def test_defect_14_infinite_time_is_a_located_input_error(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(
        '{"call_id": "inf", "utterances": [{"speaker": "agent", "start": 0, "end": Infinity, "text": "x"}]}\n'
        '{"call_id": "nan", "utterances": [{"speaker": "agent", "start": NaN, "end": 1, "text": "x"}]}\n',
        encoding="utf-8",
    )
    errors = [s.error for s in iter_calls([source])]
    assert "utterances[0].end" in errors[0] and "finite" in errors[0]
    assert "utterances[0].start" in errors[1]


def test_defect_15_csv_cells_cannot_be_formulas(tmp_path):
    source = tmp_path / "in.json"
    source.write_text(
        json.dumps([call('=HYPERLINK("http://x","y")', agent_id="@SUM(1+1)"), call("-2+3"), call("plain")]),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert score(str(source), "--out", str(out), "--format", "csv").exit_code == 0
    rows = list(csv.DictReader(io.StringIO((out / "calls.csv").read_text(encoding="utf-8-sig"))))
    cells = [v for row in rows for v in row.values() if v]
    assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in cells)
    assert rows[0]["call_id"] == "'=HYPERLINK(\"http://x\",\"y\")" and rows[0]["agent_id"] == "'@SUM(1+1)"
    assert rows[2]["call_id"] == "plain"
    # --resume reads the escaped ids back as the originals: nothing is scored twice
    result = score(str(source), "--out", str(out), "--format", "csv", "--resume")
    assert "skipped (resume) 3" in result.output
    from qa_engine.report.writer import csv_cell, csv_uncell

    for text in ("=1", "'=1", "''", "plain", "-", "'", ""):
        assert csv_uncell(csv_cell(text)) == text
