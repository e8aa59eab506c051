"""The `silence` kind: a fixture table of dialogues and the evidence each must give, then edge cases."""

from __future__ import annotations

import pytest

from helpers import findings, one_rule, run_table

SILENCE = """
- id: s
  kind: silence
  category: dead_air
  message: m
  max_gap: 10
  hold_phrases: [稍等]
  thank_phrases: [谢谢等待]
  thank_message: 未致谢
"""


def test_silence_gap_and_hold_exception():
    engine = one_rule(SILENCE)
    [gap] = findings(engine, ["0-3 A: 我查一下", "15-18 A: 查到了"])
    assert (gap.start, gap.end) == (3.0, 15.0) and gap.utterance_index == 0
    assert findings(engine, ["0-3 A: 请稍等", "16-18 A: 谢谢等待查到了"]) == []
    [thanks] = findings(engine, ["0-3 A: 请稍等", "3-4 C: 好", "16-18 A: 查到了"])
    assert thanks.message == "未致谢" and thanks.utterance_index == 2


def test_silence_overlapping_speech_is_not_a_gap():
    engine = one_rule(SILENCE)
    assert findings(engine, ["0-20 C: 我说了很久很久", "5-8 A: 嗯", "21-22 A: 好的"]) == []


CASES = [
    (["0-3 A: 我查一下", "15-18 A: 查到了"], ["我查一下"]),
    (["0-3 A: 请稍等", "16-18 A: 谢谢等待查到了"], []),
    (["0-3 A: 请稍等", "3-4 C: 好", "16-18 A: 查到了"], ["查到了"]),
    (["0-20 C: 我说了很久很久", "5-8 A: 嗯", "21-22 A: 好的"], []),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_silence_table(case):
    run_table(SILENCE, [CASES[case]])
