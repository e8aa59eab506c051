"""Runs keep the report's call metrics and per-utterance emotions (reports carry them since the emotion work).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("metrics", sa.JSON))
    op.add_column("runs", sa.Column("emotions", sa.JSON))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("emotions")
        batch.drop_column("metrics")
