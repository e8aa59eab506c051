"""Data shapes at the engine's boundaries: transcripts in, findings and reports out.

These are the contract shared by every input path (transcript files, speech-to-text,
live events) and every output (JSON, CSV, HTML, the server), so they live in one place.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_serializer,
    model_validator,
)

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


class VoiceMeasure(BaseModel):
    """One utterance's voice measured on its own channel (`qa_engine.voice`): raw values."""

    model_config = ConfigDict(extra="ignore")

    loudness_db: float | None = Field(default=None, allow_inf_nan=False, description="RMS level, dBFS")
    pitch_mean_hz: float | None = Field(default=None, allow_inf_nan=False)
    pitch_range_st: float | None = Field(default=None, allow_inf_nan=False, description="5th to 95th percentile, semitones")


MAX_UTTERANCE_CHARS = int(os.environ.get("QA_MAX_UTTERANCE_CHARS", "20000"))
"""Longest text one utterance may have: real turns are a few hundred characters, and the
analysis of one turn grows with its length (a 50 MB text field needed gigabytes)."""


class Utterance(BaseModel):
    """One turn of one speaker, with its time span in seconds from the call's start.

    `voice` is set where the utterance came from audio (loudness and pitch of its channel).
    """

    model_config = ConfigDict(extra="ignore")

    speaker: Speaker
    start: float = Field(ge=0, allow_inf_nan=False)
    end: float = Field(ge=0, allow_inf_nan=False)
    text: str
    voice: VoiceMeasure | None = None
    _char_times: list[tuple[float, float]] | None = PrivateAttr(default=None)
    """Speech-to-text only, never written: (start, end) of the word each character of
    `text` belongs to, from Whisper's word timestamps. Redaction uses it to time the
    spans it masks (`PiiSpan.timing == "words"`), so audio redaction can mute them."""

    @field_validator("text")
    @classmethod
    def _text_fits(cls, value: str) -> str:
        """Encodable (no lone surrogate) and at most `MAX_UTTERANCE_CHARS` long.

        Checked here rather than with `max_length`, which would turn a lone surrogate into
        pydantic's vaguer "unable to parse raw data as a unicode string"."""
        _encodable(value)
        if len(value) > MAX_UTTERANCE_CHARS:
            raise ValueError(
                f"text has {len(value)} characters; at most {MAX_UTTERANCE_CHARS} (QA_MAX_UTTERANCE_CHARS) "
                "in one utterance: split the turn"
            )
        return value

    @model_validator(mode="after")
    def _end_after_start(self) -> Utterance:
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        return self


Level = Literal["calm", "upset", "angry"]
"""How upset an utterance is (`qa_engine.emotion`); rules compare levels in this order."""
Label = Literal["neutral", "negative", "angry", "anxious", "satisfied"]


class EmotionWord(BaseModel):
    """A lexicon word heard in the utterance, as it stands in the original text."""

    text: str
    start_char: int
    end_char: int
    kind: str
    weight: float


class VoiceEvidence(BaseModel):
    """The voice against the speaker's baseline (median of its earlier turns in the call)."""

    loudness_db: float | None = None
    loudness_delta_db: float | None = None
    pitch_mean_hz: float | None = None
    pitch_delta_st: float | None = None
    pitch_range_st: float | None = None
    raised: bool = False


class UtteranceEmotion(BaseModel):
    """The emotion of one utterance with its evidence."""

    index: int
    speaker: str
    start: float
    end: float
    label: Label = "neutral"
    level: Level = "calm"
    score: float = 0.0
    strength: float = 0.0
    words: list[EmotionWord] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)
    voice: VoiceEvidence | None = None

    def describe(self) -> str:
        """One line for a reviewer: level (label, score) 「words」 and the voice and pressing reasons."""
        level_names = {"calm": "平静", "upset": "不满", "angry": "愤怒"}
        label_names = {"neutral": "中性", "negative": "不满", "angry": "愤怒", "anxious": "焦急", "satisfied": "满意"}
        parts = [f"{level_names[self.level]}({label_names[self.label]},{self.score:.1f})"]
        if self.words:
            parts.append("「" + "、".join(dict.fromkeys(w.text for w in self.words)) + "」")
        parts.extend(self.reasons)
        return " ".join(parts)



