"""The rule language for real speech: lexicons, `near`, speech clauses, opener exemptions, episodes."""

from __future__ import annotations

import pytest

from qa_engine import Engine, load_rules_text
from qa_engine.clauses import split_speech
from qa_engine.rulefile import RuleFileError
from qa_engine.text import analyze
from qa_engine.workbench.lint import lint

from helpers import findings, one_rule


def rules_with_lexicons(lexicons: str, rules: str) -> Engine:
    text = "name: t\nlexicons:\n" + "\n".join("  " + line for line in lexicons.strip("\n").splitlines())
    text += "\nrules:\n" + "\n".join("  " + line for line in rules.strip("\n").splitlines())
    return Engine(load_rules_text(text, "t.yaml"))


# ---- lexicons --------------------------------------------------------------------------

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


# ---- near ------------------------------------------------------------------------------

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


# ---- clauses in unpunctuated speech --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "clauses"),
    [
        ("嗯好的那这边您稍等然后我不清楚这个情况", ["这边您稍等然后我不清楚这个情况"]),
        ("好的好的我查一下嗯我不知道您的快递在哪", ["我查一下", "我不知道您的快递在哪"]),
        ("对不起让您久等了", ["对不起让您久等了"]),  # 对不起 is one word: never "对" + "不起"
        ("你那不是已经退款了吗", ["你那不是已经退款了吗"]),  # 那 mid-sentence does not split
        ("嗯嗯嗯", []),
    ],
)
def test_speech_is_split_at_discourse_markers_and_clauses_start_after_fillers(text, clauses):
    assert [text[s:e] for s, e in split_speech(text)] == clauses


def test_speech_clauses_keep_punctuation_breaks_and_compact_offsets():
    analysis = analyze("不方便的话也可以，嗯好的我不清楚")
    assert [analysis.compact[s:e] for s, e in analysis.speech_clauses] == ["不方便的话也可以", "我不清楚"]


# ---- opener exemptions -------------------------------------------------------------------

OPENER = """
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
    ],
)
def test_opener_on_unpunctuated_speech_with_exemptions(sentence, fires):
    assert bool(findings(one_rule(OPENER), sentence)) is fires


def test_opener_without_speech_clauses_keeps_the_old_behaviour():
    old = one_rule(OPENER.replace("  clauses: speech\n", ""))
    assert findings(old, "嗯好的然后不是这个订单") == []  # the whole turn is one clause opening with 嗯好的


def test_a_broken_exempt_pattern_is_a_located_error():
    with pytest.raises(RuleFileError) as error:
        one_rule(OPENER.replace("'不[^的]{0,10}的话'", "'(?=不)'"))
    assert "exempt" in str(error.value) and "does not compile" in str(error.value)


# ---- episodes ----------------------------------------------------------------------------

EPISODES = """
- id: e
  kind: sequence
  category: empathy
  message: m
  trigger: {speaker: customer, phrases: [投诉, 拉肚子, 到底管不管]}
  expect: {speaker: agent, phrases: [抱歉, 别着急]}
  within_turns: 2
  episodes: true
"""


def test_one_finding_per_unresolved_episode_not_per_trigger():
    dialogue = ["C: 我吃完拉肚子了", "A: 订单号多少", "A: 我查一下", "C: 我要投诉", "A: 嗯您说", "C: 你们到底管不管", "A: 我看看"]
    [finding] = findings(one_rule(EPISODES), dialogue)
    assert finding.utterance_index == 0
    per_trigger = one_rule(EPISODES.replace("  episodes: true\n", ""))
    assert len(findings(per_trigger, dialogue)) == 3


def test_an_episode_ends_when_the_expectation_is_met_and_a_new_one_can_start():
    dialogue = ["C: 我要投诉", "A: 非常抱歉", "C: 我吃完拉肚子了", "A: 订单号多少", "A: 我查一下"]
    [finding] = findings(one_rule(EPISODES), dialogue)
    assert finding.utterance_index == 2


def test_an_episode_still_open_at_the_end_of_the_call_fires_once():
    [finding] = findings(one_rule(EPISODES), ["C: 我要投诉", "A: 订单号多少"])
    assert finding.utterance_index == 0


def test_lookback_a_recent_apology_covers_a_repeated_complaint():
    dialogue = ["C: 我要投诉", "A: 非常抱歉", "A: 订单号多少", "C: 到底管不管", "A: 我查一下", "A: 好了"]
    assert len(findings(one_rule(EPISODES), dialogue)) == 1
    assert findings(one_rule(EPISODES + "  lookback_turns: 2\n"), dialogue) == []


def test_max_findings_caps_a_call():
    dialogue = ["C: 我要投诉", "A: 嗯", "A: 查一下", "C: 非常抱歉", "A: 抱歉", "C: 拉肚子", "A: 嗯", "A: 好"]
    assert len(findings(one_rule(EPISODES), dialogue)) == 2
    assert len(findings(one_rule(EPISODES + "  max_findings: 1\n"), dialogue)) == 1


def test_backchannels_in_the_window_are_not_counted_as_turns():
    dialogue = ["C: 我吃完拉肚子了", "A: 嗯", "A: 嗯嗯", "A: 实在抱歉"]
    assert len(findings(one_rule(EPISODES), dialogue)) == 1
    assert findings(one_rule(EPISODES + "  window_ignore: [嗯, 嗯嗯]\n"), dialogue) == []


def test_pinyin_min_chars_keeps_short_broad_terms_literal():
    rule = EPISODES.replace("phrases: [投诉, 拉肚子, 到底管不管]}", "phrases: [臭了]}")
    dialogue = ["C: 我也瞅了", "A: 好的"]  # 瞅了 sounds like 臭了
    assert len(findings(one_rule(rule), dialogue)) == 1
    literal = rule.replace("phrases: [臭了]}", "phrases: [臭了], pinyin_min_chars: 3}")
    assert findings(one_rule(literal), dialogue) == []
