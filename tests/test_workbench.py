"""The QA lead's rule tools: check, schema, explain, diff, calibrate."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from qa_engine.cli import app

from helpers import ROOT, SAMPLES

runner = CliRunner()
DEFAULT = str(ROOT / "rules" / "default.yaml")

EVERY_MISTAKE = """\
name: 错误示例
rules:
  - id: a.kind
    kind: phrase
    category: forbidden
    message: m
  - id: b.key
    kind: phrases
    category: forbidden
    message: m
    phrase: [你找领导去]
  - id: c.regex
    kind: regex
    category: forbidden
    message: m
    pattern: "(不闭合"
  - id: d.missing
    kind: required
    category: greeting
    phrases: [您好]
    position: first
    turns: 1
"""

WARNINGS = """\
name: 警告示例
categories: {forbidden: 服务禁语}
rules:
  - id: w.one
    kind: phrases
    category: forbidden
    message: m
    fuzzy_threshold: 60
    phrases: [你找领导去, "。。", 请问您的运单号]
    examples: {hit: [你找领导去]}
  - id: w.two
    kind: phrases
    category: uncategorised
    message: m
    phrases: [你找领导去]
  - id: w.three
    kind: sequence
    category: forbidden
    message: m
    trigger: {rules: [w.off]}
    expect: {phrases: [抱歉]}
    examples: {miss: [您好]}
  - id: w.off
    kind: phrases
    category: forbidden
    message: m
    enabled: false
    phrases: [嘛]
"""


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_check_default_rules_is_clean():
    result = runner.invoke(app, ["rules", "check", DEFAULT])
    assert result.exit_code == 0 and "0 errors, 0 warnings" in result.output


def test_check_reports_every_kind_of_mistake_with_location(tmp_path):
    path = write(tmp_path, "bad.yaml", EVERY_MISTAKE)
    result = runner.invoke(app, ["rules", "check", path])
    assert result.exit_code == 1
    out = result.output
    assert "bad.yaml:4:11: [rule a.kind]" in out and "unknown rule kind 'phrase'" in out
    assert "[rule b.key]" in out and "unknown key 'phrase'" in out and "did you mean 'phrases'" in out
    assert "[rule d.missing]" in out and "missing required key 'message'" in out
    assert "> 4 |     kind: phrase" in out


def test_check_reports_broken_regex_once_schema_is_valid(tmp_path):
    text = EVERY_MISTAKE.split("  - id: a.kind")[0] + "  - id: c.regex" + EVERY_MISTAKE.split("  - id: c.regex")[1].split("  - id: d")[0]
    result = runner.invoke(app, ["rules", "check", write(tmp_path, "re.yaml", text)])
    assert result.exit_code == 1 and "[rule c.regex]" in result.output and "does not compile" in result.output


def test_check_warnings(tmp_path):
    result = runner.invoke(app, ["rules", "check", write(tmp_path, "warn.yaml", WARNINGS)])
    out = result.output
    assert result.exit_code == 0, out
    assert "fuzzy_threshold 60 is low" in out
    assert "normalises to nothing" in out
    assert "also in rule 'w.one'" in out
    assert "refers to disabled rule 'w.off'" in out
    assert "category 'uncategorised' has no label" in out
    assert "fuzzy-matches the ordinary sentence" in out
    assert "rule has no examples" in out
    strict = runner.invoke(app, ["rules", "check", "--strict", write(tmp_path, "warn.yaml", WARNINGS)])
    assert strict.exit_code == 1


def test_schema_is_json_schema_with_every_kind():
    result = runner.invoke(app, ["rules", "schema"])
    schema = json.loads(result.output)
    text = json.dumps(schema)
    for kind in ("phrases", "regex", "tokens", "opener", "required", "interruption", "silence", "speech_rate", "sequence"):
        assert f'"{kind}"' in text
    assert schema["title"] == "RuleFileModel" and "rules" in schema["properties"]


def test_default_rule_file_points_editors_at_the_schema():
    first = (ROOT / "rules" / "default.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema=")


def test_explain_kind_and_rule():
    result = runner.invoke(app, ["rules", "explain", "opener"])
    assert result.exit_code == 0 and "不客气" in result.output and "Why:" in result.output
    result = runner.invoke(app, ["rules", "explain", "forbidden.taboo", "--text", "你問我我問隋"])
    out = result.output
    assert result.exit_code == 0
    assert "normalised    你问我我问隋" in out and "ni wen wo wo wen sui" in out
    assert "match: pinyin" in out and "FIRES" in out
    result = runner.invoke(app, ["rules", "explain", "forbidden.taboo", "--text", "请问您的运单号"])
    assert "does not fire" in result.output
    assert runner.invoke(app, ["rules", "explain", "no.such.rule", "--text", "x"]).exit_code == 1


def test_diff_shows_counts_flips_and_examples(tmp_path):
    new = (ROOT / "rules" / "default.yaml").read_text(encoding="utf-8").replace(
        "    pass_mark: 80", "    pass_mark: 80"
    ).replace("      - 你找领导去\n", "").replace("max_deduction: 15\n    min_chars: 4", "max_deduction: 30\n    min_chars: 4")
    new = new.replace("  pass_mark: 80", "  pass_mark: 95")
    result = runner.invoke(app, ["rules", "diff", DEFAULT, write(tmp_path, "new.yaml", new), str(SAMPLES)])
    out = result.output
    assert result.exit_code == 0, out
    assert "forbidden.taboo" in out and "- forbidden.taboo: forbidden_03" in out
    assert "判定变化" in out


def test_calibrate_on_samples(tmp_path):
    result = runner.invoke(app, ["calibrate", str(SAMPLES), "--labels", str(ROOT / "samples" / "labels.csv"), "--markdown"])
    out = result.output
    assert result.exit_code == 0, out
    assert "| 服务禁语 (forbidden) | 3 | 4 | 4 | 1.00 | 1.00 | 1.00 |" in out
    assert "complaint_12 #2 courtesy" in out  # a reviewer's label no rule covers
    assert "模糊匹配阈值" in out


def test_calibrate_counts_false_positives(tmp_path):
    labels = write(tmp_path, "labels.csv", "call_id,utterance_index,category\nforbidden_03,2,forbidden\n")
    result = runner.invoke(app, ["calibrate", str(SAMPLES / "forbidden_03.json"), "--labels", labels, "--no-tune", "--markdown"])
    assert "| 服务禁语 (forbidden) | 1 | 2 | 1 | 0.50 | 1.00 | 0.67 |" in result.output
    assert "forbidden_03 #4 forbidden forbidden.taboo" in result.output


def test_calibrate_bad_label_file(tmp_path):
    labels = write(tmp_path, "labels.csv", "call,category\nx,y\n")
    result = runner.invoke(app, ["calibrate", str(SAMPLES), "--labels", labels])
    assert result.exit_code == 1 and "missing column(s) call_id, utterance_index" in result.output
