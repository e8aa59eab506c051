"""Customer emotion (text and voice), call metrics, the emotion/metric kinds and the live events."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from qa_engine import Engine, load_rules
from qa_engine.emotion import EmotionAnalyzer, EmotionConfig, EmotionTrack
from qa_engine.live.call import EmotionAlert, LiveCall
from qa_engine.metrics import MetricsConfig, compute_metrics
from qa_engine.models import CallTranscript, Utterance, UtteranceEmotion
from qa_engine.rulefile import RuleFileModel, load_rules_text
from qa_engine.text import analyze
from qa_engine.voice import attach_voice, loudness_dbfs, measure, pitch
from qa_engine.workbench.lint import lint

ROOT = Path(__file__).resolve().parent.parent
RAISED = ROOT / "tests" / "fixtures" / "audio" / "raised_voice_05.flac"
RAISED_VOICE_ONLY = ROOT / "tests" / "fixtures" / "audio" / "raised_voice_06.flac"
SR = 16000


def read(texts, speaker="customer", analyzer=None):
    analyzer = analyzer or EmotionAnalyzer()
    track = EmotionTrack()
    out = []
    for i, text in enumerate(texts):
        u = Utterance(speaker=speaker, start=i * 5.0, end=i * 5.0 + 4, text=text)
        out.append(analyzer.read(track, i, u, analyze(text)))
    return out


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("我很不满意", "upset"),
        ("不是不满意", "calm"),
        ("没问题谢谢", "calm"),
        ("我想查一下我的订单", "calm"),
        ("外卖里吃出虫子了", "upset"),
        ("你们到底管不管凭什么不给我退", "angry"),
        ("什么态度太恶心了", "angry"),
        ("他妈的", "upset"),
    ],
)
def test_text_levels(text, level):
    assert read([text])[0].level == level


def test_negation_intensifier_and_evidence():
    (plain,), (strong,) = read(["不满意"]), read(["太不满意了"])
    assert strong.score > plain.score
    assert strong.words[0].text == "不满意" and strong.words[0].start_char == 1
    satisfied = read(["非常满意"])[0]
    assert satisfied.label == "satisfied" and satisfied.level == "calm"
    assert read(["不太满意"])[0].label == "negative"


def test_repeated_pressing_three_turns_is_anger():
    emotions = read(["尽快给我处理", "你赶紧的", "马上处理"])
    assert not any("催促" in r for e in emotions[:2] for r in e.reasons)
    assert "连续 3 句催促" in emotions[2].reasons and emotions[2].label == "angry"


def test_rule_file_extends_the_lexicon():
    config = RuleFileModel.model_validate(
        {"name": "x", "lexicons": {"方言": ["气煞"]}, "emotion": {"add": {"angry": ["@方言"]}}, "rules": [
            {"id": "a", "kind": "emotion", "category": "c", "message": "m"}]},
        context={"lexicons": {"方言": ["气煞"]}},
    ).emotion
    assert read(["真是气煞我了"], analyzer=EmotionAnalyzer(config))[0].level == "upset"
    assert read(["真是气煞我了"])[0].level == "calm"


def test_doubt_question_alone_is_calm_but_counts_within_context_turns():
    """为啥/怎么回事 reproach only from an upset customer: within `context_turns` of an upset turn."""
    analyzer = EmotionAnalyzer(EmotionConfig(context_turns=2))
    alone = read(["为啥不能退"], analyzer=analyzer)[0]
    assert alone.level == "calm" and alone.score == 0.5 and alone.words[0].kind == "doubt"
    upset, _, doubt = read(["吃出虫子了", "嗯", "为啥不能退"], analyzer=analyzer)
    assert upset.level == "upset" and doubt.level == "upset"
    assert doubt.reasons == ["承接 2 句前的不满"]
    too_late = read(["吃出虫子了", "嗯", "对", "为啥不能退"], analyzer=analyzer)[3]
    assert too_late.level == "calm"  # three turns after: the grievance is no longer being told


def test_context_never_lifts_a_turn_without_evidence_and_is_off_by_default():
    upset, calm = read(["吃出虫子了", "好的"], analyzer=EmotionAnalyzer(EmotionConfig(context_turns=3)))
    assert upset.level == "upset" and calm.level == "calm"
    assert read(["吃出虫子了", "为啥不能退"])[1].level == "calm"  # context_turns 0: a lone doubt stays calm


def test_repeat_weight_counts_a_grievance_told_again():
    again = ["外卖里有头发", "头发在米饭里"]
    halved = read(again, analyzer=EmotionAnalyzer(EmotionConfig(repeat=0.5)))
    whole = read(again, analyzer=EmotionAnalyzer(EmotionConfig(repeat=1.0)))
    assert halved[1].level == "calm" and whole[1].level == "upset"


def test_a_demand_already_met_is_not_pressing():
    assert read(["商家已经给我退了"])[0].score == 0.0
    assert read(["尽快给我退"])[0].score > 0


def tone(freq, seconds=1.0, amplitude=0.5):
    t = np.arange(int(seconds * SR)) / SR
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_loudness_and_pitch_on_generated_tones():
    assert loudness_dbfs(tone(220, amplitude=0.5)) == pytest.approx(-9.03, abs=0.05)  # 20·log10(0.5/√2)
    assert loudness_dbfs(tone(220, amplitude=1.0)) - loudness_dbfs(tone(220, amplitude=0.5)) == pytest.approx(6.02, abs=0.05)
    mean, spread = pitch(tone(220))
    assert mean == pytest.approx(220, rel=0.01) and spread < 0.5
    assert pitch(tone(330))[0] == pytest.approx(330, rel=0.01)
    assert measure(np.zeros(SR, dtype=np.float32)).loudness_db is None


def test_raised_voice_sample_is_seen_against_the_speaker_baseline():
    """The complaint sample's customer channel, +12 dB (limited) and +4 semitones from 24.7 s (sox)."""
    reference = CallTranscript.model_validate_json((ROOT / "samples/audio/audio_complaint_05.ref.json").read_text())
    utterances = [u for u in reference.utterances if u.end <= 35.0]
    transcript = attach_voice(reference.model_copy(update={"utterances": utterances}), RAISED)
    customer = [u for u in transcript.utterances if u.speaker == "customer"]
    assert all(u.voice is not None and u.voice.pitch_mean_hz for u in customer)
    report = Engine(load_rules()).score(transcript)
    by_index = {e.index: e for e in report.emotions}
    raised = [e for e in report.emotions if e.voice and e.voice.raised]
    assert [e.start for e in raised] == [25.0, 31.66]
    assert raised[0].voice.loudness_delta_db > 7 and raised[0].voice.pitch_delta_st > 3
    assert any("音量高于基线" in r for r in raised[0].reasons) and any("音高" in r for r in raised[0].reasons)
    first = transcript.utterances.index(customer[0])
    assert by_index[first].voice.loudness_delta_db is None  # no baseline yet


