"""What every rule kind shares: the spec fields, the per-call state and the check shape.

A check is compiled once per rule set and shared by every call (and every server
session); whatever it must remember about one call lives in `CallState.states`.

Everything that differs between kinds is a hook here, overridden in the kind's own
module, so nothing outside `kinds/` names a kind: the phrases it uses, the rules it
refers to, its lint warnings, its tunable thresholds, who it listens to, its match
modes and their labels, and the `SpecError` it raises when a spec cannot compile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field

from qa_engine.models import CallMetrics, Evidence, Finding, MatchInfo, Utterance, UtteranceEmotion
from qa_engine.text import AnalyzedText

if TYPE_CHECKING:
    from qa_engine.nlp import NlpResources

Severity = Literal["info", "minor", "major", "critical"]
SpeakerFilter = Literal["agent", "customer", "any"]

# An example is one utterance (a string, said by the rule's speaker) or a dialogue:
# lines such as "A: 您好" / "C: 我要投诉" / "0-3.5 C: ..." (optional start-end seconds).
Example = str | list[str]


class Examples(BaseModel):
    """Sentences or dialogues the rule must fire on (`hit`) and must not (`miss`)."""

    model_config = ConfigDict(extra="forbid")

    hit: list[Example] = Field(default_factory=list)
    miss: list[Example] = Field(default_factory=list)


Loc = tuple[str | int, ...]
"""A place inside one rule, e.g. ("pattern",) or ("patterns", 2)."""


class SpecError(ValueError):
    """A spec that validated but cannot be compiled; `loc` says where in the rule.

    The rule-file loader turns it into a located problem (file, line, column, rule id).
    """

    def __init__(self, loc: Loc, message: str) -> None:
        super().__init__(message)
        self.loc = loc


@dataclass
class RuleWarning:
    """A likely mistake in one rule (`qa rules check`), at `loc` inside the rule."""

    loc: Loc
    message: str
    hint: str | None = None


class RuleSpec(BaseModel):
    """Fields every rule has, whatever its kind, and the hooks a kind may override."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$", description="Unique rule id, e.g. forbidden.taboo")
    kind: str
    category: str = Field(description="Category id; reports total deductions per category")
    message: str = Field(description="What the reviewer reads (Chinese)")
    severity: Severity = "major"
    deduction: float = Field(default=5.0, ge=0, description="Points taken off per hit")
    max_deduction: float | None = Field(default=None, ge=0, description="Cap for this rule per call")
    fatal: bool = Field(default=False, description="A hit sets the score to 0 (一票否决)")
    enabled: bool = True
    description: str | None = None
    examples: Examples = Field(default_factory=Examples)

    phrase_fields: ClassVar[tuple[str, ...]] = ()
    """Top-level fields holding phrase lists (linted; kept whole by the tokenizer)."""
    forbids_phrases: ClassVar[bool] = False
    """Each of its phrases costs points when said: the same phrase in two such rules charges twice."""
    reads_other_rules: ClassVar[bool] = False
    """It reads other rules' hits on the same utterance: it runs after them and may not be referred to."""

    def phrases_used(self) -> list[str]:
        """Phrases this rule looks for, so the tokenizer keeps them whole."""
        return [phrase for name in self.phrase_fields for phrase in getattr(self, name)]

    def rule_references(self) -> dict[str, list[str]]:
        """The rule ids this rule refers to, by the field that names them."""
        return {}

    def lint(self, ordinary_sentences: list[str]) -> list[RuleWarning]:
        """Kind-specific likely mistakes; `ordinary_sentences` are polite lines nothing should match."""
        return []

    def tunable_thresholds(self) -> dict[str, float]:
        """Thresholds `qa calibrate` may search, by field name, with their current values."""
        return {}

    def phrase_threshold(self) -> float:
        """The fuzzy score at which this rule's phrases match (`qa rules explain` shows scores against it)."""
        return 90.0

    def timeline_gap(self) -> float | None:
        """Seconds of silence this rule judges as dead air, if it judges any (the HTML timeline draws them)."""
        return None

    def speaker_matches(self, utterance: Utterance) -> bool:
        """Whether the rule listens to this utterance's speaker (every speaker unless a kind says otherwise)."""
        return self.hears(utterance.speaker)

    def hears(self, speaker: str) -> bool:
        """Whether the rule listens to `speaker` at all (every speaker unless a kind says otherwise)."""
        return True

    def restricts_speaker(self) -> bool:
        """True when the rule listens to one role only, so it cannot run when roles are unknown."""
        return False

    def example_speaker(self) -> str:
        """Who says a one-line example: the rule's speaker, or the agent when it has none."""
        return "agent"


class SpeakerSpec(RuleSpec):
    """The speaker mixin: a rule that listens to one speaker (`speaker: agent|customer|any`)."""

    speaker: SpeakerFilter = "agent"

    def hears(self, speaker: str) -> bool:
        return self.speaker == "any" or speaker == self.speaker

    def restricts_speaker(self) -> bool:
        return self.speaker != "any"

    def example_speaker(self) -> str:
        return self.speaker if self.speaker in ("agent", "customer") else "agent"


SpecT = TypeVar("SpecT", bound=RuleSpec)
StateT = TypeVar("StateT")


