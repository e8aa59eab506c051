"""The results database: tables as SQLAlchemy 2 models (Alembic migrations create them).

One row per call (`calls`) holds what the call list shows and filters on: the latest
run's machine score, the reviewed score, the review state. Every scoring of a call is a
`runs` row with what makes it reproducible (rule-file hash, engine version, STT record);
its findings are `findings` rows. A reviewer's decision sits on the finding (the current
state, with a `version` for optimistic concurrency) and in `reviews` (the history); an
agent's appeal is an `appeals` row; every change is an `audit` row with before and after.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    team: Mapped[str | None] = mapped_column(String(200), index=True)


class Call(Base):
    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(String(400), unique=True)
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("agents.id"))
    called_at: Mapped[datetime] = mapped_column(DateTime)
    duration: Mapped[float] = mapped_column(Float, default=0.0)
    utterance_count: Mapped[int] = mapped_column(Integer, default=0)
    finding_count: Mapped[int] = mapped_column(Integer, default=0)
    transcript: Mapped[dict | None] = mapped_column(JSON)
    audio: Mapped[str | None] = mapped_column(Text)
    current_run_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="scored")
    base_score: Mapped[float] = mapped_column(Float, default=100.0)
    pass_mark: Mapped[float] = mapped_column(Float, default=80.0)
    machine_score: Mapped[float | None] = mapped_column(Float)
    machine_passed: Mapped[bool | None] = mapped_column(Boolean)
    score: Mapped[float | None] = mapped_column(Float)
    """The current score: the machine's, after the review decisions."""
    passed: Mapped[bool | None] = mapped_column(Boolean)
    fatal: Mapped[bool] = mapped_column(Boolean, default=False)
    review_state: Mapped[str] = mapped_column(String(16), default="unreviewed")
    """unreviewed | reviewed (every finding decided) | partial | appealed (an appeal open)."""
    version: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (
        Index("ix_calls_agent_called", "agent_id", "called_at"),
        Index("ix_calls_called", "called_at", "id"),
        Index("ix_calls_score", "score"),
        Index("ix_calls_review_state", "review_state"),
    )


class Run(Base):
    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_pk: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    score: Mapped[float | None] = mapped_column(Float)
    passed: Mapped[bool | None] = mapped_column(Boolean)
    fatal: Mapped[bool] = mapped_column(Boolean, default=False)
    base_score: Mapped[float] = mapped_column(Float, default=100.0)
    pass_mark: Mapped[float] = mapped_column(Float, default=80.0)
    category_deductions: Mapped[dict] = mapped_column(JSON)
    not_checked: Mapped[list] = mapped_column(JSON)
    engine_version: Mapped[str | None] = mapped_column(String(64))
    rules_name: Mapped[str | None] = mapped_column(String(400))
    rules_path: Mapped[str | None] = mapped_column(Text)
    rules_sha256: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(Text)
    stt: Mapped[dict | None] = mapped_column(JSON)
    redaction: Mapped[dict | None] = mapped_column(JSON)
    metrics: Mapped[dict | None] = mapped_column(JSON)
    emotions: Mapped[list | None] = mapped_column(JSON)

    __table_args__ = (UniqueConstraint("call_pk", "fingerprint", name="uq_runs_call_fingerprint"),)


class FindingRow(Base):
    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    call_pk: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    origin: Mapped[str] = mapped_column(String(16), default="machine")
    """machine (a run found it) | reviewer (a missed finding a reviewer added)."""
    rule_id: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    deduction: Mapped[float] = mapped_column(Float, default=0.0)
    fatal: Mapped[bool] = mapped_column(Boolean, default=False)
    speaker: Mapped[str | None] = mapped_column(String(16))
    utterance_index: Mapped[int | None] = mapped_column(Integer)
    start: Mapped[float | None] = mapped_column(Float)
    end: Mapped[float | None] = mapped_column(Float)
    evidence_text: Mapped[str | None] = mapped_column(Text)
    evidence_start: Mapped[int | None] = mapped_column(Integer)
    evidence_end: Mapped[int | None] = mapped_column(Integer)
    match_mode: Mapped[str] = mapped_column(String(32))
    match_score: Mapped[float | None] = mapped_column(Float)
    match_pattern: Mapped[str | None] = mapped_column(Text)
    match_detail: Mapped[str] = mapped_column(Text, default="")
    decision: Mapped[str] = mapped_column(String(16), default="pending")
    """pending | confirmed | rejected (a false alarm) | adjusted (points changed)."""
    reviewed_deduction: Mapped[float | None] = mapped_column(Float)
    review_reason: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (
        Index("ix_findings_run", "run_id"),
        Index("ix_findings_call", "call_pk"),
        Index("ix_findings_rule_call", "rule_id", "call_pk"),
        Index("ix_findings_category_call", "category", "call_pk"),
    )


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    """admin | reviewer | agent."""
    agent_id: Mapped[str | None] = mapped_column(String(200))
    """For an agent: whose calls they may read and appeal."""
    password_hash: Mapped[str | None] = mapped_column(String(300))
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Review(Base):
    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id", ondelete="CASCADE"), index=True)
    reviewer: Mapped[str] = mapped_column(String(200))
    decision: Mapped[str] = mapped_column(String(16))
    deduction: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Appeal(Base):
    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id", ondelete="CASCADE"), index=True)
    call_pk: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    appellant: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="open")
    """open | upheld (the finding stands) | overturned (the finding is withdrawn) | closed (re-scored away)."""
    ruled_by: Mapped[str | None] = mapped_column(String(200))
    ruling: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    ruled_at: Mapped[datetime | None] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)


class AuditEntry(Base):
    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[int | None] = mapped_column(Integer)
    call_pk: Mapped[int | None] = mapped_column(Integer, index=True)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
