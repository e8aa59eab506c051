"""The `sequence` kind: a fixture table of dialogues and the evidence each must give, then edge cases."""

from __future__ import annotations

import pytest

from helpers import findings, one_rule, run_table

SEQUENCE = """
- id: target
  kind: phrases
  category: nonstandard
  message: m
  phrases: [不归我们管]
- id: seq
  kind: sequence
  category: empathy
  message: m
  trigger: {speaker: customer, phrases: [投诉]}
  expect: {speaker: agent, any: [{phrases: [抱歉]}, {rules: [target]}], not: {phrases: [不抱歉]}}
  within_turns: 2
  fire_when: missing
"""


def test_sequence_missing_and_present_with_combinators():
    engine = one_rule(SEQUENCE)
    hit = findings(engine, ["C: 我要投诉", "A: 单号多少", "A: 好的"])
    assert [f.rule_id for f in hit] == ["seq"] and hit[0].utterance_index == 0
    assert findings(engine, ["C: 我要投诉", "A: 非常抱歉", "A: 好的"]) == []
    # `rules:` sees the other rule's hit on the same utterance
    assert [f.rule_id for f in findings(engine, ["C: 我要投诉", "A: 这个不归我们管"])] == ["target"]
    # the window closes at the end of the call
    assert [f.rule_id for f in findings(engine, ["C: 我要投诉"])] == ["seq"]


def test_sequence_present_mode():
    engine = one_rule(SEQUENCE.replace("fire_when: missing", "fire_when: present"))
    [finding] = [f for f in findings(engine, ["C: 我要投诉", "A: 这个不归我们管"]) if f.rule_id == "seq"]
    assert finding.utterance_index == 1 and "第 1 句" in finding.match.detail


CASES = [
    (["C: 我要投诉", "A: 单号多少", "A: 好的"], ["我要投诉"]),
    (["C: 我要投诉", "A: 非常抱歉", "A: 好的"], []),
    (["C: 我要投诉", "A: 这个不归我们管"], ["不归我们管"]),
    (["C: 我要投诉"], ["我要投诉"]),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_sequence_table(case):
    run_table(SEQUENCE, [CASES[case]])


# ---- episodes: one finding per unresolved episode ----

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


def test_window_min_chars_cut_off_fragments_answer_nothing():
    dialogue = ["C: 我吃完拉肚子了", "A: 那好", "A: 这可", "A: 实在抱歉"]  # fragments the recogniser cut off
    assert len(findings(one_rule(EPISODES), dialogue)) == 1
    assert findings(one_rule(EPISODES + "  window_min_chars: 3\n"), dialogue) == []
    # ignored words do not count towards the length
    padded = ["C: 我吃完拉肚子了", "A: 嗯那好", "A: 哦这可", "A: 实在抱歉"]
    assert len(findings(one_rule(EPISODES + "  window_min_chars: 3\n"), padded)) == 1
    assert findings(one_rule(EPISODES + "  window_min_chars: 3\n  window_ignore: [嗯, 哦]\n"), padded) == []
    # two real replies of three characters use up the window: the apology after them is too late
    late = ["C: 我吃完拉肚子了", "A: 订单号", "A: 查一下", "A: 实在抱歉"]
    assert len(findings(one_rule(EPISODES + "  window_min_chars: 3\n"), late)) == 1
    # a short turn that meets `expect` still counts: 抱歉 is an apology however short
    assert findings(one_rule(EPISODES + "  window_min_chars: 3\n"), ["C: 我吃完拉肚子了", "A: 抱歉", "A: 查一下", "A: 订单号"]) == []
    # only the ends are stripped: 对 in 对不起 stays (with 对不起 as the apology, 对 ignored)
    sorry = EPISODES.replace("expect: {speaker: agent, phrases: [抱歉, 别着急]}", "expect: {speaker: agent, phrases: [对不起]}")
    sorry += "  window_min_chars: 3\n  window_ignore: [对, 嗯]\n"
    assert findings(one_rule(sorry), ["C: 我吃完拉肚子了", "A: 对不起", "A: 订单号", "A: 查一下"]) == []


def test_window_min_chars_long_runs_of_ignored_words_at_either_end():
    # 嗯 sixty times, then a word: a run anchored at the end is exponential in a backtracking
    # engine, so this would not finish there; RE2 reads it in linear time.
    rule = EPISODES + "  window_min_chars: 3\n  window_ignore: [嗯, 嗯嗯]\n"
    fragment = "嗯" * 60 + "这可" + "嗯" * 60
    assert findings(one_rule(rule), ["C: 我吃完拉肚子了", f"A: {fragment}", f"A: {fragment}", "A: 实在抱歉"]) == []
    reply = "查" + "嗯" * 60 + "一下"  # a run inside the turn, tried against the end and failing there
    assert len(findings(one_rule(rule), ["C: 我吃完拉肚子了", f"A: {reply}", f"A: {reply}", "A: 实在抱歉"])) == 1


def test_pinyin_min_chars_keeps_short_broad_terms_literal():
    rule = EPISODES.replace("phrases: [投诉, 拉肚子, 到底管不管]}", "phrases: [臭了]}")
    dialogue = ["C: 我也瞅了", "A: 好的"]  # 瞅了 sounds like 臭了
    assert len(findings(one_rule(rule), dialogue)) == 1
    literal = rule.replace("phrases: [臭了]}", "phrases: [臭了], pinyin_min_chars: 3}")
    assert findings(one_rule(literal), dialogue) == []


def test_skip_answered_the_same_complaint_told_again_needs_no_new_apology():
    dialogue = ["C: 我吃完拉肚子了", "A: 非常抱歉", "A: 订单号多少", "A: 我查一下", "A: 请稍等",
                "C: 拉肚子一晚上", "A: 好的", "A: 我看看"]
    [finding] = findings(one_rule(EPISODES), dialogue)
    assert finding.utterance_index == 5
    assert findings(one_rule(EPISODES + "  skip_answered: true\n"), dialogue) == []


def test_skip_answered_a_new_complaint_still_opens_an_episode():
    dialogue = ["C: 我吃完拉肚子了", "A: 非常抱歉", "A: 订单号多少", "A: 我查一下", "A: 请稍等",
                "C: 拉肚子了我要投诉", "A: 好的", "A: 我看看"]
    [finding] = findings(one_rule(EPISODES + "  skip_answered: true\n"), dialogue)
    assert finding.utterance_index == 5  # 投诉 was never answered


def test_episode_options_without_episodes_are_warned_about():
    from qa_engine import load_rules_text
    from qa_engine.workbench.lint import lint

    text = "name: t\nrules:\n" + "\n".join("  " + line for line in EPISODES.replace("  episodes: true\n", "  skip_answered: true\n").strip("\n").splitlines())
    warnings = lint(load_rules_text(text, "t.yaml"))
    assert any("skip_answered applies to episodes only" in w.message for w in warnings)
