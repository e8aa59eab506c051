"""`required`: phrases that must appear in a window of the call (greeting, closing).

Why: every call must open with the standard greeting (您好，中通速递，工号…为您服务)
and close with the standard closing (感谢您的来电，再见). The window is the speaker's
first or last turns, or the first or last seconds of the call. An opening window is
decided as soon as it has passed, so a live supervisor hears of a missing greeting
at once; a closing window is decided when the call ends. `together_with` asks for a
second phrase as well (您好 and one of 中通 / 工号 / 为您服务). `position: any` asks
for the phrase anywhere in the call (polite language: 请, 谢谢), decided at the end.

```yaml
- id: greeting.standard
  kind: required
  category: greeting
  message: 未使用标准开场白(您好+公司名/工号)
  position: first
  turns: 1
  phrases: [您好, 你好]
  together_with: [中通, 工号, 为您服务]
  examples:
    hit: [["A: 喂，什么事？", "C: 我查个快递"]]
    miss: [["A: 您好，中通速递，工号三零八为您服务。", "C: 我查个快递"]]
```
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from qa_engine.kinds.base import CallState, Check, RuleWarning, SpeakerSpec
from qa_engine.kinds.registry import register
from qa_engine.lexicons import NonEmptyPhrases, Phrases
from qa_engine.matching import PhraseSet
from qa_engine.models import Finding, MatchInfo
from qa_engine.nlp import NlpResources
from qa_engine.text import compact_form, literal_alternation


class RequiredSpec(SpeakerSpec):
    kind: Literal["required"]
    speaker: Literal["agent", "customer", "any"] = "agent"
    position: Literal["first", "last", "any"] = Field(
        description="Window at the start or the end of the call, or anywhere in it"
    )
    turns: int | None = Field(default=None, ge=1, description="The speaker's first/last N turns")
    seconds: float | None = Field(default=None, gt=0, description="The first/last N seconds of the call")
    phrases: NonEmptyPhrases = Field(description="At least one of these must be said")
    together_with: Phrases = Field(default_factory=list, description="…and, if given, one of these too")
    fuzzy_threshold: float = Field(default=90.0, ge=50, le=100)
    ignore_turns: Phrases = Field(
        default_factory=list,
        description="With `position: first`, a turn that says nothing but these words (嗯, 喂) or only "
        "masked data is not counted: the opening is looked for in the turns after it",
    )

    phrase_fields: ClassVar[tuple[str, ...]] = ("phrases", "together_with")

    def phrase_threshold(self) -> float:
        return self.fuzzy_threshold

    def lint(self, ordinary_sentences: list[str]) -> list[RuleWarning]:
        if self.ignore_turns and self.position != "first":
            return [RuleWarning(("ignore_turns",), "ignore_turns applies with position: first only", "remove it")]
        return []

    @model_validator(mode="after")
    def _needs_a_window(self) -> RequiredSpec:
        if self.position != "any" and self.turns is None and self.seconds is None:
            raise ValueError("give the window: `turns`, `seconds` or both")
        return self


@dataclass
class _Window:
    turn: int = 0
    closed: bool = False
    found_main: bool = False
    found_with: bool = False
    in_window: list[int] = field(default_factory=list)


@register
class RequiredCheck(Check[RequiredSpec]):
    match_modes = {"missing": "缺失检测"}

    def __init__(self, spec: RequiredSpec, nlp: NlpResources) -> None:
        super().__init__(spec, nlp)
        self.main = PhraseSet(spec.phrases, fuzzy_threshold=spec.fuzzy_threshold)
        self.together = PhraseSet(spec.together_with, fuzzy_threshold=spec.fuzzy_threshold)
        self.ignore = literal_alternation(compact_form(w) for w in spec.ignore_turns)

    def feed(self, call: CallState, index: int) -> list[Finding]:
        if self.spec.position != "first":
            return []
        window = call.state(self.spec.id, _Window)
        if window.closed:
            return []
        utterance = call.utterances[index]
        past_time = self.spec.seconds is not None and utterance.start > self.spec.seconds
        if not self.speaker_matches(utterance):
            if past_time and self.spec.turns is None:
                return self._decide(call, window)
            return []
        if self.spec.ignore_turns and self._says_nothing(call, index):
            return []
        past_turns = self.spec.turns is not None and window.turn >= self.spec.turns
        window.turn += 1
        if (past_turns or self.spec.turns is None) and (past_time or self.spec.seconds is None):
            return self._decide(call, window)
        window.in_window.append(index)
        self._look(call, window, index)
        return self._decide(call, window) if self._satisfied(window) else []

    def close(self, call: CallState) -> list[Finding]:
        window = call.state(self.spec.id, _Window)
        if self.spec.position == "first":
            return [] if window.closed else self._decide(call, window)
        spoken = [i for i, u in enumerate(call.utterances) if self.speaker_matches(u)]
        if self.spec.position == "any":
            pass
        elif self.spec.turns is not None:
            spoken = spoken[-self.spec.turns :]
        if self.spec.position == "last" and self.spec.seconds is not None:
            call_end = max((u.end for u in call.utterances), default=0.0)
            in_time = [i for i in spoken if call.utterances[i].end >= call_end - self.spec.seconds]
            spoken = in_time if self.spec.turns is None else sorted(set(spoken) | set(in_time))
        window.in_window = spoken
        for index in spoken:
            self._look(call, window, index)
        return self._decide(call, window)

    def _says_nothing(self, call, index: int) -> bool:
        compact = call.analyses[index].compact
        return not (self.ignore.sub("", compact) if self.ignore is not None else compact)

    def _look(self, call, window: _Window, index: int) -> None:
        analysis = call.analyses[index]
        window.found_main = window.found_main or bool(self.main.find(analysis))
        if self.spec.together_with:
            window.found_with = window.found_with or bool(self.together.find(analysis))

    def _satisfied(self, window: _Window) -> bool:
        return window.found_main and (window.found_with or not self.spec.together_with)

    def _decide(self, call, window: _Window):
        window.closed = True
        if self._satisfied(window):
            return []
        where = {"first": "开头", "last": "结尾", "any": "全程"}[self.spec.position]
        if self.spec.position == "any":
            scope = ""
        else:
            scope = f"{self.spec.turns} 句" if self.spec.turns else f"{self.spec.seconds:g} 秒"
        wanted = "/".join(self.spec.phrases)
        if self.spec.together_with:
            wanted += " + " + "/".join(self.spec.together_with)
        missing = "/".join(self.spec.phrases) if not window.found_main else "/".join(self.spec.together_with)
        info = MatchInfo(
            mode="missing",
            pattern=wanted,
            detail=f"通话{where}{scope}内未出现「{missing}」"
            + (f"(要求: {wanted})" if missing != wanted else ""),
        )
        if window.in_window:
            index = window.in_window[0] if self.spec.position == "first" else window.in_window[-1]
            return [self.finding(call, index, info)]
        return [self.finding(call, None, info, start=0.0, end=0.0)]
