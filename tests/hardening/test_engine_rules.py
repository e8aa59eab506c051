"""Hardening: rule files and the engine stay bounded on hostile input."""

from __future__ import annotations

import time

import pytest
from typer.testing import CliRunner

from qa_engine import Engine
from qa_engine.cli import app
from qa_engine.kinds.interruption import InterruptionCheck
from qa_engine.models import CallTranscript, Utterance
from qa_engine.rulefile import RuleFileError, load_rules_text

runner = CliRunner()

RULE = """
  - id: r1
    kind: phrases
    category: c
    message: m
    phrases: [你找领导去]
"""


def alias_bomb(levels: int) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels + 1):
        prev = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([prev] * 9)}]")
    return "\n".join(lines) + "\nname: bomb\nrules:" + RULE


def test_defect_03_yaml_alias_bomb_is_rejected_fast_with_a_location(tmp_path):
    for levels in (7, 9):
        text = alias_bomb(levels)
        assert len(text) < 800
        started = time.perf_counter()
        with pytest.raises(RuleFileError) as caught:
            load_rules_text(text, "bomb.yaml")
        assert time.perf_counter() - started < 2
        (problem,) = caught.value.problems
        assert "expands to more than" in problem.message and problem.line is not None
    path = tmp_path / "bomb.yaml"
    path.write_text(alias_bomb(9), encoding="utf-8")
    result = runner.invoke(app, ["rules", "check", str(path)])
    assert result.exit_code == 1 and "expands to more than" in result.output


def test_defect_03_a_few_aliases_still_work():
    text = "name: ok\nwords: &w [你找领导去]\nrules:" + RULE.replace("[你找领导去]", "*w")
    with pytest.raises(RuleFileError) as caught:  # an unknown top-level key, reported as before
        load_rules_text(text, "ok.yaml")
    assert "unknown key 'words'" in str(caught.value)


def test_defect_14_deeply_nested_rule_yaml_is_a_located_error(tmp_path):
    path = tmp_path / "deep.yaml"
    for depth in (60, 100000):
        path.write_text("name: x\nrules:" + RULE + "description: " + "[" * depth, encoding="utf-8")
        result = runner.invoke(app, ["rules", "check", str(path)])
        assert result.exit_code == 1, result.output
        assert f"{path}:8:" in result.output and "Traceback" not in result.output
        assert ("nested more than 50 levels" if depth == 60 else "depth") in result.output


def test_defect_12_token_regex_runs_on_re2():
    text = (
        "name: t\nrules:\n  - id: t1\n    kind: tokens\n    category: c\n    message: m\n    speaker: any\n"
        '    patterns:\n      - [{TEXT: {REGEX: "(a+)+$"}}]\n'
    )
    engine = Engine(load_rules_text(text, "t.yaml"))
    call = CallTranscript(
        call_id="x", utterances=[Utterance(speaker="agent", start=0, end=1, text="a" * 27 + "b")]
    )
    started = time.perf_counter()
    report = engine.score(call)
    assert time.perf_counter() - started < 2  # Python's re: about 30 s for this one token
    assert report.status == "scored" and not report.findings
    hit = CallTranscript(call_id="y", utterances=[Utterance(speaker="agent", start=0, end=1, text="aaaa")])
    assert [f.rule_id for f in engine.score(hit).findings] == ["t1"]


def test_defect_12_token_regex_re2_cannot_compile_is_a_located_error():
    text = (
        "name: t\nrules:\n  - id: t1\n    kind: tokens\n    category: c\n    message: m\n"
        '    patterns:\n      - [{TEXT: {REGEX: "^不(?!客气)"}}]\n'
    )
    with pytest.raises(RuleFileError) as caught:
        load_rules_text(text, "t.yaml")
    (problem,) = caught.value.problems
    assert problem.rule_id == "t1" and problem.line == 8 and "does not compile" in problem.message


def test_defect_02_interruption_check_is_not_quadratic(default_rules, monkeypatch):
    calls = 0
    original = InterruptionCheck._overlaps

    def counting(self, call, other, mine):
        nonlocal calls
        calls += 1
        return original(self, call, other, mine)

    monkeypatch.setattr(InterruptionCheck, "_overlaps", counting)
    n = 10_000
    utterances = [Utterance(speaker="customer", start=0, end=1e9, text="我上周寄的快递到现在还没有收到")]
    for i in range(1, n):
        speaker = "agent" if i % 2 else "customer"
        utterances.append(Utterance(speaker=speaker, start=i * 3.0, end=i * 3.0 + 2, text="您好请问有什么可以帮您"))
    rules = default_rules.with_checks([c for c in default_rules.checks if c.spec.kind == "interruption"])
    report = Engine(rules).score(CallTranscript(call_id="long", utterances=utterances))
    assert calls < 20 * n
    assert len(report.findings) == n // 2  # every agent turn talks over the endless customer turn
