"""The `required` kind: a fixture table of dialogues and the evidence each must give, then edge cases."""

from __future__ import annotations

import pytest

from helpers import findings, one_rule, run_table

REQUIRED_FIRST = """
- id: g
  kind: required
  category: greeting
  message: m
  position: first
  turns: 1
  phrases: [您好]
  together_with: [中通, 工号]
"""


def test_required_greeting_decided_as_soon_as_window_passes():
    engine = one_rule(REQUIRED_FIRST)
    session = engine.session("c")
    from qa_engine.models import Utterance

    assert session.feed(Utterance(speaker="agent", start=0, end=1, text="喂")) == []
    found = session.feed(Utterance(speaker="agent", start=2, end=3, text="您好中通"))
    assert [f.rule_id for f in found] == ["g"]  # the window (1 agent turn) closed here
    assert found[0].utterance_index == 0


def test_required_needs_both_groups():
    engine = one_rule(REQUIRED_FIRST)
    assert [f.rule_id for f in findings(engine, ["A: 您好", "C: 嗯"])] == ["g"]
    assert findings(engine, ["A: 您好，中通速递", "C: 嗯"]) == []


def test_required_last_window():
    engine = one_rule(REQUIRED_FIRST.replace("position: first", "position: last").replace("together_with: [中通, 工号]", ""))
    assert [f.utterance_index for f in findings(engine, ["A: 您好", "C: 嗯", "A: 好的"])] == [2]
    assert findings(engine, ["A: 喂", "C: 嗯", "A: 您好再见"]) == []


def test_required_rejects_rule_without_window():
    from qa_engine import RuleFileError

    with pytest.raises(RuleFileError, match="window"):
        one_rule(REQUIRED_FIRST.replace("  turns: 1\n", ""))


CASES = [
    (["A: 您好", "C: 嗯"], ["您好"]),
    (["A: 您好，中通速递", "C: 嗯"], []),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_required_table(case):
    run_table(REQUIRED_FIRST, [CASES[case]])


def test_ignore_turns_a_turn_of_fillers_or_masked_data_is_not_the_opening():
    plain = REQUIRED_FIRST.replace("  together_with: [中通, 工号]\n", "")
    ignoring = plain + "  ignore_turns: [嗯, 喂]\n"
    for first in ("A: 嗯", "A: 喂喂", "A: ***"):
        dialogue = [first, "A: 您好这边是客服", "C: 我查个快递"]
        assert len(findings(one_rule(plain), dialogue)) == 1, first  # without the option: the old finding
        assert findings(one_rule(ignoring), dialogue) == [], first
    # a real first turn without a greeting still fires
    assert len(findings(one_rule(ignoring), ["A: 嗯什么事", "A: 您好", "C: 我查个快递"])) == 1


def test_ignore_turns_outside_the_opening_is_warned_about():
    from qa_engine import load_rules_text
    from qa_engine.workbench.lint import lint

    last = REQUIRED_FIRST.replace("position: first", "position: last") + "  ignore_turns: [嗯]\n"
    text = "name: t\nrules:\n" + "\n".join("  " + line for line in last.strip("\n").splitlines())
    assert any("ignore_turns applies with position: first only" in w.message for w in lint(load_rules_text(text, "t.yaml")))
