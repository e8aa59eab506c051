"""`sequence`: what must (or must not) follow something said, within a few turns.

Why: some duties are conditional. When a customer says 投诉, the agent must apologise
within the next turns (LARA: Listen, Apologize, Resolve, Act). A `trigger` condition
opens a window of the next `within_turns` turns of `window_speaker`; with
`fire_when: missing` the rule fires if none of them meets `expect`, with `present`
if one does. Conditions combine `speaker`, `phrases` (any of), `rules` (any of these
rules fired on the utterance), and `all` / `any` / `not` of further conditions, like
the anchors of the commercial engines, and `emotion` (the utterance's emotion reaches
`min_level`: `emotion: {speaker: customer, min_level: upset}`, so an upset customer
who never says 投诉 still opens the window). Referenced rules must exist and not be
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

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import ClassVar, Literal

import re2
from pydantic import BaseModel, ConfigDict, Field

from qa_engine.emotion import LEVELS
from qa_engine.kinds.base import CallState, Check, RuleSpec, RuleWarning, SpeakerFilter
from qa_engine.kinds.registry import register
from qa_engine.lexicons import Phrases
from qa_engine.matching import PhraseSet
from qa_engine.models import Finding, MatchInfo
from qa_engine.nlp import NlpResources
from qa_engine.text import compact_form


class EmotionCondition(BaseModel):
    """The utterance's emotion (`qa_engine.emotion`) reaches `min_level` (and is one of `labels`)."""

    model_config = ConfigDict(extra="forbid")

    speaker: SpeakerFilter = "any"
    min_level: Literal["upset", "angry"] = "upset"
    labels: list[Literal["negative", "angry", "anxious"]] | None = None

    def in_words(self) -> str:
        """The condition in words, as findings quote it (for example 客户情绪达到不满)."""
        who = {"agent": "客服", "customer": "客户", "any": ""}[self.speaker]
        return f"{who}情绪达到{ {'upset': '不满', 'angry': '愤怒'}[self.min_level] }"


