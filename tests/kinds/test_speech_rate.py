"""The `speech_rate` kind: a fixture table of dialogues and the evidence each must give, then edge cases."""

from __future__ import annotations

import pytest

from helpers import findings, one_rule, run_table

RATE = """
- id: sr
  kind: speech_rate
  category: speech_rate
  message: 语速过快
  max_cpm: 300
  min_chars: 5
"""


def test_speech_rate_per_utterance_and_call():
    engine = one_rule(RATE)
    found = findings(engine, ["0-2 A: 一二三四五六七八九十十一十二"])
    assert [f.utterance_index for f in found] == [0, None]
    assert findings(engine, ["0-10 A: 一二三四五六七八九十"]) == []


CASES = [
    (["0-2 A: 一二三四五六七八九十十一十二"], ["一二三四五六七八九十十一十二", ""]),
    (["0-10 A: 一二三四五六七八九十"], []),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_speech_rate_table(case):
    run_table(RATE, [CASES[case]])
