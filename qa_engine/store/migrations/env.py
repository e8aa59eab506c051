"""Alembic environment: runs on the connection `qa_engine.store.migrate` hands it."""

from __future__ import annotations

from alembic import context

from qa_engine.store.schema import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
