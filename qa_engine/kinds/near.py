"""`near`: several groups of words close together in one clause (word-distance matching).

Why: the manuals list surface strings (明天一定到), but agents say the same thing in
many ways: a guarantee word with an outcome a few words later (我保证明天给您送到, 肯定
能帮您找回来). A `near` rule names term groups (phrases or `@lexicons`) that must all
occur in one clause, each within `distance` characters of the previous one (in
order unless `ordered: false`); `unless` terms in the same clause cancel the hit (不一定,
尽量, or the agent's own follow-up: 回电, 跟进). Terms match exactly and by pinyin, so
speech-recognition homophones still count. Clauses are split at punctuation and, by
default, at discourse markers in unpunctuated speech (`scope: speech_clause`).

```yaml
- id: overpromise.guarantee_outcome
  kind: near
  category: overpromise
  message: 违规承诺(保证结果)
  groups:
    - [保证, 一定, 肯定, 百分之百]
    - [送到, 到货, 找到, 解决, 赔]
  distance: 6
  unless: [不一定, 尽量, 回电, 跟进]
  examples:
    hit: ["我保证明天给您送到", "嗯这个肯定能帮您找到的"]
    miss: ["不一定今天能送到", "我一定会帮您跟进处理", "您的快递明天送到"]
```
"""

from __future__ import annotations

from itertools import product
from typing import ClassVar, Literal

from pydantic import Field

from qa_engine.kinds.base import CallState, Check, SpeakerFilter, SpeakerSpec
from qa_engine.kinds.registry import register
from qa_engine.lexicons import NonEmptyPhrases, Phrases
from qa_engine.matching import Mode, PhraseHit, PhraseSet
from qa_engine.models import Finding, MatchInfo
from qa_engine.nlp import NlpResources
from qa_engine.text import AnalyzedText

_MAX_HITS_PER_GROUP = 8  # bounds the combinations tried in one clause


class NearSpec(SpeakerSpec):
    kind: Literal["near"]
    speaker: SpeakerFilter = "agent"
    groups: list[NonEmptyPhrases] = Field(min_length=2, description="Term groups that must all occur")
    distance: int = Field(default=8, ge=0, description="Most characters between one group's term and the next")
    ordered: bool = Field(default=True, description="Groups must occur in the order given")
    unless: Phrases = Field(default_factory=list, description="Terms that cancel a hit in the same clause")
    scope: Literal["speech_clause", "clause", "utterance"] = "speech_clause"
    match: list[Literal["exact", "pinyin"]] = Field(default_factory=lambda: ["exact", "pinyin"])
    pinyin_min_chars: int = Field(default=2, ge=1)

    phrase_fields: ClassVar[tuple[str, ...]] = ("unless",)

    def phrases_used(self) -> list[str]:
        return [term for group in self.groups for term in group] + list(self.unless)


@register
class NearCheck(Check[NearSpec], own_speaker_only=True):
    match_modes = {"near": "近距离组合"}

    def __init__(self, spec: NearSpec, nlp: NlpResources) -> None:
        super().__init__(spec, nlp)
        modes: tuple[Mode, ...] = tuple(spec.match)
        self.groups = [PhraseSet(list(group), modes, pinyin_min_chars=spec.pinyin_min_chars) for group in spec.groups]
        self.unless = PhraseSet(list(spec.unless), modes, pinyin_min_chars=spec.pinyin_min_chars)

    def feed(self, call: CallState, index: int) -> list[Finding]:
        if not self.speaker_matches(call.utterances[index]):
            return []
        analysis = call.analyses[index]
        group_hits = []
        for matcher in self.groups:  # a group with no hit settles it: the rest are not searched
            hits = matcher.find(analysis)
            if not hits:
                return []
            group_hits.append(hits)
        unless_hits = self.unless.find(analysis) if self.spec.unless else []
        findings = []
        for start, end in self._scopes(analysis):
            inside = [[h for h in hits if start <= h.start and h.end <= end] for hits in group_hits]
            if not all(inside):
                continue
            chain = self._chain(inside)
            if chain is None or any(start <= h.start and h.end <= end for h in unless_hits):
                continue
            findings.append(self._finding(call, index, chain))
        return findings

    def _scopes(self, analysis: AnalyzedText) -> list[tuple[int, int]]:
        if self.spec.scope == "utterance":
            return [(0, len(analysis.compact))]
        return analysis.speech_clauses if self.spec.scope == "speech_clause" else analysis.clauses

    def _chain(self, inside: list[list[PhraseHit]]) -> list[PhraseHit] | None:
        """The tightest choice of one hit per group with every gap within `distance`."""
        best: list[PhraseHit] | None = None
        for choice in product(*(hits[:_MAX_HITS_PER_GROUP] for hits in inside)):
            ordered = list(choice) if self.spec.ordered else sorted(choice, key=lambda h: h.start)
            within = all(0 <= b.start - a.end <= self.spec.distance for a, b in zip(ordered, ordered[1:], strict=False))
            if within and (best is None or ordered[-1].end - ordered[0].start < best[-1].end - best[0].start):
                best = ordered
        return best

    def _finding(self, call: CallState, index: int, chain: list[PhraseHit]) -> Finding:
        origins = [group.origin for group in self.spec.groups]
        shown = []
        for hit, origin in zip(chain, origins if self.spec.ordered else [{}] * len(chain), strict=True):
            lexicon = origin.get(hit.phrase) if origin else None
            sound = "(读音)" if hit.mode == "pinyin" else ""
            shown.append(f"「{hit.phrase}」{sound}" + (f"({lexicon})" if lexicon else ""))
        gaps = [b.start - a.end for a, b in zip(chain, chain[1:], strict=False)]
        detail = " … ".join(shown) + f" 同一分句内相距 {max(gaps)} 字(阈值 {self.spec.distance} 字)"
        mode = "pinyin" if any(hit.mode == "pinyin" for hit in chain) else "near"
        info = MatchInfo(mode=mode, pattern=" … ".join(h.phrase for h in chain), detail=detail)
        return self.finding(call, index, info, span=(chain[0].start, chain[-1].end))
