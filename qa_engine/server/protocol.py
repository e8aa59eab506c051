"""The WebSocket protocol of `/v1/stream`, as pydantic models (they also document it).

Client to server: a `start` message, then binary audio frames (interleaved s16le) or
`utterance` events, then `end`. Server to client: `started`, then `transcript` (audio
mode), `finding` the moment each is decided, and `report` at the end; `error` for a bad
message (the connection stays usable) and `busy` (then close) when over capacity.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from qa_engine.live.call import EmotionAlert
from qa_engine.models import CallReport, Finding, Speaker, Utterance, UtteranceEmotion

ErrorCode = Literal[
    "bad_json",
    "invalid_message",
    "not_started",
    "already_started",
    "wrong_mode",
    "unknown_rules",
    "call_in_progress",
    "frame_too_large",
    "message_too_large",
    "unauthorized",
    "redaction_failed",
    "internal",
]


class StartMessage(BaseModel):
    """Opens a call. `channels` names the party on each audio channel (or the roles present)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["start"]
    call_id: str = Field(min_length=1, max_length=200)
    agent_id: str | None = Field(None, max_length=200)
    mode: Literal["audio", "transcript"] = "transcript"
    sample_rate: Literal[8000, 16000] = 8000
    channels: list[Speaker] = Field(default_factory=lambda: ["agent", "customer"], min_length=1, max_length=2)
    rules: str | None = Field(None, description="Name of a loaded rule set; default: the server's first")
    emotion: bool = Field(
        False, description="Also send `emotion` for every utterance and `alert` when the customer escalates"
    )

    @model_validator(mode="after")
    def _distinct(self) -> StartMessage:
        if len(set(self.channels)) != len(self.channels):
            raise ValueError(f"channels must name different parties, got {self.channels}")
        return self

    @property
    def roles(self) -> tuple[Speaker, ...]:
        return tuple(self.channels)


class UtteranceMessage(Utterance):
    """One finished utterance from the platform's own speech-to-text (transcript mode)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["utterance"]

    def utterance(self) -> Utterance:
        return Utterance(speaker=self.speaker, start=self.start, end=self.end, text=self.text)


class EndMessage(BaseModel):
    """The call is over: the server decides call-level rules and sends the report."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["end"]


ClientMessage = Annotated[StartMessage | UtteranceMessage | EndMessage, Field(discriminator="type")]
client_message = TypeAdapter(ClientMessage)


class StartedMessage(BaseModel):
    type: Literal["started"] = "started"
    call_id: str
    mode: Literal["audio", "transcript"]
    rules: str
    rules_sha256: str


class TranscriptMessage(Utterance):
    """An utterance recognised from the call's audio (audio mode)."""

    type: Literal["transcript"] = "transcript"
    index: int = Field(description="Position in the call's utterance sequence")


class FindingMessage(Finding):
    """A finding, sent as soon as the engine decides it."""

    type: Literal["finding"] = "finding"
    decided_at: int | None = Field(
        None, description="Index of the utterance whose arrival decided it; null: decided at the end of the call"
    )


class EmotionMessage(UtteranceEmotion):
    """Each utterance's emotion (level, label, score, words, voice against the speaker's baseline)."""

    type: Literal["emotion"] = "emotion"


class AlertMessage(EmotionAlert):
    """The customer escalated (the call's highest level so far): for supervisors, sent at once."""

    type: Literal["alert"] = "alert"


class ReportMessage(CallReport):
    type: Literal["report"] = "report"


class ErrorMessage(BaseModel):
    type: Literal["error"] = "error"
    code: ErrorCode
    message: str


class BusyMessage(BaseModel):
    type: Literal["busy"] = "busy"
    message: str
    retry_after_s: float = 30.0


ServerMessage = Annotated[
    StartedMessage | TranscriptMessage | FindingMessage | EmotionMessage | AlertMessage | ReportMessage | ErrorMessage
    | BusyMessage,
    Field(discriminator="type"),
]
server_message = TypeAdapter(ServerMessage)
"""Parses what the server sends (the client, `qa stream`, reads every message with it)."""
