"""The `regex` kind: a fixture table of dialogues and the evidence each must give, then edge cases."""

from __future__ import annotations

import pytest

from helpers import findings, one_rule, run_table

REGEX = """
- id: r
  kind: regex
  category: nonstandard
  message: m
  pattern: 要我(说|讲)(多少|几)(遍|次)
  exclude: 不用
"""


def test_regex_fires_and_exclude_suppresses():
    engine = one_rule(REGEX)
    assert [f.evidence.text for f in findings(engine, "要我说多少遍你才明白")] == ["要我说多少遍"]
    assert findings(engine, "不用要我说多少遍吧") == []


def test_regex_is_linear_time_on_pathological_input():
    engine = one_rule(REGEX.replace("要我(说|讲)(多少|几)(遍|次)", "(a+)+$") + "  text: normalized\n")
    assert findings(engine, "a" * 5000 + "!") == []  # would hang Python's re


CASES = [
    ("要我说多少遍你才明白", ["要我说多少遍"]),
    ("要我讲几次", ["要我讲几次"]),
    ("不用要我说多少遍吧", []),
    ("我再给您说一遍", []),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_regex_table(case):
    run_table(REGEX, [CASES[case]])
