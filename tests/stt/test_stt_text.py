"""Turn building, channel merge, script conversion and the hallucination filter."""

from __future__ import annotations

import numpy as np
import pytest

from qa_engine.stt import is_hallucination, is_known_hallucination, match_key, to_simplified
from qa_engine.stt.hallucination import is_silence_hallucination
from qa_engine.stt.speech import pack_speech, uncovered_spans
from qa_engine.stt.utterances import TimedText, TimedWord, merge_channels, split_at_pauses


def test_split_at_pauses_joins_words_and_breaks_at_long_gaps():
    words = [TimedWord(0.0, 0.3, "您"), TimedWord(0.3, 0.6, "好"),
             TimedWord(1.0, 1.4, "請問"),  # 0.4 s gap: same turn
             TimedWord(2.5, 2.9, "再見")]  # 1.1 s gap: new turn
    assert split_at_pauses(words, 0.8) == [(0.0, 1.4, "您好请问"), (2.5, 2.9, "再见")]


def test_split_keeps_spaces_only_between_latin_words():
    words = [TimedWord(0.0, 0.2, " OK"), TimedWord(0.2, 0.4, " 好"),
             TimedWord(0.4, 0.6, " 的")]
    assert split_at_pauses(words, 0.8) == [(0.0, 0.6, "OK 好的")]


def test_merge_orders_by_start_and_keeps_overlaps_and_gaps():
    agent = [TimedText(0.0, 3.0, "您好"), TimedText(10.0, 12.0, "再见")]
    customer = [TimedText(2.5, 4.0, "喂"), TimedText(10.0, 11.0, "拜拜")]
    merged = merge_channels([("agent", agent), ("customer", customer)])
    assert [(u.speaker, u.start, u.end) for u in merged] == [
        ("agent", 0.0, 3.0),
        ("customer", 2.5, 4.0),  # starts inside the agent's turn: an interruption
        ("customer", 10.0, 11.0),  # same start: the shorter first
        ("agent", 10.0, 12.0),
    ]


def test_to_simplified_and_match_key():
    assert to_simplified("請問您的快遞單號") == "请问您的快递单号"
    assert match_key("ＡＢＣ，您好！ 謝謝。") == "abc您好谢谢"


@pytest.mark.parametrize("text", [
    "字幕由Amara.org社群提供",
    " 字幕由 Amara.org 社區提供 ",
    "請不吝點贊訂閱轉發打賞支持明鏡與點點欄目",
    "谢谢观看！",
    "谢谢观看谢谢观看",
    "优优独播剧场——YoYo Television Series Exclusive",
    "中文字幕志愿者 李宗盛",
])
def test_known_hallucinations_are_dropped(text):
    assert is_known_hallucination(text)


@pytest.mark.parametrize("text", [
    "谢谢",  # a real thank-you
    "谢谢您的耐心等待",
    "好的，谢谢观看我们的视频教程后再操作",  # contains the phrase but is more
    "我订阅了你们的频道",
    "",
])
def test_real_speech_is_kept(text):
    assert not is_known_hallucination(text)


def test_silence_hallucination_needs_both_doubt_and_quiet():
    quiet = 10 ** (-60 / 20)
    loud = 0.1
    assert is_silence_hallucination(0.9, -0.3, quiet)
    assert is_silence_hallucination(0.1, -1.5, quiet)
    assert not is_silence_hallucination(0.9, -1.5, loud)  # doubtful but audible: keep
    assert not is_silence_hallucination(0.1, -0.3, quiet)  # confident: keep
    assert is_hallucination("随便什么", no_speech_prob=0.95, avg_logprob=-1.2, level_rms=0.0)


def test_packed_speech_maps_times_back_to_call_time():
    sr = 16_000
    samples = np.ones(sr * 10, np.float32)
    packed = pack_speech(samples, [(sr * 1, sr * 2), (sr * 5, sr * 7)], gap=0.5)
    assert packed.audio.size == sr * 3 + sr // 2
    assert packed.to_original(0.25, 0.5) == pytest.approx((1.25, 1.5))
    assert packed.to_original(1.6, 1.9) == pytest.approx((5.1, 5.4))
    # A word placed mostly in the gap, just before the second region, belongs to it.
    assert packed.to_original(1.3, 1.55) == pytest.approx((5.0, 5.05))
    # Near the end of the first region it stays there, clamped to the region's end.
    assert packed.to_original(0.9, 1.1) == pytest.approx((1.9, 2.0))


def test_uncovered_spans_find_speech_without_words():
    sr = 16_000
    regions = [(0, sr * 4), (sr * 10, sr * 12), (sr * 20, sr * 21)]
    words = [(0.2, 1.0), (1.2, 1.8),  # region 1: words stop at 1.8 s of 4 s
             (10.1, 11.9)]  # region 2 covered
    # Region 1 lost its end; region 3 has no words at all (a short reply Whisper skipped).
    assert uncovered_spans(regions, words) == [(int(1.8 * sr), sr * 4), (sr * 20, sr * 21)]
    # Short unworded stretches inside worded regions are padding, not lost speech.
    assert uncovered_spans(regions, words, min_seconds=2.5, min_empty_seconds=1.5) == []


def test_word_times_stay_out_of_the_vad_padding():
    """Whisper stretches a turn's first word back over the padding; times are clamped."""
    sr = 16_000
    samples = np.ones(sr * 10, np.float32)
    # Regions as the VAD returns them: speech 2-3 s and 6-7 s, padded by 0.4 s.
    regions = [(int(1.6 * sr), int(3.4 * sr)), (int(5.6 * sr), int(7.4 * sr))]
    packed = pack_speech(samples, regions, gap=1.0, padding=0.4)
    assert packed.to_original(0.0, 0.6) == pytest.approx((2.0, 2.2))  # starts at the speech
    assert packed.to_original(1.5, 1.8) == pytest.approx((3.0, 3.0))  # tail clamped too
    assert packed.to_original(3.0, 3.6) == pytest.approx((6.0, 6.4))
