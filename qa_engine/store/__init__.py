"""The results database: calls, scoring runs, findings, reviews, appeals, audit log, trends.

The names below come from `qa_engine.store.repo`, imported on first use: `qa score`
without --db (which imports `qa_engine.store.cli` for its wiring) never loads SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qa_engine.store.repo import (
        SYSTEM,
        Actor,
        CallFilter,
        Conflict,
        Forbidden,
        Invalid,
        NotFound,
        Store,
        StoreError,
    )

__all__ = ["SYSTEM", "Actor", "CallFilter", "Conflict", "Forbidden", "Invalid", "NotFound", "Store", "StoreError"]


def __getattr__(name: str):
    if name in __all__:
        from qa_engine.store import repo

        return getattr(repo, name)
    raise AttributeError(f"module 'qa_engine.store' has no attribute {name!r}")