class Condition(BaseModel):
    """A test on one utterance; every field given must hold."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    speaker: SpeakerFilter = "any"
    phrases: Phrases | None = None
    pinyin_min_chars: int = Field(
        default=2, ge=1, description="Shortest phrase also matched by sound; raise it for broad lexicons"
    )
    rules: list[str] | None = Field(default=None, description="Any of these rule ids fired on the utterance")
    emotion: EmotionCondition | None = Field(default=None, description="The utterance's emotion reaches a level")
    all: list[Condition] | None = None
    any: list[Condition] | None = None
    not_: Condition | None = Field(default=None, alias="not")

    def walk(self) -> Iterator[Condition]:
        """This condition and every condition under it, depth first."""
        yield self
        for child in [*(self.all or []), *(self.any or []), *([self.not_] if self.not_ else [])]:
            yield from child.walk()

    def referenced_rules(self) -> list[str]:
        return [rule for condition in self.walk() for rule in condition.rules or []]

    def emotion_used(self) -> bool:
        return any(condition.emotion is not None for condition in self.walk())

    def phrase_conditions(self) -> list[Condition]:
        """This condition and those under it that name phrases."""
        return [condition for condition in self.walk() if condition.phrases]

    def all_phrases(self) -> list[str]:
        return [phrase for condition in self.phrase_conditions() for phrase in condition.phrases]

    def in_words(self) -> str:
        """The condition in words, as findings quote it (for example 客户说「投诉」)."""
        parts = []
        if self.speaker != "any":
            parts.append({"agent": "客服", "customer": "客户"}[self.speaker])
        if self.phrases:
            parts.append("说「" + "/".join(_shown_phrases(self.phrases)) + "」")
        if self.rules:
            parts.append("触发规则 " + "/".join(self.rules))
        if self.emotion:
            parts.append(self.emotion.in_words())
        if self.all:
            parts.append("(" + " 且 ".join(c.in_words() for c in self.all) + ")")
        if self.any:
            parts.append("(" + " 或 ".join(c.in_words() for c in self.any) + ")")
        if self.not_:
            parts.append("非(" + self.not_.in_words() + ")")
        return " ".join(parts) or "任意话语"


def _shown_phrases(phrases: list[str]) -> list[str]:
    """Phrases as the rule file wrote them: a whole lexicon shows as its `@name`."""
    origin = getattr(phrases, "origin", {})
    shown: list[str] = []
    for phrase in phrases:
        item = "@" + origin[phrase] if phrase in origin else phrase
        if item not in shown:
            shown.append(item)
    return shown


Predicate = Callable[[CallState, int], bool]


def compile_condition(condition: Condition) -> Predicate:
    """Turn a condition into a function of (call, utterance index), phrases prepared once."""
    tests: list[Predicate] = []
    if condition.speaker != "any":
        wanted = condition.speaker
        tests.append(lambda call, i: call.utterances[i].speaker == wanted)
    if condition.rules:
        wanted_rules = set(condition.rules)
        tests.append(lambda call, i: bool(call.hits.get(i, set()) & wanted_rules))
    if condition.emotion:
        emotion = condition.emotion
        rank = LEVELS.index(emotion.min_level)
        labels = set(emotion.labels or ())

        def feels(call: CallState, i: int) -> bool:
            felt = call.emotions[i] if i < len(call.emotions) else None
            if felt is None or LEVELS.index(felt.level) < rank or (labels and felt.label not in labels):
                return False
            return emotion.speaker == "any" or call.utterances[i].speaker == emotion.speaker

        tests.append(feels)
    if condition.phrases:  # after the lookups above: matching phrases is the costly test
        phrase_set = PhraseSet(condition.phrases, pinyin_min_chars=condition.pinyin_min_chars)
        tests.append(lambda call, i: bool(phrase_set.find(call.analyses[i])))
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
    episodes: bool = Field(
        default=False,
        description="One finding per episode: triggers while an episode is open join it; "
        "the episode ends when `expect` is met",
    )
    lookback_turns: int = Field(
        default=0, ge=0, description="With episodes: `expect` met in this many window turns before a trigger covers it"
    )
    skip_answered: bool = Field(
        default=False,
        description="With episodes: a trigger whose words were all heard in episodes `expect` already "
        "answered opens none (the same complaint told again after the apology)",
    )
    max_findings: int | None = Field(default=None, ge=1, description="At most this many findings per call")
    window_min_chars: int = Field(
        default=0,
        ge=0,
        description="A window turn shorter than this, once `window_ignore` words at its ends are left "
        "out, does not use up the window unless it meets `expect`: a fragment the recogniser cut off "
        "(哦这可) answers nothing, a short apology (抱歉) still does",
    )
    window_ignore: Phrases = Field(
        default_factory=list,
        description="Window turns made only of these words (backchannels: 嗯, 对, 好的) are not counted",
    )

    reads_other_rules: ClassVar[bool] = True

    def phrases_used(self) -> list[str]:
        return [*self.trigger.all_phrases(), *self.expect.all_phrases()]

    def rule_references(self) -> dict[str, list[str]]:
        return {"trigger": self.trigger.referenced_rules(), "expect": self.expect.referenced_rules()}

    def lint(self, ordinary_sentences: list[str]) -> list[RuleWarning]:
        if self.episodes:
            return []
        return [
            RuleWarning((name,), f"{name} applies to episodes only", "set episodes: true, or remove it")
            for name, value in (("lookback_turns", self.lookback_turns), ("skip_answered", self.skip_answered))
            if value
        ]


@dataclass
class _Pending:
    trigger: int
    remaining: int


@dataclass
class _Episode:
    open: bool = False
    window: _Pending | None = None
    window_turns: list[int] = field(default_factory=list)
    recent_met: list[int] = field(default_factory=list)
    words: set[str] = field(default_factory=set)  # trigger words of the open episode
    answered: set[str] = field(default_factory=set)  # trigger words of episodes `expect` answered


@register
class SequenceCheck(Check[SequenceSpec]):
    match_modes = {"sequence": "上下文序列"}
    judges_both_roles = True

    def __init__(self, spec: SequenceSpec, nlp: NlpResources) -> None:
        super().__init__(spec, nlp)
        self.trigger = compile_condition(spec.trigger)
        self.expect = compile_condition(spec.expect)
        self.window_speaker = spec.window_speaker or spec.expect.speaker
        # Episode findings name the words that opened them; only they need these matchers, each
        # matching as the condition that holds the phrases does (its own pinyin_min_chars).
        self.trigger_words = (
            [PhraseSet(c.phrases, pinyin_min_chars=c.pinyin_min_chars) for c in spec.trigger.phrase_conditions()]
            if spec.episodes
            else []
        )
        ignored = sorted({compact_form(w) for w in spec.window_ignore} - {""}, key=len, reverse=True)
        run = "(?:" + "|".join(re2.escape(w) for w in ignored) + ")+"
        self.ignore = re2.compile(run) if ignored else None  # a turn made only of ignored words
        # Runs of ignored words at either end of a turn (嗯那好 → 那好); only the ends, so a word like
        # 对不起 keeps its 对. RE2, as a run anchored at the end backtracks exponentially in Python's
        # `re` (嗯 forty times, then one other character); the cheap end tests spare most turns the call.
        self.ignore_words = tuple(ignored)
        self.ignore_tail = re2.compile(run + "$") if ignored else None

    def _counts(self, call, index) -> bool:
        """Whether utterance `index` is a turn of the window: the right speaker, not a mere
        backchannel, and (with `window_min_chars`) not a cut-off fragment unless it meets `expect`."""
        if self.window_speaker != "any" and call.utterances[index].speaker != self.window_speaker:
            return False
        compact = call.analyses[index].compact
        if self.ignore is not None and self.ignore.fullmatch(compact):
            return False
        if self.spec.window_min_chars and not self._long_enough(compact):
            return self.expect(call, index)  # 抱歉 is short and still an apology
        return True

    def _long_enough(self, compact: str) -> bool:
        start, end = 0, len(compact)
        if self.ignore_words and compact.startswith(self.ignore_words):
            start = self.ignore.match(compact).end()
        if self.ignore_words and compact.endswith(self.ignore_words):
            tail = self.ignore_tail.search(compact, start)
            end = tail.start() if tail is not None else end
        return end - start >= self.spec.window_min_chars

    def feed(self, call: CallState, index: int) -> list[Finding]:
        if self.spec.episodes:
            return self._capped(call, self._feed_episode(call, index))
        return self._capped(call, self._feed_each(call, index))

    def close(self, call: CallState) -> list[Finding]:
        if self.spec.episodes:
            episode: _Episode = call.state(self.spec.id, _Episode)
            findings = []
            if episode.window is not None and self.spec.fire_when == "missing":
                findings.append(self._finding(call, episode.window.trigger, None))
            episode.window = None
            return self._capped(call, findings)
        pending: list[_Pending] = call.state(self.spec.id, list)
        findings = []
        if self.spec.fire_when == "missing":
            findings = [self._finding(call, item.trigger, None) for item in pending]
        pending.clear()
        return self._capped(call, findings)

    def _capped(self, call, findings):
        if self.spec.max_findings is None or not findings:
            return findings
        counter = call.state(self.spec.id + "#count", lambda: [0])
        room = max(self.spec.max_findings - counter[0], 0)
        counter[0] += min(room, len(findings))
        return findings[:room]

    def _feed_episode(self, call, index):
        """One open episode at a time: it opens on a trigger and ends when `expect` is met."""
        episode: _Episode = call.state(self.spec.id, _Episode)
        findings = []
        if self._counts(call, index):
            met = self.expect(call, index)
            if met:
                episode.recent_met.append(index)
            episode.window_turns.append(index)
            if episode.open and met:
                if episode.window is not None and self.spec.fire_when == "present":
                    findings.append(self._finding(call, episode.window.trigger, index))
                episode.open, episode.window = False, None
                episode.answered |= episode.words
            elif episode.window is not None:
                episode.window.remaining -= 1
                if episode.window.remaining == 0:
                    if self.spec.fire_when == "missing":
                        findings.append(self._finding(call, episode.window.trigger, None))
                    episode.window = None  # reported; the episode stays open until `expect` is met
        # An open episode needs the trigger only to gather its words (skip_answered).
        if (not episode.open or self.spec.skip_answered) and self.trigger(call, index):
            words = self._trigger_words(call, index)
            if episode.open:
                episode.words |= words  # the complaint goes on: its words join the episode
            elif not self._covered(episode, words):
                episode.open, episode.words = True, words
                episode.window = _Pending(index, self.spec.within_turns)
        return findings

    def _trigger_words(self, call, index) -> set[str]:
        if not self.spec.skip_answered:
            return set()
        return set(self._words_said(call, index))

    def _words_said(self, call, index) -> list[str]:
        """The trigger's phrases said in utterance `index`, in order, once each."""
        analysis = call.analyses[index]
        return list(dict.fromkeys(hit.phrase for words in self.trigger_words for hit in words.find(analysis)))

    def _covered(self, episode: _Episode, words: set[str]) -> bool:
        """`expect` met just before the trigger, or (skip_answered) its words all answered already."""
        recent = set(episode.window_turns[-self.spec.lookback_turns :]) if self.spec.lookback_turns else set()
        if recent & set(episode.recent_met):
            return True
        return self.spec.skip_answered and bool(words) and words <= episode.answered

    def _feed_each(self, call, index):
        pending: list[_Pending] = call.state(self.spec.id, list)
        findings = []
        if pending and self._counts(call, index):
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

    def _finding(self, call, trigger: int, matched: int | None):
        window = f"之后 {self.spec.within_turns} 句内"
        said = ""
        if self.spec.episodes:
            words = self._words_said(call, trigger)
            if not words and self.spec.trigger.emotion_used() and trigger < len(call.emotions):
                words = list(dict.fromkeys(w.text for w in call.emotions[trigger].words))
            said = ",说了「" + "、".join(words) + "」" if words else ""
        if matched is None:
            detail = f"第 {trigger + 1} 句满足触发条件({self.spec.trigger.in_words()}{said}),{window}未出现({self.spec.expect.in_words()})"
            return self.finding(call, trigger, MatchInfo(mode="sequence", detail=detail))
        detail = f"第 {trigger + 1} 句满足触发条件({self.spec.trigger.in_words()}{said}),第 {matched + 1} 句出现({self.spec.expect.in_words()})"
        return self.finding(call, matched, MatchInfo(mode="sequence", detail=detail))
