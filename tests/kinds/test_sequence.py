"""The `sequence` kind: a fixture table of dialogues and the evidence each must give, then edge cases."""

from __future__ import annotations

import pytest

from helpers import findings, one_rule, run_table

SEQUENCE = """
- id: target
  kind: phrases
  category: nonstandard
  message: m
  phrases: [不归我们管]
- id: seq
  kind: sequence
  category: empathy
  message: m
  trigger: {speaker: customer, phrases: [投诉]}
  expect: {speaker: agent, any: [{phrases: [抱歉]}, {rules: [target]}], not: {phrases: [不抱歉]}}
  within_turns: 2
  fire_when: missing
"""


def test_sequence_missing_and_present_with_combinators():
    engine = one_rule(SEQUENCE)
    hit = findings(engine, ["C: 我要投诉", "A: 单号多少", "A: 好的"])
    assert [f.rule_id for f in hit] == ["seq"] and hit[0].utterance_index == 0
    assert findings(engine, ["C: 我要投诉", "A: 非常抱歉", "A: 好的"]) == []
    # `rules:` sees the other rule's hit on the same utterance
    assert [f.rule_id for f in findings(engine, ["C: 我要投诉", "A: 这个不归我们管"])] == ["target"]
    # the window closes at the end of the call
    assert [f.rule_id for f in findings(engine, ["C: 我要投诉"])] == ["seq"]


def test_sequence_present_mode():
    engine = one_rule(SEQUENCE.replace("fire_when: missing", "fire_when: present"))
    [finding] = [f for f in findings(engine, ["C: 我要投诉", "A: 这个不归我们管"]) if f.rule_id == "seq"]
    assert finding.utterance_index == 1 and "第 1 句" in finding.match.detail


CASES = [
    (["C: 我要投诉", "A: 单号多少", "A: 好的"], ["我要投诉"]),
    (["C: 我要投诉", "A: 非常抱歉", "A: 好的"], []),
    (["C: 我要投诉", "A: 这个不归我们管"], ["不归我们管"]),
    (["C: 我要投诉"], ["我要投诉"]),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_sequence_table(case):
    run_table(SEQUENCE, [CASES[case]])
