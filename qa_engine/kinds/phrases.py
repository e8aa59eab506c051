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

from typing import Literal

from pydantic import Field

from ..lexicons import NonEmptyPhrases
from ..matching import ALL_MODES, Mode, PhraseSet
from ..models import MatchInfo
from .base import Check, RuleSpec, SpeakerFilter
from .registry import register


class PhrasesSpec(RuleSpec):
    kind: Literal["phrases"]
    speaker: SpeakerFilter = "agent"
    phrases: NonEmptyPhrases
    match: list[Mode] = Field(default_factory=lambda: list(ALL_MODES), description="Match modes to use")
    fuzzy_threshold: float = Field(default=90.0, ge=50, le=100)
    pinyin_min_chars: int = Field(default=2, ge=1, description="Shortest phrase matched by pinyin")

    def phrases_used(self) -> list[str]:
        return list(self.phrases)


def describe_hit(hit) -> MatchInfo:
    """How a phrase hit matched, in words a reviewer can check."""
    if hit.mode == "exact":
        detail = f"原文包含「{hit.phrase}」"
    elif hit.mode == "pinyin":
        detail = f"读音与「{hit.phrase}」相同(拼音匹配,可能是识别同音字)"
    else:
        detail = f"与「{hit.phrase}」相似度 {hit.score:.0f}(模糊匹配)"
    return MatchInfo(mode=hit.mode, score=hit.score, pattern=hit.phrase, detail=detail)


@register("phrases")
class PhrasesCheck(Check):
    spec_class = PhrasesSpec
    spec: PhrasesSpec

    def __init__(self, spec: PhrasesSpec, nlp) -> None:
        super().__init__(spec, nlp)
        self.matcher = PhraseSet(
            spec.phrases, tuple(spec.match), spec.fuzzy_threshold, spec.pinyin_min_chars
        )

    def feed(self, call, index):
        if not self.speaker_matches(call.utterances[index]):
            return []
        return [
            self.finding(call, index, describe_hit(hit), span=(hit.start, hit.end))
            for hit in self.matcher.find(call.analyses[index])
        ]