def test_an_escalation_heard_in_the_voice_alone():
    """The calm speech-rate sample's customer channel, +12 dB (limited) and +4 semitones from 28 s (sox):
    the words stay calm (好吧我试试, 没有了); the voice alone makes the last two turns upset."""
    reference = CallTranscript.model_validate_json((ROOT / "samples/audio/audio_fast_06.ref.json").read_text())
    calm = Engine(load_rules()).score(attach_voice(reference, ROOT / "samples/audio/audio_fast_06.flac"))
    assert [e for e in calm.emotions if e.speaker == "customer" and e.level != "calm"] == []
    raised = Engine(load_rules()).score(attach_voice(reference, RAISED_VOICE_ONLY))
    upset = [e for e in raised.emotions if e.speaker == "customer" and e.level != "calm"]
    assert [e.start for e in upset] == [28.3, 32.62]
    assert all(e.words == [] and e.voice.raised and e.voice.loudness_delta_db > 6 for e in upset)


def call(*turns):
    return [Utterance(speaker={"A": "agent", "C": "customer"}[s], start=a, end=b, text=t) for s, a, b, t in turns]


def test_metrics_by_hand():
    utterances = call(
        ("A", 0.0, 4.0, "您好请问有什么可以帮您"),
        ("C", 5.0, 10.0, "外卖里吃出虫子了怎么弄"),
        ("A", 9.0, 12.0, "您先别急我查一下"),  # starts 1 s before the customer ends: overtalk 1 s, latency 0
        ("A", 12.0, 13.0, "请您稍等"),  # hold request, then 20 s of silence
        ("A", 33.0, 40.0, "让您久等了已经帮您退款"),
        ("C", 40.5, 41.0, "嗯"),  # a backchannel does not end the monologue
        ("A", 41.0, 50.0, "另外再给您补偿一张券"),
        ("C", 53.0, 57.0, "你们到底管不管凭什么"),
    )
    emotions = read_call(utterances)
    m = compute_metrics(utterances, [analyze(u.text) for u in utterances], emotions, MetricsConfig(trend_turns=1))
    assert m.duration == 57.0
    assert m.agent_talk == 4 + 4 + 7 + 9  # 9-13 is one span
    assert m.customer_talk == 5 + 0.5 + 4
    assert m.agent_talk_ratio == round(24 / 33.5, 3)
    assert m.non_talk == 57 - (4 + 8 + 7 + 9.5 + 4)  # speech: 0-4, 5-13, 33-40, 40.5-50, 53-57
    assert m.non_talk_share == round(24.5 / 57, 3)
    assert m.overtalk_count == 1 and m.overtalk_seconds == 1.0
    assert m.hold_count == 1 and m.hold_seconds == 20.0
    assert m.longest_agent_monologue == 17.0 and m.longest_agent_monologue_start == 33.0  # 33-50
    assert m.responses == 1 and m.response_latency_max == 0.0  # the customer's last turn ends the call
    assert m.customer_emotion_start == "upset" and m.customer_emotion_end == "angry" and m.emotion_trend == "worse"
    assert m.ended_upset and m.customer_cut_off


