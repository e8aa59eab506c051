"""`silence`: dead air, a gap of at least `max_gap` seconds with nobody speaking.

Why: a customer left in silence thinks the line dropped. A gap is fine when the
agent's last words before it asked the customer to hold (稍等, 稍候 …), and then, if
`thank_phrases` is given, the agent's first words after it must thank the customer
for waiting (谢谢等待, 感谢您的耐心等待), as the manual's hold etiquette asks.
The finding points at the agent's last words before the gap, which explain the verdict.
A recording in which nobody spoke at all is one silence as long as the recording.

```yaml
- id: dead_air.gap
  kind: silence
  category: dead_air
  message: 通话静默过长(冷场)
  max_gap: 10
  hold_phrases: [稍等, 稍候]
  thank_phrases: [谢谢等待, 感谢您的耐心等待, 久等了]
  thank_message: 等待后未感谢客户
  examples:
    hit:
      - ["0-3 A: 我查一下您的快递", "15-18 A: 查到了在派送中"]
      - ["0-3 A: 麻烦您稍等片刻好吗", "3-4 C: 好", "16-19 A: 查到了在派送中"]
    miss:
      - ["0-3 A: 麻烦您稍等片刻好吗", "3-4 C: 好", "16-19 A: 谢谢等待，查到了在派送中"]
      - ["0-3 A: 我查一下您的快递", "5-8 A: 查到了在派送中"]
```
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from pydantic import Field

from qa_engine.kinds.base import CallState, Check, RuleSpec
from qa_engine.kinds.registry import register
from qa_engine.lexicons import Phrases
from qa_engine.matching import PhraseSet
from qa_engine.models import Finding, MatchInfo
from qa_engine.nlp import NlpResources


class SilenceSpec(RuleSpec):
    kind: Literal["silence"]
    max_gap: float = Field(default=10.0, gt=0, description="Seconds with nobody speaking")
    hold_phrases: Phrases = Field(default_factory=lambda: ["稍等", "稍候"])
    thank_phrases: Phrases = Field(default_factory=list, description="Said after a hold; empty: not checked")
    thank_message: str = "等待后未感谢客户"

    phrase_fields: ClassVar[tuple[str, ...]] = ("hold_phrases", "thank_phrases")

    def timeline_gap(self) -> float | None:
        return float(self.max_gap)


@dataclass
class _Hold:
    awaiting_thanks: bool = False


@register
class SilenceCheck(Check[SilenceSpec]):
    match_modes = {"timing": "时间计算", "missing": "缺失检测"}

    def __init__(self, spec: SilenceSpec, nlp: NlpResources) -> None:
        super().__init__(spec, nlp)
        self.hold = PhraseSet(spec.hold_phrases)
        self.thanks = PhraseSet(spec.thank_phrases)

    def feed(self, call: CallState, index: int) -> list[Finding]:
        utterance = call.utterances[index]
        hold = call.state(self.spec.id, _Hold)
        findings = []
        if hold.awaiting_thanks and utterance.speaker != "customer":
            hold.awaiting_thanks = False
            findings.extend(self._thanked(call, index))
        gap = utterance.start - call.max_end
        if index == 0 or gap < self.spec.max_gap:
            return findings
        before = self._last_agent_words(call, index)
        held = before is not None and bool(self.hold.find(call.analyses[before]))
        if held:
            if self.spec.thank_phrases and utterance.speaker == "customer":
                hold.awaiting_thanks = True
            elif self.spec.thank_phrases:
                findings.extend(self._thanked(call, index))
            return findings
        info = MatchInfo(
            mode="timing",
            score=round(gap, 2),
            detail=f"{call.max_end:.1f}s–{utterance.start:.1f}s 无人说话 {gap:.1f} 秒(阈值 {self.spec.max_gap:g} 秒),此前客服未请客户稍等",
        )
        anchor = before if before is not None else index
        findings.append(self.finding(call, anchor, info, start=call.max_end, end=utterance.start))
        return findings

    def close(self, call: CallState) -> list[Finding]:
        """A recording in which nobody spoke is one long silence, however long it is."""
        seconds = call.recording_seconds
        if call.utterances or not seconds or seconds < self.spec.max_gap:
            return []
        info = MatchInfo(
            mode="timing",
            score=round(seconds, 2),
            detail=f"录音 {seconds:.1f} 秒中没有检测到任何语音(阈值 {self.spec.max_gap:g} 秒)",
        )
        return [self.finding(call, None, info, start=0.0, end=round(seconds, 3), message="录音中没有语音(全程静默)")]

    def _thanked(self, call, index):
        """A finding unless the agent's first words after a hold thank the customer."""
        if self.thanks.find(call.analyses[index]):
            return []
        info = MatchInfo(
            mode="missing",
            pattern="/".join(self.spec.thank_phrases),
            detail=f"保持等待后客服第一句未出现「{'/'.join(self.spec.thank_phrases)}」",
        )
        return [self.finding(call, index, info, message=self.spec.thank_message)]

    def _last_agent_words(self, call, index: int) -> int | None:
        """The agent's (or, on mono, anyone's) last utterance before this one."""
        speaker = "agent" if call.roles_known else "unknown"
        return call.last_index_of(speaker, index)
