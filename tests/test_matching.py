from qa_engine.matching import PhraseSet, shortest_fuzzy_length
from qa_engine.text import analyze


def hits(phrases, text, **kwargs):
    return PhraseSet(phrases, **kwargs).find(analyze(text))


def test_exact_match_ignores_punctuation_and_traditional_script():
    [hit] = hits(["你问我，我问谁"], "你問我我問誰啊")
    assert hit.mode == "exact" and (hit.start, hit.end) == (0, 6)


def test_pinyin_match_catches_homophones():
    [hit] = hits(["投诉"], "我要投述你们")
    assert hit.mode == "pinyin"
    assert hit.score == 50.0  # 投 sounds the same, 述/诉 only after fuzzy-pinyin folding
    [hit] = hits(["速递"], "中通宿地")
    assert hit.mode == "pinyin" and hit.score == 100.0


def test_pinyin_can_be_switched_off():
    assert hits(["投诉"], "我要投述你们", modes=("exact",)) == []


def test_fuzzy_match_on_long_phrase_with_wrong_character():
    [hit] = hits(["我讲了那么半天你怎么还不明白"], "喂我讲了那么半天你怎么还不名白啊", modes=("exact", "fuzzy"))
    assert hit.mode == "fuzzy" and hit.score >= 90


def test_fuzzy_never_fires_on_a_fragment_of_a_long_phrase():
    assert hits(["要投诉你就去投诉吧我还怕你"], "投诉", modes=("fuzzy",)) == []


def test_short_phrases_skip_fuzzy_because_only_exact_can_pass():
    assert shortest_fuzzy_length(90) == 10
    assert hits(["你找领导去"], "你找领带去", modes=("fuzzy",)) == []


def test_overlapping_hits_keep_the_longer_phrase():
    [hit] = hits(["投诉", "要投诉你就去投诉吧"], "要投诉你就去投诉吧")
    assert hit.phrase == "要投诉你就去投诉吧"


def test_every_occurrence_is_found():
    found = hits(["不行"], "不行就是不行")
    assert [(h.start, h.end) for h in found] == [(0, 2), (4, 6)]


def test_no_false_hit_on_unrelated_text():
    assert hits(["你找领导去", "投诉"], "您好请问有什么可以帮您") == []
