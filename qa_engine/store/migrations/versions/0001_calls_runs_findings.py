"""Calls, agents, scoring runs and findings (with the reviewer's decision on each finding).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("name", sa.String(200)),
        sa.Column("team", sa.String(200)),
    )
    op.create_index("ix_agents_team", "agents", ["team"])
    op.create_table(
        "calls",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("call_id", sa.String(400), nullable=False, unique=True),
        sa.Column("agent_id", sa.String(200), sa.ForeignKey("agents.id")),
        sa.Column("called_at", sa.DateTime, nullable=False),
        sa.Column("duration", sa.Float, nullable=False),
        sa.Column("utterance_count", sa.Integer, nullable=False),
        sa.Column("finding_count", sa.Integer, nullable=False),
        sa.Column("transcript", sa.JSON),
        sa.Column("audio", sa.Text),
        sa.Column("current_run_id", sa.Integer),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("base_score", sa.Float, nullable=False),
        sa.Column("pass_mark", sa.Float, nullable=False),
        sa.Column("machine_score", sa.Float),
        sa.Column("machine_passed", sa.Boolean),
        sa.Column("score", sa.Float),
        sa.Column("passed", sa.Boolean),
        sa.Column("fatal", sa.Boolean, nullable=False),
        sa.Column("review_state", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_calls_agent_called", "calls", ["agent_id", "called_at"])
    op.create_index("ix_calls_called", "calls", ["called_at", "id"])
    op.create_index("ix_calls_score", "calls", ["score"])
    op.create_index("ix_calls_review_state", "calls", ["review_state"])
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("call_pk", sa.Integer, sa.ForeignKey("calls.id", ondelete="CASCADE"), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("score", sa.Float),
        sa.Column("passed", sa.Boolean),
        sa.Column("fatal", sa.Boolean, nullable=False),
        sa.Column("base_score", sa.Float, nullable=False),
        sa.Column("pass_mark", sa.Float, nullable=False),
        sa.Column("category_deductions", sa.JSON, nullable=False),
        sa.Column("not_checked", sa.JSON, nullable=False),
        sa.Column("engine_version", sa.String(64)),
        sa.Column("rules_name", sa.String(400)),
        sa.Column("rules_path", sa.Text),
        sa.Column("rules_sha256", sa.String(64)),
        sa.Column("source", sa.Text),
        sa.Column("stt", sa.JSON),
        sa.Column("redaction", sa.JSON),
        sa.UniqueConstraint("call_pk", "fingerprint", name="uq_runs_call_fingerprint"),
    )
    op.create_index("ix_runs_call_pk", "runs", ["call_pk"])
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE")),
        sa.Column("call_pk", sa.Integer, sa.ForeignKey("calls.id", ondelete="CASCADE"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("rule_id", sa.String(200), nullable=False),
        sa.Column("category", sa.String(200), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("deduction", sa.Float, nullable=False),
        sa.Column("fatal", sa.Boolean, nullable=False),
        sa.Column("speaker", sa.String(16)),
        sa.Column("utterance_index", sa.Integer),
        sa.Column("start", sa.Float),
        sa.Column("end", sa.Float),
        sa.Column("evidence_text", sa.Text),
        sa.Column("evidence_start", sa.Integer),
        sa.Column("evidence_end", sa.Integer),
        sa.Column("match_mode", sa.String(32), nullable=False),
        sa.Column("match_score", sa.Float),
        sa.Column("match_pattern", sa.Text),
        sa.Column("match_detail", sa.Text, nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("reviewed_deduction", sa.Float),
        sa.Column("review_reason", sa.Text),
        sa.Column("reviewed_by", sa.String(200)),
        sa.Column("reviewed_at", sa.DateTime),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_findings_run", "findings", ["run_id"])
    op.create_index("ix_findings_call", "findings", ["call_pk"])
    op.create_index("ix_findings_rule_call", "findings", ["rule_id", "call_pk"])
    op.create_index("ix_findings_category_call", "findings", ["category", "call_pk"])


def downgrade() -> None:
    op.drop_table("findings")
    op.drop_table("runs")
    op.drop_table("calls")
    op.drop_table("agents")
