"""`interruption`: the agent starts talking while the customer is still speaking (抢话).

Why: cutting a customer off is listed first among the manual's 服务禁语 behaviours.
Following the commercial engines, it counts only when the agent's utterance has at
least `min_chars` characters and starts at least `min_overlap` seconds before the
customer's utterance ends; backchannels (嗯, 好的, 对) never count. It needs both
speakers on their own channel: on mono audio it is reported as not checked. Either
utterance may arrive first on a live call, so the pair is judged when the second arrives.

```yaml
- id: interruption.agent
  kind: interruption
  category: interruption
  message: 客服抢话,打断客户
  min_chars: 4
  min_overlap: 1.0
  examples:
    hit: [["0-6 C: 我上周寄的快递到现在还没有收到你们", "4-7 A: 您先听我说这个情况"]]
    miss: [["0-6 C: 我上周寄的快递到现在还没有收到你们", "5.5-6 A: 嗯", "6.5-9 A: 您先别着急我帮您查"]]
```
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Literal

from pydantic import Field

from qa_engine.kinds.base import CallState, Check, SpeakerSpec
from qa_engine.kinds.registry import register
from qa_engine.models import Finding, MatchInfo
from qa_engine.nlp import NlpResources
from qa_engine.text import compact_form

RECENT_SECONDS = 120.0
"""Utterances that ended this long before the newest one started can overlap nothing new."""

DEFAULT_BACKCHANNELS = ["嗯", "嗯嗯", "好", "好的", "对", "对对", "是", "是的", "哦", "啊", "行", "明白", "好好"]


class InterruptionSpec(SpeakerSpec):
    kind: Literal["interruption"]
    speaker: Literal["agent", "customer"] = Field(default="agent", description="Who interrupts")
    min_chars: int = Field(default=4, ge=1)
    min_overlap: float = Field(default=1.0, gt=0, description="Seconds of talking over the other party")
    backchannels: list[str] = Field(default_factory=lambda: list(DEFAULT_BACKCHANNELS))


@dataclass
class _Recent:
    """Recent utterances of each side, so a long call is not rescanned on every turn.

    Each side is an insertion-ordered dict (iterated in arrival order, as before) with a
    heap of end times beside it, so an utterance is forgotten once it ended before the
    horizon even when an earlier one with a huge `end` is still remembered: one endless
    utterance no longer makes every later turn rescan the whole call.
    """

    mine: dict[int, None] = field(default_factory=dict)
    theirs: dict[int, None] = field(default_factory=dict)
    flagged: set[int] = field(default_factory=set)
    _ends: dict[str, list[tuple[float, int]]] = field(default_factory=lambda: {"mine": [], "theirs": []})

    def add(self, side: str, call, index: int) -> None:
        getattr(self, side)[index] = None
        heapq.heappush(self._ends[side], (call.utterances[index].end, index))

    def forget_before(self, call, horizon: float) -> None:
        for side in ("mine", "theirs"):
            ends, kept = self._ends[side], getattr(self, side)
            while ends and ends[0][0] < horizon:
                kept.pop(heapq.heappop(ends)[1], None)


@register
class InterruptionCheck(Check[InterruptionSpec]):
    match_modes = {"timing": "时间计算"}
    judges_both_roles = True

    def __init__(self, spec: InterruptionSpec, nlp: NlpResources) -> None:
        super().__init__(spec, nlp)
        self.backchannels = {compact_form(b) for b in spec.backchannels}
        self.other = "customer" if spec.speaker == "agent" else "agent"

    def feed(self, call: CallState, index: int) -> list[Finding]:
        utterance = call.utterances[index]
        state = call.state(self.spec.id, _Recent)
        state.forget_before(call, utterance.start - RECENT_SECONDS)
        findings = []
        if utterance.speaker == self.spec.speaker:
            if self._counts(call, index):
                state.add("mine", call, index)
                other = next((o for o in state.theirs if self._overlaps(call, o, index)), None)
                if other is not None:
                    state.flagged.add(index)
                    findings.append(self._finding(call, other, index))
        elif utterance.speaker == self.other:
            state.add("theirs", call, index)
            for mine in list(state.mine):
                if mine not in state.flagged and self._overlaps(call, index, mine):
                    state.flagged.add(mine)
                    del state.mine[mine]  # flagged once: it can never be reported again
                    findings.append(self._finding(call, index, mine))
        return findings

    def _counts(self, call, index: int) -> bool:
        text = call.analyses[index].compact
        return len(text) >= self.spec.min_chars and text not in self.backchannels

    def _overlaps(self, call, other: int, mine: int) -> bool:
        them, me = call.utterances[other], call.utterances[mine]
        return them.start < me.start and them.end - me.start >= self.spec.min_overlap

    def _finding(self, call, other: int, mine: int):
        them, me = call.utterances[other], call.utterances[mine]
        overlap = them.end - me.start
        info = MatchInfo(
            mode="timing",
            score=round(overlap, 2),
            detail=f"对方(第 {other + 1} 句)还在说话时开口,重叠 {overlap:.1f} 秒(阈值 {self.spec.min_overlap:g} 秒)",
        )
        return self.finding(call, mine, info, start=me.start, end=min(me.end, them.end))