def read_call(utterances):
    analyzer, track = EmotionAnalyzer(), EmotionTrack()
    return [analyzer.read(track, i, u, analyze(u.text)) for i, u in enumerate(utterances)]


def test_emotion_trigger_in_sequence_keeps_lexicon_rules_and_adds_upset_customers():
    rules = load_rules()
    engine = Engine(rules)
    upset = CallTranscript(call_id="x", utterances=call(
        ("C", 0, 3, "外卖里吃出虫子了"), ("A", 3, 5, "订单号是多少"), ("A", 5, 7, "我查一下")))
    calm = CallTranscript(call_id="y", utterances=call(
        ("C", 0, 3, "我想问下投诉进度"), ("A", 3, 5, "订单号是多少"), ("A", 5, 7, "我查一下")))
    hits = lambda r: [f.rule_id for f in r.findings if f.rule_id == "empathy.complaint_apology"]  # noqa: E731
    assert hits(engine.score(upset)) == ["empathy.complaint_apology"]
    assert hits(engine.score(calm)) == []


def test_live_call_sends_emotion_and_one_alert_per_escalation():
    live = LiveCall(Engine(load_rules()), "c1")
    kinds = []
    for u in call(("A", 0, 2, "您好"), ("C", 2, 5, "外卖吃出虫子了"), ("C", 5, 8, "还有头发"), ("C", 8, 11, "你们到底管不管凭什么")):
        live.feed(u)
        kinds.append([(type(e).__name__, getattr(e, "level", None)) for e in live.felt()])
    assert kinds[0] == [("UtteranceEmotion", "calm")]
    assert kinds[1] == [("UtteranceEmotion", "upset"), ("EmotionAlert", "upset")]
    assert kinds[2] == [("UtteranceEmotion", "upset")]  # not higher than before: no new alert
    assert kinds[3] == [("UtteranceEmotion", "angry"), ("EmotionAlert", "angry")]


def test_report_json_carries_metrics_and_emotions():
    report = Engine(load_rules()).score(
        CallTranscript.model_validate_json((ROOT / "samples/transcripts/complaint_12.json").read_text())
    )
    data = json.loads(report.model_dump_json())
    assert data["metrics"]["agent_talk_ratio"] == 0.631
    assert data["emotions"][0]["level"] == "angry" and data["emotions"][0]["words"]
    assert isinstance(report.emotions[0], UtteranceEmotion) and EmotionAlert
    assert EmotionConfig().upset_at == 1.0


def test_lint_warns_when_angry_at_falls_below_upset_at():
    base = "name: t\nemotion: {%s}\nrules:\n  - {id: e, kind: emotion, category: emotion, message: 客户情绪激动, min_level: angry}\n"
    raised = load_rules_text(base % "upset_at: 3.0", "raised.yaml")
    [warning] = [p for p in lint(raised) if "angry_at" in p.message]
    assert warning.path == "raised.yaml" and warning.line == 2
    assert "below upset_at (3)" in warning.message and "at least 3" in warning.hint
    both = load_rules_text(base % "upset_at: 3.0, angry_at: 3.5", "both.yaml")
    assert not [p for p in lint(both) if "angry_at" in p.message]
