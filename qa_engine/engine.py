"""The engine: a streaming session per call; batch scoring is a session over a finished call.

`Session.feed(utterance)` returns the findings that can be decided now (a live
supervisor sees them at once); `Session.close()` adds call-level findings and scores
the call. There is one code path, so batch and live reports are identical.
"""

from __future__ import annotations

from qa_engine import __version__
from qa_engine.emotion import EmotionAnalyzer, EmotionTrack
from qa_engine.kinds.base import CallState, Check
from qa_engine.metrics import compute_metrics
from qa_engine.models import CallReport, CallTranscript, Finding, NotChecked, Provenance, SttRecord, Utterance
from qa_engine.pii import Redactor
from qa_engine.pii.config import ENTITY_NAMES
from qa_engine.rulefile import RuleSet
from qa_engine.scoring import Tally
from qa_engine.text import analyze

ROLES_UNKNOWN = "单声道录音无法区分客服与客户,此规则需要说话人角色,未检查"


def finding_order(finding: Finding) -> tuple:
    """Call order, as reports list findings (live, they arrive in the order they were decided)."""
    return (
        finding.start is None,
        finding.start or 0.0,
        -1 if finding.utterance_index is None else finding.utterance_index,
        finding.rule_id,
    )


class SessionClosedError(RuntimeError):
    """An utterance arrived after the call was closed."""


class Session:
    """One call in progress."""

    def __init__(
        self,
        engine: Engine,
        call_id: str,
        agent_id: str | None = None,
        roles_known: bool = True,
        source: str | None = None,
        stt: SttRecord | dict | None = None,
        redacted: bool = False,
    ) -> None:
        self.engine = engine
        # Turn by turn, each utterance is redacted as it is fed (unless the whole call was).
        self.redactor = engine.redactor.live() if engine.redactor is not None and not redacted else None
        self._heard: Utterance | None = None
        self.call = CallState(call_id=call_id, agent_id=agent_id, roles_known=roles_known, emotion_track=EmotionTrack())
        if isinstance(stt, dict):
            stt = SttRecord.model_validate(stt)
        recorded = stt.duration if stt is not None else None
        self.call.recording_seconds = float(recorded) if isinstance(recorded, int | float) else None
        self.checks = [c for c in engine.rules.checks if roles_known or not c.requires_roles]
        self.not_checked = [
            NotChecked(rule_id=c.spec.id, reason=ROLES_UNKNOWN)
            for c in engine.rules.checks
            if not roles_known and c.requires_roles
        ]
        self.tally = Tally(engine.rules)
        self._listeners: dict[str, list[Check]] = {}  # per speaker: the checks whose feed can act (rule order)
        self.findings: list[Finding] = []
        self.source = source
        self.stt = stt
        self.closed = False

    def hear(self, utterance: Utterance) -> Utterance:
        """The utterance with personal data masked (what `feed` will store); raises RedactionError."""
        self._heard = self.redactor.feed(utterance) if self.redactor is not None else utterance
        return self._heard

    def feed(self, utterance: Utterance) -> list[Finding]:
        """Add the next utterance (redacted first, unless `hear` just gave it); return its findings."""
        if self.closed:
            raise SessionClosedError(f"call {self.call.call_id} is already closed")
        if self.redactor is not None and utterance is not self._heard:
            utterance = self.hear(utterance)
        self._heard = None
        call = self.call
        index = len(call.utterances)
        call.utterances.append(utterance)
        analysis = analyze(utterance.text)
        call.analyses.append(analysis)
        call.emotions.append(self.engine.emotion.read(call.emotion_track, index, utterance, analysis))
        new: list[Finding] = []
        listeners = self._listeners.get(utterance.speaker)
        if listeners is None:
            listeners = self._listeners[utterance.speaker] = [c for c in self.checks if c.listens_to(utterance.speaker)]
        for check in listeners:
            for finding in check.feed(call, index):
                self._record(finding)
                new.append(finding)
        call.max_end = max(call.max_end, utterance.end)
        return new

    def close(self) -> CallReport:
        """Decide the call-level rules and score the call."""
        if self.closed:
            raise SessionClosedError(f"call {self.call.call_id} is already closed")
        self.call.metrics = self.metrics()
        for check in self.checks:
            for finding in check.close(self.call):
                self._record(finding)
        self.closed = True
        return self.report()

    @property
    def emotions(self):
        """Each utterance's emotion so far (`UtteranceEmotion`), in utterance order."""
        return self.call.emotions

    def metrics(self):
        """The conversation metrics of the call so far (`CallMetrics`)."""
        call = self.call
        return compute_metrics(call.utterances, call.analyses, call.emotions, self.engine.rules.model.metrics)

    def report(self) -> CallReport:
        """The report so far (after `close`, the final one)."""
        rules = self.engine.rules
        ordered = sorted(self.findings, key=finding_order)
        return CallReport(
            call_id=self.call.call_id,
            agent_id=self.call.agent_id,
            score=self.tally.score,
            passed=self.tally.passed,
            fatal=self.tally.fatal,
            base_score=rules.model.scorecard.base_score,
            pass_mark=rules.model.scorecard.pass_mark,
            duration=round(self._duration(), 3),
            utterance_count=len(self.call.utterances),
            category_deductions=self.tally.category_deductions(),
            findings=ordered,
            not_checked=self.not_checked,
            metrics=self.call.metrics if self.closed else self.metrics(),
            emotions=[e for e in self.call.emotions if e.level != "calm" or e.label != "neutral"],
            provenance=self.engine.provenance(self.source, self.stt),
        )

    def _duration(self) -> float:
        """The call's length: to its last word, or the whole recording when nobody spoke in it."""
        if not self.call.utterances and self.call.recording_seconds:
            return self.call.recording_seconds
        return self.call.max_end

    def _record(self, finding: Finding) -> None:
        self.tally.charge(finding)
        self.findings.append(finding)
        if finding.utterance_index is not None:
            self.call.hits.setdefault(finding.utterance_index, set()).add(finding.rule_id)


