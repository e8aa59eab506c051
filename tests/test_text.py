from qa_engine.text import analyze, folded_pinyin, normalize


def test_normalize_keeps_length_and_simplifies():
    text = "您好，中通速遞！ＡＢＣ１２"
    out = normalize(text)
    assert len(out) == len(text)
    assert out == "您好,中通速递!abc12"


def test_compact_drops_punctuation_with_offsets_back_to_original():
    analysis = analyze("你問我，我問誰？")
    assert analysis.compact == "你问我我问谁"
    start, end = analysis.span(3, 6)
    assert analysis.original[start:end] == "我問誰"


def test_clauses_split_on_punctuation_and_spaces():
    analysis = analyze("好的，不行 就是不行")
    clauses = [analysis.compact[s:e] for s, e in analysis.clauses]
    assert clauses == ["好的", "不行", "就是不行"]


def test_unpunctuated_text_is_one_clause():
    analysis = analyze("我不知道您的快递在哪")
    assert analysis.clauses == [(0, len(analysis.compact))]


def test_fuzzy_pinyin_merges_confusable_sounds():
    assert folded_pinyin("述") == folded_pinyin("诉")  # shu / su
    assert folded_pinyin("宿") == folded_pinyin("速")
    assert folded_pinyin("领") == folded_pinyin("您")  # ling / nin: l-n and ing-in
    assert folded_pinyin("好") != folded_pinyin("到")


def test_empty_and_punctuation_only_text():
    assert analyze("").compact == ""
    assert analyze("。。，？").clauses == []


def test_spoken_zhe_is_simplified():
    assert normalize("別著急，等著") == "别着急,等着"


def test_characters_taken_as_whole_runs_are_all_kept_characters():
    """`analyze` copies KEEP_RUN runs without classifying each character: every one must be kept."""
    from qa_engine.text import _KEEP, KEEP_RUN, _char_class

    candidates = [chr(c) for c in range(0x20, 0x30000) if not 0xD800 <= c <= 0xDFFF]
    in_runs = [c for c in candidates if KEEP_RUN.fullmatch(c)]
    assert len(in_runs) > 20000
    assert [c for c in in_runs if _char_class(c) != _KEEP] == []


def test_mixed_text_keeps_offsets_and_clauses_around_runs():
    analysis = analyze("  您好！ABC，12　号…😀转人工  ")
    assert analysis.compact == "您好abc12号转人工"
    assert [analysis.original[o] for o in analysis.offsets] == list("您好ABC12号转人工")
    assert [analysis.compact[s:e] for s, e in analysis.clauses] == ["您好", "abc", "12", "号", "转人工"]