class CallMetrics(BaseModel):
    """Conversation characteristics of one call (`qa_engine.metrics`), in seconds unless named otherwise."""

    duration: float = 0.0
    agent_talk: float = 0.0
    customer_talk: float = 0.0
    agent_talk_ratio: float | None = None
    customer_talk_ratio: float | None = None
    non_talk: float = 0.0
    non_talk_share: float | None = None
    longest_agent_monologue: float = 0.0
    longest_agent_monologue_start: float | None = None
    responses: int = 0
    response_latency_mean: float | None = None
    response_latency_max: float | None = None
    overtalk_count: int = 0
    overtalk_seconds: float = 0.0
    hold_count: int = 0
    hold_seconds: float = 0.0
    customer_upset_utterances: int = 0
    customer_peak_level: Level = "calm"
    customer_emotion_start: Level | None = None
    customer_emotion_end: Level | None = None
    customer_score_start: float | None = None
    customer_score_end: float | None = None
    emotion_trend: Literal["better", "same", "worse"] | None = None
    ended_upset: bool = False
    customer_cut_off: bool = False


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


class SttRecord(BaseModel):
    """How a transcript was made: the fields `stt.Transcriber` writes (settings, what 'auto'
    became, the audio's format and hash, counts). Every field is optional and others are
    kept (`extra="allow"`: the live server adds `live`, a reference recognizer its own), and
    it serialises as it was given: the keys given, in their order, values unchanged."""

    model_config = ConfigDict(extra="allow")

    engine: str | None = None
    engine_version: str | None = None
    options: dict[str, Any] | None = None
    model_path: str | None = None
    device: str | None = None
    compute_type: str | None = None
    cpu_threads: int | None = None
    model_sha256: str | None = None
    vad_method: str | None = None
    decoding: str | None = None
    skipped_speech_retry: bool | None = None
    word_timestamps: bool | None = None
    condition_on_previous_text: bool | None = None
    script: str | None = None
    hallucination_filter: bool | None = None
    mode: str | None = None
    channels: int | None = None
    source_format: str | None = None
    source_codec: str | None = None
    source_sample_rate: int | None = None
    duration: int | float | None = None
    audio_sha256: str | None = None
    dropped_segments: int | None = None
    recovered_spans: int | None = None

    _order: tuple[str, ...] = PrivateAttr(default=())

    @model_validator(mode="wrap")
    @classmethod
    def _remember_order(cls, data: Any, handler):
        record = handler(data)
        if isinstance(data, dict):
            record._order = tuple(data)
        return record

    def __bool__(self) -> bool:
        """False when nothing was recorded, as the empty dict it replaces."""
        return bool(self.model_fields_set or self.model_extra)

    @model_serializer(mode="wrap")
    def _as_given(self, handler):
        if isinstance(self, dict):  # put in unvalidated (model_copy(update=...)): written as it was
            return self
        data = handler(self)
        given = self._order or (*(k for k in type(self).model_fields if k in self.model_fields_set), *(self.model_extra or {}))
        return {key: data[key] for key in given if key in data}


class CallTranscript(BaseModel):
    """A whole call as the engine reads it; `source` and `stt` record where it came from."""

    model_config = ConfigDict(extra="ignore")

    call_id: str = Field(min_length=1)
    agent_id: str | None = None
    utterances: list[Utterance]
    source: str | None = None
    audio: str | None = None
    stt: SttRecord | None = None
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
    stt: SttRecord | None = None
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
    metrics: CallMetrics | None = None
    emotions: list[UtteranceEmotion] = Field(
        default_factory=list, description="Each utterance's emotion that is not calm and neutral, in utterance order"
    )
    provenance: Provenance | None = None
