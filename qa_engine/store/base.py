"""What every part of the store shares: its engine, the audit log, access to a call, agents."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection, Engine

from qa_engine.store.actors import Actor, now
from qa_engine.store.errors import NotFound
from qa_engine.store.rows import AGENTS, AUDIT, CALLS, _chunks, _json_safe


class StoreBase:
    """The state the `Store` mixins work on; `Store.__init__` sets it."""

    url: str
    engine: Engine
    dialect: str

    def _ensure_agents(self, conn: Connection, agent_ids: set[str]) -> None:
        if not agent_ids:
            return
        have: set[str] = set()
        ids = sorted(agent_ids)
        for chunk in _chunks(ids):
            have.update(r.id for r in conn.execute(select(AGENTS.c.id).where(AGENTS.c.id.in_(chunk))))
        missing = [{"id": a, "name": None, "team": None} for a in ids if a not in have]
        if missing:
            conn.execute(insert(AGENTS), missing)

    def _audit(
        self,
        conn: Connection,
        actor: Actor,
        action: str,
        object_type: str,
        object_id: int | None,
        call_pk: int | None,
        before: dict | None,
        after: dict | None,
    ) -> None:
        conn.execute(
            insert(AUDIT).values(
                at=now(),
                actor=actor.name,
                action=action,
                object_type=object_type,
                object_id=object_id,
                call_pk=call_pk,
                before=_json_safe(before),
                after=_json_safe(after),
            )
        )

    def _call_row(self, conn: Connection, call_pk: int, actor: Actor) -> dict:
        row = conn.execute(select(CALLS).where(CALLS.c.id == call_pk)).mappings().first()
        if row is None or (actor.role == "agent" and row["agent_id"] != actor.agent_id):
            raise NotFound(f"no call {call_pk}")  # an agent cannot even learn another agent's call exists
        return dict(row)
