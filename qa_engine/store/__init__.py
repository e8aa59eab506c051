"""The results database: calls, scoring runs, findings, reviews, appeals, audit log, trends."""

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
