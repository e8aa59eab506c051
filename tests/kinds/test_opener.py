"""The `opener` kind: a fixture table of dialogues and the evidence each must give, then edge cases."""

from __future__ import annotations

import pytest

from helpers import findings, one_rule, run_table

OPENER = """
- id: o
  kind: opener
  category: negative_opener
  message: m
  openers: [不, 我不]
  allow: [不客气, 不好意思]
"""


def test_opener_fires_per_clause_and_respects_allow_list():
    engine = one_rule(OPENER)
    found = findings(engine, "好的，不行。我不知道")
    assert [f.match.pattern for f in found] == ["不", "我不"]
    assert findings(engine, "不客气，不好意思让您久等") == []
    assert findings(engine, "这个不行") == []


CASES = [
    ("好的，不行。我不知道", ["不行", "我不知道"]),
    ("不客气，不好意思让您久等", []),
    ("这个不行", []),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_opener_table(case):
    run_table(OPENER, [CASES[case]])
