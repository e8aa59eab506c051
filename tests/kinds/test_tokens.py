"""The `tokens` kind: a fixture table of dialogues and the evidence each must give, then edge cases."""

from __future__ import annotations

import pytest

from helpers import findings, one_rule, run_table

TOKENS = """
- id: t
  kind: tokens
  category: nonstandard
  message: m
  patterns:
    - [{TEXT: {IN: [不, 不是]}}, {OP: "?"}, {OP: "?"}, {TEXT: {IN: [管, 负责]}}]
"""


def test_tokens_negation_within_two_tokens_of_verb():
    engine = one_rule(TOKENS)
    [finding] = findings(engine, "这事不是我负责的")
    assert finding.match.mode == "tokens" and finding.evidence.text == "不是我负责"
    assert findings(engine, "我来负责帮您处理") == []


CASES = [
    ("这事不是我负责的", ["不是我负责"]),
    ("我来负责帮您处理", []),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_tokens_table(case):
    run_table(TOKENS, [CASES[case]])


def test_token_prefilter_is_sound():
    from qa_engine.kinds.tokens import required_literals

    pattern = [{"TEXT": {"REGEX": "^不"}}, {"OP": "?"}, {"TEXT": {"IN": ["管", "负责"]}}, {"LOWER": "ok", "OP": "*"}]
    assert required_literals(pattern) == [{"不"}, {"管", "负责"}]
    assert required_literals([{"POS": "VERB"}]) == []  # unknowable: always tokenize