class Engine:
    """A compiled rule set, shared by any number of sessions."""

    def __init__(self, rules: RuleSet, keep_pii: bool = False) -> None:
        self.rules = rules
        self.keep_pii = keep_pii
        self.emotion = EmotionAnalyzer(getattr(rules.model, "emotion", None))
        config = rules.model.redact
        self.redactor = Redactor(config) if config.enabled and not keep_pii else None

    def redact(self, transcript: CallTranscript) -> CallTranscript:
        """The transcript with personal data masked (raises RedactionError; never returns it raw)."""
        if self.redactor is None or (transcript.pii and transcript.pii.config == self.redactor.fingerprint):
            return transcript
        return self.redactor.redact_transcript(transcript)

    def session(
        self,
        call_id: str,
        agent_id: str | None = None,
        roles_known: bool = True,
        source: str | None = None,
        stt: SttRecord | dict | None = None,
        redacted: bool = False,
    ) -> Session:
        return Session(self, call_id, agent_id, roles_known, source, stt, redacted)

    def score(self, transcript: CallTranscript) -> CallReport:
        """Score a finished call: feed every utterance in time order, then close."""
        transcript = self.redact(transcript)
        roles_known = all(u.speaker != "unknown" for u in transcript.utterances)
        session = self.session(
            transcript.call_id, transcript.agent_id, roles_known, transcript.source, transcript.stt, redacted=True
        )
        for utterance in sorted(transcript.utterances, key=lambda u: (u.start, u.end)):
            session.feed(utterance)
        return session.close()

    def provenance(self, source: str | None = None, stt: SttRecord | dict | None = None) -> Provenance:
        return Provenance(
            engine_version=__version__,
            rules_path=self.rules.path,
            rules_sha256=self.rules.sha256,
            rules_name=self.rules.name,
            source=source,
            stt=stt,
            redaction=self.redaction_record(),
        )

    def redaction_record(self) -> dict:
        config = self.rules.model.redact
        if self.redactor is None:
            why = "--keep-pii: the operator kept personal data" if self.keep_pii else "redact.enabled is false in the rule file"
            return {"redacted": False, "reason": why}
        entities = [e for e in ENTITY_NAMES if config.entity_on(e)] + [p.id for p in config.patterns]
        return {"redacted": True, "mask": config.mask, "entities": entities, "config": self.redactor.fingerprint}
