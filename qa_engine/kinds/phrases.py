"""`phrases`: words a speaker must not say (服务禁语, 不规范用语, 口头禅, 违规承诺).

Why: the manuals list the forbidden lines word for word, and speech-to-text mangles
them, so each phrase is matched three ways: exactly on normalised text, on toneless
pinyin (fuzzy-pinyin folded, so 投述 matches 投诉 and 宿地 matches 速递), and by
rapidfuzz partial ratio over a threshold (a wrong or dropped character in a long line).

```yaml
- id: forbidden.find_leader
  kind: phrases
  category: forbidden
  message: 使用服务禁语
  speaker: agent
  phrases: [你找领导去, 你问我我问谁]
  examples:
    hit: ["这事你找领导去吧", "你问我，我问谁？", "你问我我问隋"]
    miss: ["我帮您联系一下主管"]
```
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field
from rapidfuzz import fuzz

from qa_engine.kinds.base import CallState, Check, RuleWarning, SpeakerFilter, SpeakerSpec
from qa_engine.kinds.registry import register
from qa_engine.lexicons import NonEmptyPhrases
from qa_engine.matching import ALL_MODES, Mode, PhraseSet
from qa_engine.models import Finding, MatchInfo
from qa_engine.nlp import NlpResources
from qa_engine.text import compact_form

LOW_FUZZY_THRESHOLD = 80.0


class PhrasesSpec(SpeakerSpec):
    kind: Literal["phrases"]
    speaker: SpeakerFilter = "agent"
    phrases: NonEmptyPhrases
    match: list[Mode] = Field(default_factory=lambda: list(ALL_MODES), description="Match modes to use")
    fuzzy_threshold: float = Field(default=90.0, ge=50, le=100)
    pinyin_min_chars: int = Field(default=2, ge=1, description="Shortest phrase matched by pinyin")

    phrase_fields: ClassVar[tuple[str, ...]] = ("phrases",)
    forbids_phrases: ClassVar[bool] = True

    def tunable_thresholds(self) -> dict[str, float]:
        return {"fuzzy_threshold": self.fuzzy_threshold} if "fuzzy" in self.match else {}

    def phrase_threshold(self) -> float:
        return self.fuzzy_threshold

    def lint(self, ordinary_sentences: list[str]) -> list[RuleWarning]:
        """A low fuzzy threshold, and phrases that fuzzy-match ordinary polite sentences."""
        if "fuzzy" not in self.match:
            return []
        warnings = []
        if self.fuzzy_threshold < LOW_FUZZY_THRESHOLD:
            warnings.append(
                RuleWarning(("fuzzy_threshold",), f"fuzzy_threshold {self.fuzzy_threshold:g} is low",
                            f"below {LOW_FUZZY_THRESHOLD:g} short phrases match unrelated words; 90 is the default")
            )
        for position, phrase in enumerate(self.phrases):
            compact = compact_form(phrase)
            if not compact:
                continue
            for sentence in ordinary_sentences:
                score = 100.0 if compact in sentence else fuzz.partial_ratio(compact, sentence)
                if score >= self.fuzzy_threshold and len(compact) >= 2:
                    warnings.append(
                        RuleWarning(("phrases", position),
                                    f"phrase {phrase!r} fuzzy-matches the ordinary sentence {sentence!r} (score {score:.0f})",
                                    "raise fuzzy_threshold, use match: [exact, pinyin], or make the phrase more specific")
                    )
                    break
        return warnings


def describe_hit(hit) -> MatchInfo:
    """How a phrase hit matched, in words a reviewer can check."""
    if hit.mode == "exact":
        detail = f"原文包含「{hit.phrase}」"
    elif hit.mode == "pinyin":
        detail = f"读音与「{hit.phrase}」相同(拼音匹配,可能是识别同音字)"
    else:
        detail = f"与「{hit.phrase}」相似度 {hit.score:.0f}(模糊匹配)"
    return MatchInfo(mode=hit.mode, score=hit.score, pattern=hit.phrase, detail=detail)


@register
class PhrasesCheck(Check[PhrasesSpec], own_speaker_only=True):
    match_modes = {"exact": "精确匹配", "pinyin": "拼音匹配", "fuzzy": "模糊匹配"}

    def __init__(self, spec: PhrasesSpec, nlp: NlpResources) -> None:
        super().__init__(spec, nlp)
        self.matcher = PhraseSet(
            spec.phrases, tuple(spec.match), spec.fuzzy_threshold, spec.pinyin_min_chars
        )

    def feed(self, call: CallState, index: int) -> list[Finding]:
        if not self.speaker_matches(call.utterances[index]):
            return []
        return [
            self.finding(call, index, describe_hit(hit), span=(hit.start, hit.end))
            for hit in self.matcher.find(call.analyses[index])
        ]
