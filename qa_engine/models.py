"""Data shapes at the engine's boundaries: transcripts in, findings and reports out.

These are the contract shared by every input path (transcript files, speech-to-text,
live events) and every output (JSON, CSV, HTML, the server), so they live in one place.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

Speaker = Literal["agent", "customer", "unknown"]
"""`unknown` is what mono speech-to-text produces: the roles cannot be told apart."""


def _encodable(value: str | None) -> str | None:
    """Reject lone surrogates (a JSON escape can make one): no UTF-8 report could hold them."""
    if value is not None:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            raise ValueError(
                f"contains a lone surrogate (\\u{ord(value[error.start]):04x}) at character {error.start + 1}, "
                "which is not valid Unicode text"
            ) from None
    return value


MatchMode = str
"""How a finding matched: one of the modes the rule kinds declare (`kinds.match_mode_labels()`)."""


class Utterance(BaseModel):
    """One turn of one speaker, with its time span in seconds from the call's start."""

    model_config = ConfigDict(extra="ignore")

    speaker: Speaker
    start: float = Field(ge=0, allow_inf_nan=False)
    end: float = Field(ge=0, allow_inf_nan=False)
    text: str
    _char_times: list[tuple[float, float]] | None = PrivateAttr(default=None)
    """Speech-to-text only, never written: (start, end) of the word each character of
    `text` belongs to, from Whisper's word timestamps. Redaction uses it to time the
    spans it masks (`PiiSpan.timing == "words"`), so audio redaction can mute them."""

    _text_encodable = field_validator("text")(_encodable)

    @model_validator(mode="after")
    def _end_after_start(self) -> Utterance:
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        return self


class PiiSpan(BaseModel):
    """One redacted span: where its mask sits in the redacted text, and roughly when it was said."""

    utterance_index: int
    entity: str
    start_char: int
    end_char: int
    start: float
    end: float
    timing: Literal["words", "interpolated"] = "interpolated"
    """`words`: from speech-to-text word timestamps; `interpolated`: spread evenly over the
    utterance by character (transcript files have no word times)."""


class PiiRecord(BaseModel):
    """How a transcript was redacted (never what was removed)."""

    redacted: bool = True
    config: str = ""
    spans: list[PiiSpan] = Field(default_factory=list)


class CallTranscript(BaseModel):
    """A whole call as the engine reads it; `source` and `stt` record where it came from."""

    model_config = ConfigDict(extra="ignore")

    call_id: str = Field(min_length=1)
    agent_id: str | None = None
    utterances: list[Utterance]
    source: str | None = None
    audio: str | None = None
    stt: dict[str, Any] | None = None
    pii: PiiRecord | None = None

    _ids_encodable = field_validator("call_id", "agent_id")(_encodable)


class Evidence(BaseModel):
    """The words a finding is about, as they stand in the original text."""

    text: str
    start_char: int
    end_char: int


class MatchInfo(BaseModel):
    """How a finding matched: the mode, a score where one applies, and a sentence of detail."""

    mode: MatchMode
    score: float | None = None
    pattern: str | None = None
    detail: str = ""


class Finding(BaseModel):
    """One rule violation, with everything needed to explain it to a person."""

    rule_id: str
    category: str
    severity: Literal["info", "minor", "major", "critical"]
    message: str
    deduction: float = 0.0
    fatal: bool = False
    speaker: Speaker | None = None
    utterance_index: int | None = None
    start: float | None = None
    end: float | None = None
    evidence: Evidence | None = None
    match: MatchInfo


class NotChecked(BaseModel):
    """A rule that could not be judged on this call, and why (e.g. roles unknown on mono audio)."""

    rule_id: str
    reason: str


class Provenance(BaseModel):
    """Everything needed to reproduce a score."""

    engine_version: str
    rules_path: str | None = None
    rules_sha256: str | None = None
    rules_name: str | None = None
    source: str | None = None
    stt: dict[str, Any] | None = None
    redaction: dict[str, Any] | None = None


class CallReport(BaseModel):
    """The scored call: the number, pass/fail, subtotals by category and every finding."""

    call_id: str
    agent_id: str | None = None
    status: Literal["scored", "failed"] = "scored"
    error: str | None = None
    score: float | None = None
    passed: bool | None = None
    fatal: bool = False
    base_score: float = 100.0
    pass_mark: float = 80.0
    duration: float = 0.0
    utterance_count: int = 0
    category_deductions: dict[str, float] = Field(default_factory=dict)
    findings: list[Finding] = Field(default_factory=list)
    not_checked: list[NotChecked] = Field(default_factory=list)
    provenance: Provenance | None = None
