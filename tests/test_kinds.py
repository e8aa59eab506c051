"""Each rule kind, firing and not firing, and each kind's own documented example."""

from __future__ import annotations

import re

import pytest

from qa_engine import load_rules_text
from qa_engine.examples import run_examples
from qa_engine.kinds import KINDS, kind_doc

from helpers import findings, one_rule


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_kind_docstring_documents_and_its_example_runs(kind):
    doc = kind_doc(kind)
    assert "Why:" in doc, f"{kind} docstring must say why the rule matters"
    block = re.search(r"```yaml\n(.*?)```", doc, re.S)
    assert block, f"{kind} docstring needs a ```yaml example rule"
    text = "name: doc\nrules:\n" + "\n".join("  " + line for line in block.group(1).splitlines())
    rules = load_rules_text(text, f"{kind} docstring")
    results = run_examples(rules)
    assert any(r.expected == "hit" for r in results) and any(r.expected == "miss" for r in results)
    assert [r for r in results if not r.ok] == []


PHRASES = """
- id: p
  kind: phrases
  category: forbidden
  message: m
  phrases: [你找领导去, 投诉]
"""


def test_phrases_fire_on_agent_with_evidence_and_offsets():
    [finding] = findings(one_rule(PHRASES), "这事，你找领导去吧")
    assert finding.rule_id == "p" and finding.speaker == "agent"
    assert finding.evidence.text == "你找领导去"
    assert (finding.evidence.start_char, finding.evidence.end_char) == (3, 8)
    assert finding.match.mode == "exact"


def test_phrases_ignore_the_other_speaker():
    assert findings(one_rule(PHRASES), ["C: 你找领导去"]) == []


def test_phrases_pinyin_hit_explains_itself():
    [finding] = findings(one_rule(PHRASES), "我要投述")
    assert finding.match.mode == "pinyin" and "投诉" in finding.match.detail
    assert finding.evidence.text == "投述"


REGEX = """
- id: r
  kind: regex
  category: nonstandard
  message: m
  pattern: 要我(说|讲)(多少|几)(遍|次)
  exclude: 不用
"""


def test_regex_fires_and_exclude_suppresses():
    engine = one_rule(REGEX)
    assert [f.evidence.text for f in findings(engine, "要我说多少遍你才明白")] == ["要我说多少遍"]
    assert findings(engine, "不用要我说多少遍吧") == []


def test_regex_is_linear_time_on_pathological_input():
    engine = one_rule(REGEX.replace("要我(说|讲)(多少|几)(遍|次)", "(a+)+$") + "  text: normalized\n")
    assert findings(engine, "a" * 5000 + "!") == []  # would hang Python's re


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


REQUIRED_FIRST = """
- id: g
  kind: required
  category: greeting
  message: m
  position: first
  turns: 1
  phrases: [您好]
  together_with: [中通, 工号]
"""


def test_required_greeting_decided_as_soon_as_window_passes():
    engine = one_rule(REQUIRED_FIRST)
    session = engine.session("c")
    from qa_engine.models import Utterance

    assert session.feed(Utterance(speaker="agent", start=0, end=1, text="喂")) == []
    found = session.feed(Utterance(speaker="agent", start=2, end=3, text="您好中通"))
    assert [f.rule_id for f in found] == ["g"]  # the window (1 agent turn) closed here
    assert found[0].utterance_index == 0


def test_required_needs_both_groups():
    engine = one_rule(REQUIRED_FIRST)
    assert [f.rule_id for f in findings(engine, ["A: 您好", "C: 嗯"])] == ["g"]
    assert findings(engine, ["A: 您好，中通速递", "C: 嗯"]) == []


def test_required_last_window():
    engine = one_rule(REQUIRED_FIRST.replace("position: first", "position: last").replace("together_with: [中通, 工号]", ""))
    assert [f.utterance_index for f in findings(engine, ["A: 您好", "C: 嗯", "A: 好的"])] == [2]
    assert findings(engine, ["A: 喂", "C: 嗯", "A: 您好再见"]) == []


def test_required_rejects_rule_without_window():
    from qa_engine import RuleFileError

    with pytest.raises(RuleFileError, match="window"):
        one_rule(REQUIRED_FIRST.replace("  turns: 1\n", ""))


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


def test_token_prefilter_is_sound():
    from qa_engine.kinds.tokens import required_literals

    pattern = [{"TEXT": {"REGEX": "^不"}}, {"OP": "?"}, {"TEXT": {"IN": ["管", "负责"]}}, {"LOWER": "ok", "OP": "*"}]
    assert required_literals(pattern) == [{"不"}, {"管", "负责"}]
    assert required_literals([{"POS": "VERB"}]) == []  # unknowable: always tokenize
