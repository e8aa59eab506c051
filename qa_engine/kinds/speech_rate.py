"""`speech_rate`: the agent speaks too fast, in characters per minute (字/分钟).

Why: the manual asks for 语速适中; customers on a phone line cannot follow a rushed
agent. Each utterance of at least `min_chars` characters is judged when it arrives;
with `call_level`, the speaker's whole-call average is judged at the end. Characters
are counted without punctuation or spaces; time is the utterance's own span.

```yaml
- id: speech_rate.fast
  kind: speech_rate
  category: speech_rate
  message: 语速过快
  max_cpm: 320
  min_chars: 10
  examples:
    hit: ["0-2 A: 您的快递已经到达分拨中心预计明天下午送达"]
    miss: ["0-6 A: 您的快递已经到达分拨中心预计明天下午送达", "A: 好的"]
```
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from qa_engine.kinds.base import CallState, Check, SpeakerSpec
from qa_engine.kinds.registry import register
from qa_engine.models import Finding, MatchInfo


class SpeechRateSpec(SpeakerSpec):
    kind: Literal["speech_rate"]
    speaker: Literal["agent", "customer"] = "agent"
    max_cpm: float = Field(default=320.0, gt=0, description="Characters per minute")
    min_chars: int = Field(default=10, ge=1, description="Shorter utterances are not judged alone")
    call_level: bool = Field(default=True, description="Also judge the whole call's average")


@dataclass
class _Totals:
    chars: int = 0
    seconds: float = 0.0


@register
class SpeechRateCheck(Check[SpeechRateSpec]):
    match_modes = {"timing": "时间计算"}

    def feed(self, call: CallState, index: int) -> list[Finding]:
        utterance = call.utterances[index]
        if utterance.speaker != self.spec.speaker:
            return []
        chars = call.analyses[index].char_count
        seconds = utterance.end - utterance.start
        totals = call.state(self.spec.id, _Totals)
        if seconds <= 0:
            return []
        totals.chars += chars
        totals.seconds += seconds
        if chars < self.spec.min_chars:
            return []
        cpm = chars * 60.0 / seconds
        if cpm <= self.spec.max_cpm:
            return []
        info = MatchInfo(
            mode="timing",
            score=round(cpm),
            detail=f"{chars} 字 / {seconds:.1f} 秒 = {cpm:.0f} 字/分钟(上限 {self.spec.max_cpm:g})",
        )
        return [self.finding(call, index, info)]

    def close(self, call: CallState) -> list[Finding]:
        totals = call.state(self.spec.id, _Totals)
        if not self.spec.call_level or totals.seconds <= 0 or totals.chars < self.spec.min_chars:
            return []
        cpm = totals.chars * 60.0 / totals.seconds
        if cpm <= self.spec.max_cpm:
            return []
        info = MatchInfo(
            mode="timing",
            score=round(cpm),
            detail=f"全通话平均 {totals.chars} 字 / {totals.seconds:.1f} 秒 = {cpm:.0f} 字/分钟(上限 {self.spec.max_cpm:g})",
        )
        return [self.finding(call, None, info, message=self.spec.message + "(全通话平均)")]
