"""Bad rule files fail at load with the file, line, column and rule id, and a hint."""

from __future__ import annotations

import pytest

from qa_engine import RuleFileError, load_rules, load_rules_text

GOOD_RULE = """\
name: t
rules:
  - id: ok.rule
    kind: phrases
    category: forbidden
    message: 禁语
    phrases: [你找领导去]
"""


def problems(text: str):
    with pytest.raises(RuleFileError) as caught:
        load_rules_text(text, "bad.yaml")
    return caught.value.problems


def test_good_file_loads():
    rules = load_rules_text(GOOD_RULE, "good.yaml")
    assert [c.spec.id for c in rules.checks] == ["ok.rule"]
    assert len(rules.sha256) == 64


def test_unknown_kind_lists_valid_kinds_and_suggests():
    [p] = problems(GOOD_RULE.replace("kind: phrases", "kind: phrase"))
    assert p.rule_id == "ok.rule" and p.line == 4 and p.path == "bad.yaml"
    assert "unknown rule kind 'phrase'" in p.message
    assert "did you mean 'phrases'" in p.hint and "sequence" in p.hint


def test_wrong_key_is_named_with_suggestion():
    messages = {q.message for q in problems(GOOD_RULE.replace("phrases: [", "phrase: ["))}
    assert any("unknown key 'phrase'" in m for m in messages)
    bad = next(q for q in problems(GOOD_RULE.replace("phrases: [", "phrase: [")) if "unknown key" in q.message)
    assert bad.line == 7 and bad.column == 5 and "did you mean 'phrases'" in bad.hint


def test_missing_field():
    found = problems(GOOD_RULE.replace("    message: 禁语\n", ""))
    assert any("missing required key 'message'" in p.message and p.rule_id == "ok.rule" for p in found)


def test_broken_regex_names_rule_and_line():
    text = GOOD_RULE + "  - id: re.bad\n    kind: regex\n    category: x\n    message: m\n    pattern: '(未闭合'\n"
    [p] = problems(text)
    assert p.rule_id == "re.bad" and p.line == 12 and "does not compile" in p.message


def test_lookahead_is_explained_as_re2_limit():
    text = GOOD_RULE + "  - id: re.look\n    kind: regex\n    category: x\n    message: m\n    pattern: '不(?!客气)'\n"
    [p] = problems(text)
    assert "exclude" in p.message


def test_bad_token_pattern():
    text = GOOD_RULE + "  - id: tok\n    kind: tokens\n    category: x\n    message: m\n    patterns:\n      - [{NOPE: 1}]\n"
    [p] = problems(text)
    assert p.rule_id == "tok" and p.line == 13 and "spaCy" in p.message


def test_invalid_yaml_points_at_line():
    [p] = problems("name: t\nrules:\n  - id: a\n    kind: [unclosed\n")
    assert "not valid YAML" in p.message and p.line is not None


def test_duplicate_rule_id_and_duplicate_key():
    dup = GOOD_RULE + GOOD_RULE.split("rules:\n")[1]
    assert any("used twice" in p.message for p in problems(dup))
    twice = GOOD_RULE.replace("    message: 禁语\n", "    message: 禁语\n    message: 又一次\n")
    [p] = problems(twice)
    assert "appears twice" in p.message and p.line == 7


def test_sequence_reference_to_missing_rule():
    text = GOOD_RULE + (
        "  - id: seq\n    kind: sequence\n    category: x\n    message: m\n"
        "    trigger: {rules: [ok.rul]}\n    expect: {phrases: [抱歉]}\n"
    )
    [p] = problems(text)
    assert p.rule_id == "seq" and "ok.rul" in p.message and "did you mean 'ok.rule'" in p.hint


def test_value_out_of_range():
    found = problems(GOOD_RULE.replace("    phrases:", "    fuzzy_threshold: 20\n    phrases:"))
    assert any("fuzzy_threshold" in p.message and p.line == 7 for p in found)


def test_not_a_mapping_and_empty_rules():
    assert "mapping" in problems("- just a list\n")[0].message
    assert any("rules" in p.message for p in problems("name: t\nrules: []\n"))


def test_missing_file(tmp_path):
    with pytest.raises(RuleFileError, match="not found"):
        load_rules(tmp_path / "nope.yaml")


def test_problem_renders_file_line_rule():
    [p] = problems(GOOD_RULE.replace("kind: phrases", "kind: phrase"))
    assert str(p).startswith("bad.yaml:4:") and "[rule ok.rule]" in str(p)
