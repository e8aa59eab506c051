"""Reading and writing the results database: reports in, review and appeal decisions, lists.

Writes go through SQLAlchemy Core in batches (a thousand calls a second into SQLite or
PostgreSQL); every decision is one transaction that updates the finding only if its
`version` is the one the reviewer saw (a concurrent decision is a `Conflict`, never
silently overwritten), records the review, re-computes the call's score and writes the
audit log.

`Store` is the one public class; its parts live beside it: `writes` (reports in),
`rescore` (a call's reviewed score), `reviews` (decisions, appeals), `queries` (lists,
details), `users` (users, agents), on `base` (engine, audit, access) and `rows` (tables,
row conversion). The names they define are importable from here as before.
"""

from __future__ import annotations

from qa_engine.store.actors import SYSTEM, Actor, now
from qa_engine.store.db import connect, has_tables, upgrade
from qa_engine.store.errors import Conflict, Forbidden, Invalid, NotFound, StoreError
from qa_engine.store.queries import CallFilter, CallPage, QueriesMixin
from qa_engine.store.reviews import DECISIONS, ReviewsMixin
from qa_engine.store.rows import (
    AGENTS,
    APPEALS,
    AUDIT,
    CALLS,
    CHUNK,
    FINDINGS,
    REVIEWS,
    RUNS,
    USERS,
    _chunks,
    _decision,
    _finding_row,
    _json_safe,
    _utterances,
    finding_key,
    fingerprint,
    row_to_finding,
)
from qa_engine.store.users import ROLES, UsersMixin
from qa_engine.store.writes import WriteResult, WritesMixin

__all__ = [
    "AGENTS",
    "APPEALS",
    "AUDIT",
    "CALLS",
    "CHUNK",
    "DECISIONS",
    "FINDINGS",
    "REVIEWS",
    "ROLES",
    "RUNS",
    "SYSTEM",
    "USERS",
    "Actor",
    "CallFilter",
    "CallPage",
    "Conflict",
    "Forbidden",
    "Invalid",
    "NotFound",
    "Store",
    "StoreError",
    "WriteResult",
    "_chunks",
    "_decision",
    "_finding_row",
    "_json_safe",
    "_utterances",
    "finding_key",
    "fingerprint",
    "now",
    "row_to_finding",
]


class Store(WritesMixin, ReviewsMixin, QueriesMixin, UsersMixin):
    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        self.engine = connect(url)
        if migrate:
            upgrade(self.engine)
        elif not has_tables(self.engine):
            raise StoreError(f"{url}: no qa tables; run `qa db upgrade --db {url}`")
        self.dialect = self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()
