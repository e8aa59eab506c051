"""The `near` kind: term groups close together in one clause, ordered or not, with `unless`."""

from __future__ import annotations

import pytest
from test_lexicons import rules_with_lexicons

from helpers import findings, one_rule

NEAR = """
- id: n
  kind: near
  category: overpromise
  message: m
  groups: [[保证, 一定, 肯定], [送到, 找到, 解决]]
  distance: 6
  unless: [不一定, 尽量, 跟进]
"""


@pytest.mark.parametrize(
    ("sentence", "fires"),
    [
        ("我保证明天给您送到", True),
        ("嗯这个肯定能帮您找到的", True),
        ("我保证明天上午十点之前给您送到", False),  # 9 characters apart: over the distance
        ("明天给您送到我保证", False),  # wrong order
        ("不一定今天能送到", False),  # `unless` in the same clause
        ("我一定尽量帮您解决", False),
        ("我一定会跟进，明天送到", False),  # `unless` and the outcome in another clause
        ("我一定帮您跟进嗯好的然后明天送到", False),  # a discourse marker ends the clause
        ("我保正明天给您送到", True),  # 保正: a homophone, matched by pinyin
    ],
)
def test_near_fires_on_terms_close_together_in_one_clause(sentence, fires):
    assert bool(findings(one_rule(NEAR), sentence)) is fires


def test_near_explains_which_terms_matched_how_far_apart_and_their_lexicons():
    engine = rules_with_lexicons(
        "承诺词: [保证]\n结果: [送到]",
        """
- id: n
  kind: near
  category: overpromise
  message: m
  groups: [["@承诺词"], ["@结果"]]
  distance: 6
""",
    )
    [finding] = findings(engine, "好的，我保证明天送到")
    assert finding.match.mode == "near"
    assert finding.evidence.text == "保证明天送到" and finding.evidence.start_char == 4
    assert "「保证」(承诺词)" in finding.match.detail and "「送到」(结果)" in finding.match.detail
    assert "相距 2 字(阈值 6 字)" in finding.match.detail


def test_near_unordered_finds_the_groups_either_way_round():
    engine = one_rule(NEAR + "  ordered: false\n")
    assert len(findings(engine, "明天给您送到我保证")) == 1
