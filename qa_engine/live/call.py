"""One call checked as it happens: utterances in, findings out the moment they are decided.

A thin layer over the engine's `Session`, the same rule path as batch scoring, so a call
streamed live and the same call scored from its transcript get the same findings. It also
keeps the transcript heard so far, so a call cut off mid-way can still be saved.
"""

from __future__ import annotations

from pydantic import BaseModel

from qa_engine.emotion import LEVELS
from qa_engine.engine import Engine
from qa_engine.models import (
    CallReport,
    CallTranscript,
    Finding,
    Level,
    Speaker,
    SttRecord,
    Utterance,
    UtteranceEmotion,
)


class EmotionAlert(BaseModel):
    """The customer escalated: this utterance's level is the highest of the call so far (upset or angry).

    Sent to supervisors at once (Contact Lens' real-time alert); `evidence` says why.
    """

    index: int
    speaker: str
    start: float
    end: float
    level: Level
    previous_level: Level
    evidence: str


class LiveCall:
    """A call in progress. Feed utterances in the order they finish."""

    def __init__(
        self,
        engine: Engine,
        call_id: str,
        agent_id: str | None = None,
        *,
        roles: tuple[Speaker, ...] = ("agent", "customer"),
        source: str = "live",
        stt: SttRecord | dict | None = None,
    ) -> None:
        roles_known = "unknown" not in roles and len(roles) > 1
        self.session = engine.session(call_id, agent_id, roles_known, source, stt)
        self.utterances: list[Utterance] = []
        self.peak: Level = "calm"

    @property
    def call_id(self) -> str:
        return self.session.call.call_id

    @property
    def closed(self) -> bool:
        return self.session.closed

    def hear(self, utterance: Utterance) -> Utterance:
        """The utterance with personal data masked: what may be shown, sent or stored."""
        return self.session.hear(utterance)

    def feed(self, utterance: Utterance) -> list[Finding]:
        """Score one finished utterance (redacted first); return the findings it settles."""
        findings = self.session.feed(utterance)
        utterance = self.session.call.utterances[-1]
        self.utterances.append(utterance)
        return findings

    def felt(self) -> list[UtteranceEmotion | EmotionAlert]:
        """The last fed utterance's emotion, and an alert when the customer escalated with it."""
        emotions = self.session.call.emotions
        if not emotions:
            return []
        emotion = emotions[-1]
        events: list[UtteranceEmotion | EmotionAlert] = [emotion]
        if emotion.speaker == "customer" and LEVELS.index(emotion.level) > LEVELS.index(self.peak):
            events.append(
                EmotionAlert(
                    index=emotion.index,
                    speaker=emotion.speaker,
                    start=emotion.start,
                    end=emotion.end,
                    level=emotion.level,
                    previous_level=self.peak,
                    evidence=emotion.describe(),
                )
            )
            self.peak = emotion.level
        return events

    def report(self) -> CallReport:
        """The report so far (call-level rules not yet decided)."""
        return self.session.report()

    def close(self) -> CallReport:
        """The call has ended: decide call-level rules and score it."""
        return self.session.close()

    def transcript(self) -> CallTranscript:
        call = self.session.call
        return CallTranscript(
            call_id=call.call_id,
            agent_id=call.agent_id,
            utterances=list(self.utterances),
            source=self.session.source,
            stt=self.session.stt,
        )
