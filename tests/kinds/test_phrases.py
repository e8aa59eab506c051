"""The `phrases` kind: a fixture table of dialogues and the evidence each must give, then edge cases."""

from __future__ import annotations

import pytest

from helpers import findings, one_rule, run_table

PHRASES = """
- id: p
  kind: phrases
  category: forbidden
  message: m
  phrases: [你找领导去, 投诉]
"""


def test_phrases_fire_on_agent_with_evidence_and_offsets():
    [finding] = findings(one_rule(PHRASES), "这事，你找领导去吧")
    assert finding.rule_id == "p" and finding.speaker == "agent"
    assert finding.evidence.text == "你找领导去"
    assert (finding.evidence.start_char, finding.evidence.end_char) == (3, 8)
    assert finding.match.mode == "exact"


def test_phrases_ignore_the_other_speaker():
    assert findings(one_rule(PHRASES), ["C: 你找领导去"]) == []


def test_phrases_pinyin_hit_explains_itself():
    [finding] = findings(one_rule(PHRASES), "我要投述")
    assert finding.match.mode == "pinyin" and "投诉" in finding.match.detail
    assert finding.evidence.text == "投述"


CASES = [
    ("这事，你找领导去吧", ["你找领导去"]),
    ("我要投述", ["投述"]),
    (["C: 你找领导去"], []),
    ("我帮您联系一下主管", []),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_phrases_table(case):
    run_table(PHRASES, [CASES[case]])
