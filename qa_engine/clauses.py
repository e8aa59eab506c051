"""Clauses in unpunctuated speech: where a new sentence starts when nobody wrote a comma.

Speech-recognised agent turns are one long run of characters ("嗯好的那这边您稍等然后我不清楚
这个情况"), so "the start of a clause" cannot come from punctuation alone. A QA lead
hears a new sentence after a discourse marker or a restart (嗯, 好的, 然后, 是的 …), so a
turn is split there, on jieba tokens (so 对不起 and 好不好 are never taken for 对 / 好), and
each clause starts after its leading fillers (嗯/啊/呃/哦/哎/诶/唉/对/那/好 …): the words
that open a clause are the first words that carry meaning.
"""

from __future__ import annotations

import logging
import threading
from functools import lru_cache

_LOCK = threading.Lock()

# Tokens that end the sentence before them: hesitations, acknowledgements. 然后 ("and then") often continues reported
# speech (…说是粉没泡熟然后不同意退款), so it is only skipped at a clause start.
BREAK_MARKERS = frozenset(
    {"嗯", "嗯嗯", "啊", "呃", "哦", "噢", "额", "哎", "诶", "唉", "哎呀", "是的", "好的", "行", "对对", "对对对", "嗯好", "先生", "女士", "小姐"}
)
# Words that leave a sentence open: a hesitation right after them (因为呃…, 但是嗯…) is a pause
# inside the sentence, not the end of one. Conjunctions, and the words that announce what
# follows: a topic still waiting for its predicate (商家这边嗯不同意, 不方便的话呃…) and a
# reported stance (商家表示呃不同意). Not 就是 or 那边: they end a sentence too often (对就是,
# 放在门口那边).
OPEN_ENDED = frozenset(
    {"因为", "所以", "但是", "而且", "如果", "然后", "或者", "并且", "可是", "不过", "因此", "包括", "比如"}
    | {"这边", "这边儿", "的话", "表示"}
)
HESITATIONS = frozenset({"嗯", "嗯嗯", "啊", "呃", "哦", "噢", "额"})

# Tokens skipped at the start of a clause but too common mid-sentence to split on (你那不是…).
# Not 就是: "就是不能…" continues an explanation, and QA leads do not read it as opening with 不.
LEADING_FILLERS = BREAK_MARKERS | frozenset({"那", "对", "好", "然后", "那个", "呢", "吧", "那么"})


@lru_cache(maxsize=1)
def clause_tokenizer():
    """jieba with its own dictionary: spaCy's tokenizer gets the rule phrases added, this one never."""
    with _LOCK:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
        return tokenizer


def _tokens(text: str) -> list[tuple[str, int, int]]:
    """jieba tokens with their spans; 好 + 的 (which jieba splits) is put back together."""
    raw = list(clause_tokenizer().tokenize(text))
    merged: list[tuple[str, int, int]] = []
    for word, start, end in raw:
        if merged and word == "的" and merged[-1][0] == "好" and merged[-1][2] == start:
            merged[-1] = ("好的", merged[-1][1], end)
        else:
            merged.append((word, start, end))
    return merged


def split_speech(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Clauses of `text[start:end]` (compact text, no punctuation) as spans, fillers stripped."""
    end = len(text) if end is None else end
    clauses: list[tuple[int, int]] = []
    clause_start: int | None = None  # first meaningful token of the current clause
    last_end = start
    previous = ""
    for word, token_start, token_end in _tokens(text[start:end]):
        token_start += start
        token_end += start
        if clause_start is None:
            if word not in LEADING_FILLERS:
                clause_start = token_start
        elif word in BREAK_MARKERS and not (word in HESITATIONS and previous in OPEN_ENDED):
            clauses.append((clause_start, last_end))
            clause_start = None
        last_end = token_end
        if word not in HESITATIONS:
            previous = word  # 因为嗯嗯… : the pause goes on, the sentence stays open
    if clause_start is not None:
        clauses.append((clause_start, last_end))
    return clauses


def speech_clauses(text: str, punctuation_clauses: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Every punctuation clause split further at discourse markers."""
    out: list[tuple[int, int]] = []
    for start, end in punctuation_clauses:
        out.extend(split_speech(text, start, end))
    return out