def spec_kind(spec_class: type[RuleSpec]) -> str:
    """The kind a spec class declares once, in its `kind: Literal[...]` field."""
    values = get_args(spec_class.model_fields["kind"].annotation)
    if len(values) != 1 or not isinstance(values[0], str):
        raise TypeError(f"{spec_class.__name__}.kind must be Literal['<one kind>']")
    return values[0]


MAX_EVIDENCE_CHARS = 500
"""Longest evidence a finding carries; its offsets say where it starts in the original text.
Ordinary utterances are far shorter, so their evidence is always whole."""


@dataclass
class CallState:
    """Everything known about one call so far; checks read it and keep their state in it."""

    call_id: str
    agent_id: str | None = None
    roles_known: bool = True
    utterances: list[Utterance] = field(default_factory=list)
    analyses: list[AnalyzedText] = field(default_factory=list)
    hits: dict[int, set[str]] = field(default_factory=dict)
    states: dict[str, Any] = field(default_factory=dict)
    max_end: float = 0.0
    recording_seconds: float | None = None
    """How long the recording is, when the call came from audio (rules may judge the silence in it)."""
    emotions: list[UtteranceEmotion] = field(default_factory=list)
    """Each utterance's emotion (`qa_engine.emotion`), read once as it arrives."""
    emotion_track: Any = None
    metrics: CallMetrics | None = None
    """The conversation metrics, set when the call closes (before call-level rules run)."""

    def state(self, rule_id: str, factory: Callable[[], StateT]) -> StateT:
        """This rule's own memory for this call, created on first use."""
        if rule_id not in self.states:
            self.states[rule_id] = factory()
        return self.states[rule_id]

    def last_index_of(self, speaker: str, before: int) -> int | None:
        for index in range(before - 1, -1, -1):
            if self.utterances[index].speaker == speaker:
                return index
        return None


class Check(Generic[SpecT]):
    """One compiled rule: `class PhrasesCheck(Check[PhrasesSpec])`, overriding `feed` and/or `close`.

    The spec class and the kind's name are read from the generic parameter; `match_modes`
    lists the `MatchInfo.mode`s the check produces with their Chinese labels.
    """

    spec_class: ClassVar[type[RuleSpec]]
    kind: ClassVar[str]
    match_modes: ClassVar[dict[str, str]] = {}
    judges_both_roles: ClassVar[bool] = False
    """True when the check compares the agent with the customer (so roles must be known)."""
    feeds_own_speaker_only: ClassVar[bool] = False
    """True when `feed` returns nothing and keeps no state for other speakers' utterances
    (declared in the class line: `class PhrasesCheck(Check[PhrasesSpec], own_speaker_only=True)`)."""

    def __init_subclass__(cls, own_speaker_only: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.feeds_own_speaker_only = own_speaker_only or cls.feeds_own_speaker_only
        for base in getattr(cls, "__orig_bases__", ()):
            args = get_args(base)
            if args and isinstance(args[0], type) and issubclass(args[0], RuleSpec):
                cls.spec_class = args[0]
                cls.kind = spec_kind(args[0])

    def __init__(self, spec: SpecT, nlp: NlpResources) -> None:
        self.spec: SpecT = spec
        self.nlp = nlp

    @property
    def requires_roles(self) -> bool:
        """The check cannot run on a call whose roles are unknown (mono audio)."""
        return self.judges_both_roles or self.spec.restricts_speaker()

    def feed(self, call: CallState, index: int) -> list[Finding]:
        """Findings that can be decided now that utterance `index` has arrived."""
        return []

    def listens_to(self, speaker: str) -> bool:
        """Whether `feed` can do anything with an utterance of `speaker`.

        The session feeds each utterance only to the checks that listen to its speaker: most
        rules hear one role, and a call to each of the others costs as much as a cheap match.
        """
        if type(self).feed is Check.feed:
            return False
        return not self.feeds_own_speaker_only or self.spec.hears(speaker)

    def close(self, call: CallState) -> list[Finding]:
        """Findings that need the whole call."""
        return []

    def speaker_matches(self, utterance: Utterance) -> bool:
        return self.spec.speaker_matches(utterance)

    def finding(
        self,
        call: CallState,
        index: int | None,
        match: MatchInfo,
        span: tuple[int, int] | None = None,
        original_span: tuple[int, int] | None = None,
        start: float | None = None,
        end: float | None = None,
        message: str | None = None,
    ) -> Finding:
        """A finding about utterance `index`, or about the call when `index` is None.

        The evidence is the compact `span` of the utterance, or `original_span` of its
        original text, or else the whole utterance.
        """
        spec = self.spec
        evidence = None
        speaker = None
        if index is not None:
            utterance = call.utterances[index]
            analysis = call.analyses[index]
            speaker = utterance.speaker
            start = utterance.start if start is None else start
            end = utterance.end if end is None else end
            if original_span is not None:
                first, last = original_span
            elif span is not None and span[1] > span[0]:
                first, last = analysis.span(*span)
            else:
                first, last = 0, len(utterance.text)
            last = min(last, first + MAX_EVIDENCE_CHARS)  # a huge utterance is not copied into every finding
            evidence = Evidence(text=utterance.text[first:last], start_char=first, end_char=last)
        return Finding(
            rule_id=spec.id,
            category=spec.category,
            severity=spec.severity,
            message=message or spec.message,
            fatal=spec.fatal,
            speaker=speaker,
            utterance_index=index,
            start=None if start is None else round(start, 3),
            end=None if end is None else round(end, 3),
            evidence=evidence,
            match=match,
        )
