"""Analyse each utterance once; every rule reads the same analysis.

Speech-to-text gives traditional characters, full-width forms and no punctuation at all;
rule authors write simplified Chinese with punctuation. Both sides go through `analyze`,
which keeps an offset map so every match can point back at the original characters.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import opencc
from pypinyin import Style, lazy_pinyin

if TYPE_CHECKING:
    from spacy.tokens import Doc

_T2S = opencc.OpenCC("t2s")

# Full-width ASCII (U+FF01..U+FF5E) to half-width, ideographic space to space.
_HALF_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}

_KEEP, _DROP, _BREAK = 0, 1, 2


@lru_cache(maxsize=65536)
def _char_class(char: str) -> int:
    """Words are kept; punctuation and pauses (spaces) drop out and end a clause; symbols drop."""
    if char.isspace():
        return _BREAK
    category = unicodedata.category(char)[0]
    if category in "PZ":
        return _BREAK
    return _DROP if category in "SC" else _KEEP


class _ClassTable(dict):
    """`_char_class` of each character seen, as a dict (a lookup is cheaper than a call)."""

    def __missing__(self, char: str) -> int:
        kind = _char_class(char)
        if len(self) < 65536:  # bounded, whatever characters an input holds
            self[char] = kind
        return kind


_CLASSES = _ClassTable()


# OpenCC keeps 著 (also a simplified character, 著名); in speech it is almost always 着.
_SPOKEN_FIXES = (("著急", "着急"), ("等著", "等着"), ("著呢", "着呢"), ("著了", "着了"))


def to_simplified(text: str) -> str:
    """Traditional to simplified, guaranteed to keep the length (so offsets stay valid)."""
    converted = _T2S.convert(text)
    if len(converted) != len(text):
        converted = "".join(c if len(c2 := _T2S.convert(c)) != 1 else c2 for c in text)
    if "著" in converted:
        for wrong, right in _SPOKEN_FIXES:
            converted = converted.replace(wrong, right)
    return converted


def normalize(text: str) -> str:
    """Simplified, half-width, lower-case; same length as `text`, char for char."""
    half = text.translate(_HALF_WIDTH)
    lowered = half.lower()
    if len(lowered) != len(half):
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in half)
    return to_simplified(lowered)


@lru_cache(maxsize=65536)
def char_pinyin(char: str) -> str:
    """Toneless pinyin of one character, or the character itself when it has none."""
    syllables = lazy_pinyin(char, style=Style.NORMAL, errors=lambda s: list(s))
    return syllables[0] if syllables else char


_FOLDED_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("l", "n"))
_FOLDED_FINALS = (("ang", "an"), ("eng", "en"), ("ing", "in"))


@lru_cache(maxsize=65536)
def folded_pinyin(char: str) -> str:
    """Pinyin with the sounds speech-to-text and southern accents confuse merged.

    These are the fuzzy-pinyin pairs of Chinese input methods (模糊音): zh/z, ch/c,
    sh/s, l/n, ang/an, eng/en, ing/in. 投述 (tou shu) then sounds like 投诉 (tou su).
    """
    syllable = char_pinyin(char)
    for long, short in _FOLDED_INITIALS:
        if syllable.startswith(long):
            syllable = short + syllable[len(long) :]
            break
    for long, short in _FOLDED_FINALS:
        if syllable.endswith(long):
            syllable = syllable[: -len(long)] + short
            break
    return syllable


@dataclass
class AnalyzedText:
    """One utterance's text, analysed once and shared by every rule.

    `compact` is the normalised text without punctuation or spaces: phrases and
    fuzzy scores are matched there, so "你问我，我问谁" and ASR's "你问我我问谁" agree.
    `offsets[i]` is the index in `original` of `compact[i]`; `pinyin[i]` is the
    folded pinyin of `compact[i]` (see `folded_pinyin`).
    """

    original: str
    normalized: str
    compact: str
    offsets: list[int]
    clauses: list[tuple[int, int]]
    pinyin: list[str]
    _pinyin_text: str | None = field(default=None, repr=False)
    _pinyin_starts: list[int] | None = field(default=None, repr=False)
    _doc: Doc | None = field(default=None, repr=False)
    _speech_clauses: list[tuple[int, int]] | None = field(default=None, repr=False)
    _split: dict[int, list[tuple[int, int]]] | None = field(default=None, repr=False)

    @property
    def pinyin_text(self) -> str:
        """Space-separated syllables with a space at both ends, for whole-syllable search."""
        if self._pinyin_text is None:
            starts: list[int] = []
            pos = 1
            for syllable in self.pinyin:
                starts.append(pos)
                pos += len(syllable) + 1
            self._pinyin_text = " " + " ".join(self.pinyin) + " "
            self._pinyin_starts = starts
        return self._pinyin_text

    def char_at_pinyin_pos(self, pos: int) -> int:
        """Compact index of the syllable starting at `pos` in `pinyin_text`."""
        assert self._pinyin_starts is not None
        return bisect_left(self._pinyin_starts, pos)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Compact span [start, end) to the span in the original text."""
        return self.offsets[start], self.offsets[end - 1] + 1

    @property
    def speech_clauses(self) -> list[tuple[int, int]]:
        """Clauses split also at discourse markers, fillers stripped (see `clauses`); made on request."""
        if self._speech_clauses is None:
            self._speech_clauses = [span for i in range(len(self.clauses)) for span in self.speech_clauses_of(i)]
        return self._speech_clauses

    def speech_clauses_of(self, i: int) -> list[tuple[int, int]]:
        """Punctuation clause `i` split at discourse markers: `speech_clauses` is these in order.
        Made on request, one clause at a time, so a rule can split only the clauses it needs."""
        if self._split is None:
            self._split = {}
        spans = self._split.get(i)
        if spans is None:
            from qa_engine.clauses import split_speech

            start, end = self.clauses[i]
            spans = self._split[i] = split_speech(self.compact, start, end)
        return spans

    def doc(self, nlp) -> Doc:
        """spaCy tokens, made on first request only: most rules never need them."""
        if self._doc is None:
            self._doc = nlp(self.normalized)
        return self._doc

    @property
    def char_count(self) -> int:
        return len(self.compact)


