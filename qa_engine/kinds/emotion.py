"""`emotion`: a speaker's emotion reaches a level (the customer is upset, or angry).

Why: an upset customer is the call a supervisor wants to hear about, whether or not the
word 投诉 is said (吃出异物了, 等了两个小时, 凭什么, swearing, the same demand three turns
running, a voice that rises above the speaker's own baseline). Each utterance's emotion
is read once as it arrives (`qa_engine.emotion`: the lexicon, negation, intensifiers,
rhetorical questions, profanity, repeated pressing and, with audio, loudness and pitch
against the speaker's median); this rule fires on utterances of `speaker` whose level
reaches `min_level`, at most `max_findings` times a call. As a `sequence` trigger use the
condition `emotion: {speaker: customer, min_level: upset}` instead.

```yaml
- id: emotion.customer_angry
  kind: emotion
  category: emotion
  message: 客户情绪激动
  severity: info
  deduction: 0
  speaker: customer
  min_level: angry
  examples:
    hit: ["C: 你们到底管不管凭什么不给我退", "C: 什么态度太恶心了"]
    miss: ["C: 我想查一下我的订单", "C: 不是不满意，挺好的谢谢"]
```
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from qa_engine.emotion import LEVELS
from qa_engine.kinds.base import CallState, Check, SpeakerSpec
from qa_engine.kinds.registry import register
from qa_engine.models import Finding, MatchInfo


class EmotionSpec(SpeakerSpec):
    kind: Literal["emotion"]
    speaker: Literal["agent", "customer", "any"] = "customer"
    min_level: Literal["upset", "angry"] = Field(default="upset", description="The level from which it fires")
    labels: list[Literal["negative", "angry", "anxious"]] | None = Field(
        default=None, description="Only these labels (default: any upset label)"
    )
    max_findings: int | None = Field(default=None, ge=1, description="At most this many findings per call")


@register
class EmotionCheck(Check[EmotionSpec], own_speaker_only=True):
    match_modes = {"emotion": "情绪识别"}

    def feed(self, call: CallState, index: int) -> list[Finding]:
        if not self.speaker_matches(call.utterances[index]) or index >= len(call.emotions):
            return []
        felt = call.emotions[index]
        if LEVELS.index(felt.level) < LEVELS.index(self.spec.min_level):
            return []
        if self.spec.labels and felt.label not in self.spec.labels:
            return []
        count = call.state(self.spec.id, lambda: [0])
        if self.spec.max_findings is not None and count[0] >= self.spec.max_findings:
            return []
        count[0] += 1
        span = (felt.words[0].start_char, felt.words[-1].end_char) if felt.words else None
        info = MatchInfo(mode="emotion", score=felt.score, detail=felt.describe())
        return [self.finding(call, index, info, original_span=span)]
