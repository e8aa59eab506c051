"""What every rule kind shares: the spec fields, the per-call state and the check shape.

A check is compiled once per rule set and shared by every call (and every server
session); whatever it must remember about one call lives in `CallState.states`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..models import Evidence, Finding, MatchInfo, Utterance
from ..text import AnalyzedText

if TYPE_CHECKING:
    from ..nlp import NlpResources

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


class RuleSpec(BaseModel):
    """Fields every rule has, whatever its kind."""

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

    def phrases_used(self) -> list[str]:
        """Phrases this rule looks for, so the tokenizer keeps them whole."""
        return []


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

    def state(self, rule_id: str, factory):
        """This rule's own memory for this call, created on first use."""
        if rule_id not in self.states:
            self.states[rule_id] = factory()
        return self.states[rule_id]

    def last_index_of(self, speaker: str, before: int) -> int | None:
        for index in range(before - 1, -1, -1):
            if self.utterances[index].speaker == speaker:
                return index
        return None


class Check:
    """One compiled rule. Subclasses set `spec_class` and override `feed` and/or `close`."""

    spec_class: ClassVar[type[RuleSpec]]
    needs_roles: ClassVar[bool] = False
    """True when the check cannot run without knowing who is agent and who is customer."""

    def __init__(self, spec: RuleSpec, nlp: NlpResources) -> None:
        self.spec = spec
        self.nlp = nlp

    @property
    def requires_roles(self) -> bool:
        return self.needs_roles or getattr(self.spec, "speaker", "any") != "any"

    def feed(self, call: CallState, index: int) -> Iterable[Finding]:
        """Findings that can be decided now that utterance `index` has arrived."""
        return ()

    def close(self, call: CallState) -> Iterable[Finding]:
        """Findings that need the whole call."""
        return ()

    def speaker_matches(self, utterance: Utterance) -> bool:
        wanted = getattr(self.spec, "speaker", "any")
        return wanted == "any" or utterance.speaker == wanted

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
