"""The `opener` kind: a fixture table of dialogues and the evidence each must give, then edge cases."""

from __future__ import annotations

import pytest

from qa_engine.rulefile import RuleFileError

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


# ---- unpunctuated speech: clauses at discourse markers, exemptions as data ----

SPEECH_OPENER = """
- id: o
  kind: opener
  category: negative_opener
  message: m
  openers: [不, 我不]
  clauses: speech
  allow: [不客气, 不打扰, 不要挂机]
  exempt: ['不[^的]{0,10}的话', '不.{0,6}(是吧|吗)$']
"""


@pytest.mark.parametrize(
    ("sentence", "fires"),
    [
        ("嗯好的然后不是这个订单", True),
        ("好的好的我查一下嗯我不知道", True),
        ("那不行", True),  # 那 is a filler at the start of a clause
        ("嗯好的那这边就不打扰您了", False),  # 不 mid-clause
        ("不打扰您了祝您生活愉快", False),  # polite formula (allow)
        ("不方便的话我晚点再打给您", False),  # a condition (exempt)
        ("嗯不新鲜是吧", False),  # echoing the customer (exempt)
        ("对不起让您久等了", False),
        ("我们这边不能帮您改", False),
        ("就是不能回到您这个号码上", False),  # 就是 continues an explanation: not a filler to skip
    ],
)
def test_opener_on_unpunctuated_speech_with_exemptions(sentence, fires):
    assert bool(findings(one_rule(SPEECH_OPENER), sentence)) is fires


def test_opener_without_speech_clauses_keeps_the_old_behaviour():
    old = one_rule(SPEECH_OPENER.replace("  clauses: speech\n", ""))
    assert findings(old, "嗯好的然后不是这个订单") == []  # the whole turn is one clause opening with 嗯好的


def test_a_broken_exempt_pattern_is_a_located_error():
    with pytest.raises(RuleFileError) as error:
        one_rule(SPEECH_OPENER.replace("'不[^的]{0,10}的话'", "'(?=不)'"))
    assert "exempt" in str(error.value) and "does not compile" in str(error.value)


# ---- speech-to-text splits: continuations and false starts ----

def test_continuation_a_split_sentence_does_not_open_with_its_second_half():
    rule = SPEECH_OPENER + "  continuation_max_gap: 0.5\n"
    split = ["0-3 A: 我们不是说您反馈过来处理完就", "3.2-5 A: 不再处理商家问题了"]
    assert findings(one_rule(SPEECH_OPENER), split) != []  # without the option: the old finding
    assert findings(one_rule(rule), split) == []
    # after a pause it is a new sentence; after the customer spoke it is an answer
    assert len(findings(one_rule(rule), ["0-3 A: 我帮您查一下", "4.5-6 A: 不行这个改不了"])) == 1
    assert len(findings(one_rule(rule), ["0-3 A: 我帮您查一下", "3.1-4 C: 能改吗", "4.2-6 A: 不行这个改不了"])) == 1
    # only the first clause continues: a later clause of the same utterance still opens
    assert len(findings(one_rule(rule), ["0-3 A: 我帮您处理完就", "3.2-6 A: 不再处理了嗯我不知道"])) == 1


def test_false_start_only_the_restart_is_judged():
    rule = SPEECH_OPENER + "  skip_false_starts: true\n"
    assert len(findings(one_rule(SPEECH_OPENER), "嗯不嗯不客气女士")) == 1
    assert findings(one_rule(rule), "嗯不嗯不客气女士") == []
    assert len(findings(one_rule(rule), "不嗯不行这个改不了")) == 1  # the restart opens with 不 too
    assert len(findings(one_rule(rule), "不嗯这个我查一下")) == 1  # a lone 不 answer, no restart


def test_continuation_that_starts_with_a_hesitation_begins_anew():
    rule = SPEECH_OPENER + "  continuation_max_gap: 0.5\n"
    assert len(findings(one_rule(rule), ["0-3 A: 我会跟进问题处理的", "3.2-5 A: 嗯不会超过一个小时联系您"])) == 1
    assert findings(one_rule(rule), ["0-3 A: 我会跟进问题处理的", "3.2-5 A: 不会超过一个小时联系您"]) == []


def test_sentence_ends_a_previous_utterance_that_closed_its_sentence_is_not_continued():
    rule = SPEECH_OPENER + "  continuation_max_gap: 0.5\n  sentence_ends: [吧, 先生]\n"
    closed = ["0-3 A: 他又帮您去做了升级对吧", "3.2-5 A: 不是咱这边是有专员的"]
    assert len(findings(one_rule(rule), closed)) == 1
    assert findings(one_rule(rule), ["0-3 A: 我们处理完就", "3.2-5 A: 不再处理了"]) == []


def test_continuation_edges_punctuation_clauses_masked_turns_and_pauses():
    punctuated = OPENER + "  continuation_max_gap: 0.5\n"
    # with punctuation clauses a leading 嗯 still begins anew
    assert len(findings(one_rule(punctuated), ["0-3 A: 我会跟进问题处理的", "3.2-5 A: 嗯不会超过一个小时联系您"])) == 1
    assert findings(one_rule(punctuated), ["0-3 A: 我们处理完就", "3.2-5 A: 不再处理了"]) == []
    rule = SPEECH_OPENER + "  continuation_max_gap: 0.5\n"
    # a previous turn of masked data alone is no sentence to continue
    assert len(findings(one_rule(rule), ["0-3 A: ***", "3.2-5 A: 不行这个改不了"])) == 1
    # a gap of exactly the limit is a pause (untimed examples are 0.5 s apart)
    assert len(findings(one_rule(rule), ["A: 我帮您查一下", "A: 不行这个改不了"])) == 1


def test_false_start_before_another_opener_and_lint_of_sentence_ends():
    rule = SPEECH_OPENER + "  skip_false_starts: true\n"
    [finding] = findings(one_rule(rule), "不嗯我不知道")
    assert finding.match.pattern == "我不"
    from qa_engine import load_rules_text
    from qa_engine.workbench.lint import lint

    text = "name: t\nrules:\n" + "\n".join("  " + line for line in (SPEECH_OPENER + "  sentence_ends: [吗]\n").strip("\n").splitlines())
    assert any("sentence_ends applies with continuation_max_gap only" in w.message for w in lint(load_rules_text(text, "t.yaml")))
