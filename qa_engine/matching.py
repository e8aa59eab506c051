"""Find rule phrases in an analysed utterance: exact, then pinyin, then fuzzy.

Speech-to-text errors are why there are three modes. Homophones (投述 for 投诉, 宿地 for
速递) keep the pinyin; a dropped or wrong character in a long phrase keeps most of
the characters (rapidfuzz partial ratio). Exact hits win over pinyin, pinyin over fuzzy.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz, process

from qa_engine.text import AnalyzedText, analyze, char_pinyin, literal_alternation

Mode = Literal["exact", "pinyin", "fuzzy"]
ALL_MODES: tuple[Mode, ...] = ("exact", "pinyin", "fuzzy")


@dataclass(frozen=True)
class PhraseHit:
    """A phrase found at compact span [start, end) of an utterance."""

    phrase: str
    start: int
    end: int
    mode: Mode
    score: float


@dataclass(frozen=True)
class _Phrase:
    text: str  # as written in the rule file
    compact: str
    pinyin: str  # " su di " (spaces at both ends: whole syllables only)
    syllables: int


def shortest_fuzzy_length(threshold: float) -> int:
    """Below this many characters a fuzzy score over `threshold` implies an exact match.

    One wrong character in an n-character phrase scores 100 * (1 - 1/n), so fuzzy
    matching can only add hits for phrases at least this long; shorter ones skip it.
    """
    if threshold >= 100:
        return math.inf  # type: ignore[return-value]
    return math.ceil(1 / (1 - threshold / 100) - 1e-9)


class PhraseSet:
    """A rule's phrases, prepared once, searched in every utterance."""

    def __init__(
        self,
        phrases: list[str],
        modes: tuple[Mode, ...] = ALL_MODES,
        fuzzy_threshold: float = 90.0,
        pinyin_min_chars: int = 2,
    ) -> None:
        self.modes = modes
        self.fuzzy_threshold = fuzzy_threshold
        prepared = []
        for text in phrases:
            analysed = analyze(text)
            if analysed.compact:
                prepared.append(
                    _Phrase(text, analysed.compact, analysed.pinyin_text, len(analysed.pinyin))
                )
        self.phrases: list[_Phrase] = prepared
        self._pinyin = [p for p in prepared if p.syllables >= pinyin_min_chars] if "pinyin" in modes else []
        min_fuzzy = shortest_fuzzy_length(fuzzy_threshold)
        self._fuzzy = [p for p in prepared if len(p.compact) >= min_fuzzy] if "fuzzy" in modes else []
        self._fuzzy_compacts = [p.compact for p in self._fuzzy]
        # One linear-time scan says whether any phrase can be there at all; most utterances
        # hold none of a rule's phrases, and the per-phrase search below then never runs.
        self._any_exact = _any_of([p.compact for p in prepared]) if "exact" in modes else None
        self._any_pinyin = _any_of([p.pinyin for p in self._pinyin])
        self._scan_exact = "exact" in modes and bool(prepared)

    def find(self, text: AnalyzedText) -> list[PhraseHit]:
        """Every phrase occurrence, longest first where hits overlap."""
        hits: list[PhraseHit] = []
        haystack = text.compact
        if not haystack:
            return hits
        if self._scan_exact and (self._any_exact is None or self._any_exact.search(haystack)):
            for phrase in self.phrases:
                needle = phrase.compact
                if needle[0] not in haystack:
                    continue
                pos = haystack.find(needle)
                while pos != -1:
                    hits.append(PhraseHit(phrase.text, pos, pos + len(needle), "exact", 100.0))
                    pos = haystack.find(needle, pos + 1)
        if self._pinyin and (self._any_pinyin is None or self._any_pinyin.search(text.pinyin_text)):
            pinyin_text = text.pinyin_text
            for phrase in self._pinyin:
                pos = pinyin_text.find(phrase.pinyin)
                while pos != -1:
                    start = text.char_at_pinyin_pos(pos + 1)
                    end = start + phrase.syllables
                    heard = haystack[start:end]
                    if heard != phrase.compact:
                        hits.append(
                            PhraseHit(phrase.text, start, end, "pinyin", _sound_score(heard, phrase.compact))
                        )
                    pos = pinyin_text.find(phrase.pinyin, pos + 1)
        if self._fuzzy:
            hits.extend(self._fuzzy_hits(haystack, hits))
        return _drop_overlapped(hits)

    def _fuzzy_hits(self, haystack: str, found: list[PhraseHit]) -> list[PhraseHit]:
        already = {hit.phrase for hit in found}
        candidates = process.extract(
            haystack,
            self._fuzzy_compacts,
            scorer=fuzz.partial_ratio,
            score_cutoff=self.fuzzy_threshold,
            limit=None,
        )
        hits = []
        for _, _, index in candidates:
            phrase = self._fuzzy[index]
            if phrase.text in already:
                continue
            if len(haystack) < len(phrase.compact):
                # The utterance is shorter than the phrase: score it whole, never a fragment.
                score = fuzz.ratio(phrase.compact, haystack)
                start, end = 0, len(haystack)
            else:
                alignment = fuzz.partial_ratio_alignment(phrase.compact, haystack)
                score, start, end = alignment.score, alignment.dest_start, alignment.dest_end
            if score >= self.fuzzy_threshold:
                hits.append(PhraseHit(phrase.text, start, end, "fuzzy", round(score, 1)))
        return hits

    def best_scores(self, text: AnalyzedText) -> list[tuple[str, float]]:
        """Each phrase's best fuzzy score against `text` (for explaining near misses)."""
        return [
            (p.text, round(fuzz.partial_ratio(p.compact, text.compact), 1)) for p in self.phrases
        ]


PREFILTER_MIN_PHRASES = 6


def _any_of(needles: list[str]) -> re.Pattern[str] | None:
    """A pattern matching any of `needles`, or None when there are too few to be worth one.

    Its first-character check makes it several times faster than a loop of `str.find` on short turns.
    """
    if len(needles) < PREFILTER_MIN_PHRASES:
        return None  # a few phrases are scanned faster than a pattern is compiled (20,000-rule files)
    return literal_alternation(needles)


def _sound_score(heard: str, meant: str) -> float:
    """Share of syllables that sound the same even before fuzzy-pinyin folding."""
    same = sum(char_pinyin(a) == char_pinyin(b) for a, b in zip(heard, meant, strict=True))
    return round(100.0 * same / len(meant), 1)


_MODE_RANK = {"exact": 0, "pinyin": 1, "fuzzy": 2}


def _drop_overlapped(hits: list[PhraseHit]) -> list[PhraseHit]:
    """Keep one hit per stretch of text: the better mode, then the longer phrase."""
    if len(hits) < 2:
        return hits
    ordered = sorted(hits, key=lambda h: (_MODE_RANK[h.mode], -(h.end - h.start), h.start))
    kept: list[PhraseHit] = []
    for hit in ordered:
        if all(hit.end <= k.start or hit.start >= k.end for k in kept):
            kept.append(hit)
    return sorted(kept, key=lambda h: h.start)
