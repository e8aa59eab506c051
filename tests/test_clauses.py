"""Clauses in unpunctuated speech: discourse markers end a clause, fillers do not open one."""

from __future__ import annotations

import pytest

from qa_engine.clauses import split_speech
from qa_engine.text import analyze


@pytest.mark.parametrize(
    ("text", "clauses"),
    [
        ("嗯好的那这边您稍等然后我不清楚这个情况", ["这边您稍等然后我不清楚这个情况"]),
        ("好的好的我查一下嗯我不知道您的快递在哪", ["我查一下", "我不知道您的快递在哪"]),
        ("对不起让您久等了", ["对不起让您久等了"]),  # 对不起 is one word: never "对" + "不起"
        ("你那不是已经退款了吗", ["你那不是已经退款了吗"]),  # 那 mid-sentence does not split
        ("嗯嗯嗯", []),
        # an address term ends the sentence before it: …处理先生 / 不会不管的
        ("我们也都会帮您沟通处理先生不会不管的", ["我们也都会帮您沟通处理", "不会不管的"]),
        # a hesitation after 因为/但是 … is a pause inside the sentence
        ("处理很晚因为呃不单单是我们的工作", ["处理很晚因为呃不单单是我们的工作"]),
        ("因为嗯嗯不是我们的问题", ["因为嗯嗯不是我们的问题"]),  # the pause goes on, the sentence stays open
        ("我查一下呃不单单是我们的工作", ["我查一下", "不单单是我们的工作"]),
        # … and so is one after a topic still waiting for its predicate, or a reported stance
        ("因为商家这边儿嗯不同意所以没有权限", ["因为商家这边儿嗯不同意所以没有权限"]),
        ("商家确实是表示呃不同意进行这个退款", ["商家确实是表示呃不同意进行这个退款"]),
        ("您不方便的话呃我晚点再打给您", ["您不方便的话呃我晚点再打给您"]),
        ("我这边查到了嗯不是这个订单", ["我这边查到了", "不是这个订单"]),  # the hesitation follows 了
        ("对就是呃不能给您退的", ["就是", "不能给您退的"]),  # 就是 as "yes, exactly" ends a sentence
        ("您放在门口那边嗯不会丢的", ["您放在门口那边", "不会丢的"]),
        ("商家这边好的不同意退款", ["商家这边", "不同意退款"]),  # only a hesitation is a pause
    ],
)
def test_speech_is_split_at_discourse_markers_and_clauses_start_after_fillers(text, clauses):
    assert [text[s:e] for s, e in split_speech(text)] == clauses


def test_speech_clauses_keep_punctuation_breaks_and_compact_offsets():
    analysis = analyze("不方便的话也可以，嗯好的我不清楚")
    assert [analysis.compact[s:e] for s, e in analysis.speech_clauses] == ["不方便的话也可以", "我不清楚"]
