"""`qa score` as a user runs it: real files in, real reports out, bad calls recorded."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa_engine.cli import app
from qa_engine.inputs import iter_calls

from helpers import SAMPLES

runner = CliRunner()

GOOD = {"call_id": "good", "utterances": [{"speaker": "agent", "start": 0, "end": 2, "text": "你找领导去"}]}


def write(path: Path, data) -> Path:
    path.write_text(data if isinstance(data, str) else json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_scores_samples_and_writes_one_report_per_call(tmp_path):
    result = runner.invoke(app, ["score", str(SAMPLES), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    reports = {p.stem: json.loads(p.read_text()) for p in tmp_path.glob("*.json")}
    assert len(reports) == len(list(SAMPLES.glob("*.json")))
    assert reports["clean_01"]["score"] == 100 and reports["clean_01"]["passed"] is True
    forbidden = reports["forbidden_03"]
    assert forbidden["fatal"] is True and forbidden["score"] == 0
    finding = next(f for f in forbidden["findings"] if f["rule_id"] == "forbidden.taboo")
    assert finding["evidence"]["text"] == "你找领导去" and finding["start"] == 10.5
    assert forbidden["provenance"]["rules_sha256"] and forbidden["provenance"]["engine_version"]
    assert "质检结果" in result.output and "forbidden_03" in result.output


def test_every_category_is_exercised_by_the_samples(engine):
    from qa_engine.models import CallTranscript

    categories = set()
    for path in SAMPLES.glob("*.json"):
        report = engine.score(CallTranscript.model_validate_json(path.read_text()))
        categories |= {f.category for f in report.findings}
    expected = {
        "greeting", "closing", "forbidden", "nonstandard", "negative_opener", "filler",
        "overpromise", "interruption", "dead_air", "speech_rate", "empathy",
    }
    assert expected <= categories


def test_malformed_calls_are_recorded_and_others_scored(tmp_path):
    calls = tmp_path / "calls"
    calls.mkdir()
    write(calls / "good.json", GOOD)
    write(calls / "broken.json", '{"call_id": "broken", "utterances": [')
    bad_field = {"call_id": "badfield", "utterances": [{"speaker": "boss", "start": 0, "end": -1, "text": "x"}]}
    write(calls / "badfield.json", bad_field)
    lines = [json.dumps(GOOD | {"call_id": "line1"}), "{not json", json.dumps({"call_id": "noutt"})]
    write(calls / "many.jsonl", "\n".join(lines) + "\n")
    out = tmp_path / "out"
    result = runner.invoke(app, ["score", str(calls), "--out", str(out)])
    assert result.exit_code == 2  # some calls failed, the batch still finished
    reports = {json.loads(p.read_text())["call_id"]: json.loads(p.read_text()) for p in out.glob("*.json")}
    assert reports["good"]["status"] == "scored" and reports["line1"]["status"] == "scored"
    assert "broken.json:1:" in reports["broken"]["error"] and "not valid JSON" in reports["broken"]["error"]
    error = reports["badfield"]["error"]
    assert "utterances[0].speaker" in error and "utterances[0].end" in error
    assert "many.jsonl:2" in reports["many-2"]["error"]
    assert "utterances" in reports["noutt"]["error"] and reports["noutt"]["status"] == "failed"


def test_jsonl_and_csv_formats(tmp_path):
    result = runner.invoke(app, ["score", str(SAMPLES), "--out", str(tmp_path), "--format", "jsonl"])
    assert result.exit_code == 0
    lines = (tmp_path / "reports.jsonl").read_text().splitlines()
    assert len(lines) == len(list(SAMPLES.glob("*.json")))
    result = runner.invoke(app, ["score", str(SAMPLES), "--out", str(tmp_path), "--format", "csv"])
    rows = list(csv.DictReader((tmp_path / "calls.csv").open(encoding="utf-8-sig")))
    assert {r["call_id"] for r in rows} >= {"clean_01", "forbidden_03"}
    assert next(r for r in rows if r["call_id"] == "forbidden_03")["fatal"] == "true"


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_resume_skips_done_calls_and_drops_torn_lines(tmp_path, fmt):
    calls = tmp_path / "calls"
    shutil.copytree(SAMPLES, calls)
    out = tmp_path / "out"
    runner.invoke(app, ["score", str(calls), "--out", str(out), "--format", fmt])
    if fmt == "json":
        (out / "clean_01.json").unlink()  # as if the run had stopped before this call
    else:
        target = out / ("reports.jsonl" if fmt == "jsonl" else "calls.csv")
        text = target.read_text()
        target.write_text(text[: len(text) - 40])  # a torn last line
    result = runner.invoke(app, ["score", str(calls), "--out", str(out), "--format", fmt, "--resume"])
    assert result.exit_code == 0, result.output
    assert "scored 1" in result.output and f"skipped (resume) {len(list(calls.glob('*.json'))) - 1}" in result.output
    if fmt == "jsonl":
        ids = [json.loads(line)["call_id"] for line in (out / "reports.jsonl").read_text().splitlines()]
        assert sorted(ids) == sorted(p.stem for p in calls.glob("*.json"))


def test_bad_rule_file_is_rendered_with_code_frame(tmp_path):
    rules = write(tmp_path / "r.yaml", "name: t\nrules:\n  - id: a\n    kind: phrase\n    category: x\n    message: m\n")
    result = runner.invoke(app, ["score", str(SAMPLES), "--rules", str(rules), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "r.yaml:4:11" in result.output and "[rule a]" in result.output
    assert "> 4 |     kind: phrase" in result.output and "did you mean 'phrases'" in result.output
    assert not (tmp_path / "o").exists() or not list((tmp_path / "o").iterdir())


def test_rules_test_command_passes_on_default_and_fails_on_wrong_example(tmp_path):
    result = runner.invoke(app, ["rules", "test", "rules/default.yaml"])
    assert result.exit_code == 0 and " 0 failed" in result.output
    rules = write(
        tmp_path / "r.yaml",
        "name: t\nrules:\n  - id: a\n    kind: phrases\n    category: x\n    message: m\n"
        "    phrases: [你找领导去]\n    examples: {hit: [您好], miss: [你找领导去]}\n",
    )
    result = runner.invoke(app, ["rules", "test", str(rules)])
    assert result.exit_code == 1 and "0 passed, 2 failed" in result.output


def test_iter_calls_reads_json_arrays_and_skips_reference_files(tmp_path):
    write(tmp_path / "two.json", [GOOD, GOOD | {"call_id": "second"}])
    write(tmp_path / "x.ref.json", GOOD)
    write(tmp_path / "notes.txt", "ignored in folders")
    assert [c.key for c in iter_calls([tmp_path])] == ["good", "second"]
    [unknown] = list(iter_calls([tmp_path / "notes.txt"]))
    assert "unknown file type" in unknown.error
