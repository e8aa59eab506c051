"""The `interruption` kind: a fixture table of dialogues and the evidence each must give, then edge cases."""

from __future__ import annotations

import pytest

from helpers import findings, one_rule, run_table

INTERRUPT = """
- id: i
  kind: interruption
  category: interruption
  message: m
"""


def test_interruption_needs_overlap_and_length():
    engine = one_rule(INTERRUPT)
    [finding] = findings(engine, ["0-6 C: 我的快递到现在还没有收到", "4-7 A: 您先听我说这个"])
    assert finding.match.score == 2.0 and finding.utterance_index == 1
    assert findings(engine, ["0-6 C: 我的快递到现在还没有收到", "5.5-7 A: 您先听我说这个"]) == []  # 0.5 s
    assert findings(engine, ["0-6 C: 我的快递到现在还没有收到", "3-4 A: 好的"]) == []  # backchannel


def test_interruption_found_whichever_utterance_arrives_first():
    engine = one_rule(INTERRUPT)
    from qa_engine.models import Utterance

    session = engine.session("c")
    assert session.feed(Utterance(speaker="agent", start=4, end=7, text="您先听我说这个")) == []
    found = session.feed(Utterance(speaker="customer", start=0, end=6, text="我的快递还没有收到"))
    assert [f.utterance_index for f in found] == [0]


def test_interruption_not_checked_on_mono(engine):
    from qa_engine.models import CallTranscript, Utterance

    call = CallTranscript(
        call_id="mono",
        utterances=[
            Utterance(speaker="unknown", start=0, end=6, text="我的快递还没有收到"),
            Utterance(speaker="unknown", start=4, end=7, text="你找领导去"),
        ],
    )
    report = engine.score(call)
    skipped = {n.rule_id for n in report.not_checked}
    assert "interruption.agent" in skipped and "forbidden.taboo" in skipped
    assert all("单声道" in n.reason for n in report.not_checked)
    assert "dead_air.gap" not in skipped


CASES = [
    (["0-6 C: 我的快递到现在还没有收到", "4-7 A: 您先听我说这个"], ["您先听我说这个"]),
    (["0-6 C: 我的快递到现在还没有收到", "5.5-7 A: 您先听我说这个"], []),
    (["0-6 C: 我的快递到现在还没有收到", "3-4 A: 好的"], []),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_interruption_table(case):
    run_table(INTERRUPT, [CASES[case]])
