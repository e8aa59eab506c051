"""`sequence`: what must (or must not) follow something said, within a few turns.

Why: some duties are conditional. When a customer says 投诉, the agent must apologise
within the next turns (LARA: Listen, Apologize, Resolve, Act). A `trigger` condition
opens a window of the next `within_turns` turns of `window_speaker`; with
`fire_when: missing` the rule fires if none of them meets `expect`, with `present`
if one does. Conditions combine `speaker`, `phrases` (any of), `rules` (any of these
rules fired on the utterance), and `all` / `any` / `not` of further conditions, like
the anchors of the commercial engines. Referenced rules must exist and not be
sequences themselves; they are evaluated first.

```yaml
- id: empathy.complaint_apology
  kind: sequence
  category: empathy
  message: 客户提出投诉后未及时致歉
  trigger: {speaker: customer, phrases: [投诉]}
  expect: {speaker: agent, phrases: [抱歉, 对不起, 不好意思]}
  within_turns: 2
  fire_when: missing
  examples:
    hit: [["C: 我要投诉你们", "A: 您的单号是多少", "A: 我查一下"]]
    miss: [["C: 我要投述你们", "A: 非常抱歉给您带来不便", "A: 我查一下"]]
```
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from qa_engine.kinds.base import CallState, Check, RuleSpec, SpeakerFilter
from qa_engine.kinds.registry import register
from qa_engine.matching import PhraseSet
from qa_engine.models import Finding, MatchInfo
from qa_engine.nlp import NlpResources


class Condition(BaseModel):
    """A test on one utterance; every field given must hold."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    speaker: SpeakerFilter = "any"
    phrases: list[str] | None = None
    rules: list[str] | None = Field(default=None, description="Any of these rule ids fired on the utterance")
    all: list[Condition] | None = None
    any: list[Condition] | None = None
    not_: Condition | None = Field(default=None, alias="not")

    def referenced_rules(self) -> list[str]:
        found = list(self.rules or [])
        for child in [*(self.all or []), *(self.any or []), *([self.not_] if self.not_ else [])]:
            found.extend(child.referenced_rules())
        return found

    def all_phrases(self) -> list[str]:
        found = list(self.phrases or [])
        for child in [*(self.all or []), *(self.any or []), *([self.not_] if self.not_ else [])]:
            found.extend(child.all_phrases())
        return found

    def describe(self) -> str:
        parts = []
        if self.speaker != "any":
            parts.append({"agent": "客服", "customer": "客户"}[self.speaker])
        if self.phrases:
            parts.append("说「" + "/".join(self.phrases) + "」")
        if self.rules:
            parts.append("触发规则 " + "/".join(self.rules))
        if self.all:
            parts.append("(" + " 且 ".join(c.describe() for c in self.all) + ")")
        if self.any:
            parts.append("(" + " 或 ".join(c.describe() for c in self.any) + ")")
        if self.not_:
            parts.append("非(" + self.not_.describe() + ")")
        return " ".join(parts) or "任意话语"


Predicate = Callable[[CallState, int], bool]


def compile_condition(condition: Condition) -> Predicate:
    """Turn a condition into a function of (call, utterance index), phrases prepared once."""
    tests: list[Predicate] = []
    if condition.speaker != "any":
        wanted = condition.speaker
        tests.append(lambda call, i: call.utterances[i].speaker == wanted)
    if condition.phrases:
        phrase_set = PhraseSet(condition.phrases)
        tests.append(lambda call, i: bool(phrase_set.find(call.analyses[i])))
    if condition.rules:
        wanted_rules = set(condition.rules)
        tests.append(lambda call, i: bool(call.hits.get(i, set()) & wanted_rules))
    if condition.all:
        children = [compile_condition(c) for c in condition.all]
        tests.append(lambda call, i: all(child(call, i) for child in children))
    if condition.any:
        options = [compile_condition(c) for c in condition.any]
        tests.append(lambda call, i: any(option(call, i) for option in options))
    if condition.not_:
        negated = compile_condition(condition.not_)
        tests.append(lambda call, i: not negated(call, i))
    return lambda call, i: all(test(call, i) for test in tests)


class SequenceSpec(RuleSpec):
    kind: Literal["sequence"]
    trigger: Condition
    expect: Condition
    within_turns: int = Field(default=2, ge=1)
    window_speaker: SpeakerFilter | None = Field(
        default=None, description="Whose turns the window counts; default: expect's speaker"
    )
    fire_when: Literal["missing", "present"] = "missing"

    reads_other_rules: ClassVar[bool] = True

    def phrases_used(self) -> list[str]:
        return [*self.trigger.all_phrases(), *self.expect.all_phrases()]

    def rule_references(self) -> dict[str, list[str]]:
        return {"trigger": self.trigger.referenced_rules(), "expect": self.expect.referenced_rules()}


@dataclass
class _Pending:
    trigger: int
    remaining: int


@register
class SequenceCheck(Check[SequenceSpec]):
    match_modes = {"sequence": "上下文序列"}
    judges_both_roles = True

    def __init__(self, spec: SequenceSpec, nlp: NlpResources) -> None:
        super().__init__(spec, nlp)
        self.trigger = compile_condition(spec.trigger)
        self.expect = compile_condition(spec.expect)
        self.window_speaker = spec.window_speaker or spec.expect.speaker

    def feed(self, call: CallState, index: int) -> list[Finding]:
        pending: list[_Pending] = call.state(self.spec.id, list)
        findings = []
        counts = self.window_speaker == "any" or call.utterances[index].speaker == self.window_speaker
        if counts and pending:
            met = self.expect(call, index)
            for item in list(pending):
                if met:
                    pending.remove(item)
                    if self.spec.fire_when == "present":
                        findings.append(self._finding(call, item.trigger, index))
                    continue
                item.remaining -= 1
                if item.remaining == 0:
                    pending.remove(item)
                    if self.spec.fire_when == "missing":
                        findings.append(self._finding(call, item.trigger, None))
        if self.trigger(call, index) and not any(p.trigger == index for p in pending):
            pending.append(_Pending(index, self.spec.within_turns))
        return findings

    def close(self, call: CallState) -> list[Finding]:
        pending: list[_Pending] = call.state(self.spec.id, list)
        findings = []
        if self.spec.fire_when == "missing":
            findings = [self._finding(call, item.trigger, None) for item in pending]
        pending.clear()
        return findings

    def _finding(self, call, trigger: int, matched: int | None):
        window = f"之后 {self.spec.within_turns} 句内"
        if matched is None:
            detail = f"第 {trigger + 1} 句满足触发条件({self.spec.trigger.describe()}),{window}未出现({self.spec.expect.describe()})"
            return self.finding(call, trigger, MatchInfo(mode="sequence", detail=detail))
        detail = f"第 {trigger + 1} 句满足触发条件({self.spec.trigger.describe()}),第 {matched + 1} 句出现({self.spec.expect.describe()})"
        return self.finding(call, matched, MatchInfo(mode="sequence", detail=detail))
