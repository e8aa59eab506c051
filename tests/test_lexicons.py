"""Lexicons: named word lists that every kind taking phrases or patterns can use."""

from __future__ import annotations

import pytest

from qa_engine.rulefile import RuleFileError
from qa_engine.workbench.lint import lint

from helpers import findings, rules_with_lexicons

LEXICON_PHRASES = """
- id: p
  kind: phrases
  category: c
  message: m
  phrases: ["@禁语", 我就这态度]
"""


def test_a_lexicon_reference_expands_to_its_entries_and_remembers_its_origin():
    engine = rules_with_lexicons("禁语: [你找领导去, 你问我我问谁]", LEXICON_PHRASES)
    spec = engine.rules.checks[0].spec
    assert list(spec.phrases) == ["你找领导去", "你问我我问谁", "我就这态度"]
    assert spec.phrases.origin == {"你找领导去": "禁语", "你问我我问谁": "禁语"}
    assert [f.evidence.text for f in findings(engine, "这事你找领导去")] == ["你找领导去"]
    assert findings(engine, "我帮您联系主管") == []


def test_an_unknown_lexicon_is_a_located_error_with_a_suggestion():
    with pytest.raises(RuleFileError) as error:
        rules_with_lexicons("禁语词: [你找领导去]", LEXICON_PHRASES)
    [problem] = error.value.problems
    assert problem.line == 9 and problem.rule_id == "p"
    assert "unknown lexicon '@禁语'" in problem.message and "@禁语词" in problem.message


def test_a_regex_can_use_a_lexicon_as_an_alternation():
    engine = rules_with_lexicons(
        "承诺词: [保证, 一定]\n结果: [送到]",
        """
- id: r
  kind: regex
  category: c
  message: m
  pattern: "{{承诺词}}.{0,4}{{结果}}"
""",
    )
    assert engine.rules.checks[0].spec.pattern == "(?:保证|一定).{0,4}(?:送到)"
    assert len(findings(engine, "我保证明天送到")) == 1
    assert findings(engine, "明天送到") == []


def test_lint_warns_on_an_unused_and_an_empty_lexicon():
    engine = rules_with_lexicons("禁语: [你找领导去]\n多余: [随便]\n空的: []", LEXICON_PHRASES)
    messages = [p.message for p in lint(engine.rules)]
    assert "lexicon '多余' is not used by any rule" in messages
    assert "lexicon '空的' is empty" in messages
    assert not any("'禁语'" in m for m in messages)