# Runs of characters that are always kept (CJK ideographs, digits, lower-case letters; a
# test checks each against `_char_class`): taken whole, so only the few others are classified.
KEEP_RUN = re.compile("[\u4e00-\u9fff0-9a-z]+")


def analyze(text: str) -> AnalyzedText:
    """Normalise, strip punctuation with an offset map, split clauses and add pinyin.

    Clauses break at punctuation and at whitespace (speech-to-text marks pauses with spaces).
    """
    normalized = normalize(text)
    pieces: list[str] = []
    offsets: list[int] = []
    clauses: list[tuple[int, int]] = []
    length = 0  # characters kept so far
    clause_start = 0
    classes = _CLASSES
    position = 0
    runs = KEEP_RUN.finditer(normalized)
    while True:
        run = next(runs, None)
        gap_end = len(normalized) if run is None else run.start()
        for index in range(position, gap_end):  # the characters between runs, one by one
            char = normalized[index]
            kind = classes[char]
            if kind == _KEEP:
                pieces.append(char)
                offsets.append(index)
                length += 1
            elif kind == _BREAK:
                if length > clause_start:
                    clauses.append((clause_start, length))
                clause_start = length
        if run is None:
            break
        start, position = run.span()
        pieces.append(run.group())
        offsets.extend(range(start, position))
        length += position - start
    if length > clause_start:
        clauses.append((clause_start, length))
    compact = "".join(pieces)
    return AnalyzedText(
        original=text,
        normalized=normalized,
        compact=compact,
        offsets=offsets,
        clauses=clauses,
        pinyin=list(map(folded_pinyin, compact)),
    )


@lru_cache(maxsize=4096)
def compact_form(text: str) -> str:
    """What a rule phrase looks like after analysis (used to compare phrases)."""
    return analyze(text).compact


def literal_alternation(words) -> re.Pattern[str] | None:
    """Any of `words`, escaped literals longest first (None when there are none). A bare
    alternation cannot backtrack badly in Python's `re`, which finds it several times faster
    than the RE2 binding; put no repetition around it (`(?:嗯嗯|嗯)+$` is exponential there)."""
    ordered = sorted(set(words) - {""}, key=len, reverse=True)
    return re.compile("(?:" + "|".join(re.escape(w) for w in ordered) + ")") if ordered else None
