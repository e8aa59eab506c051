"""Users and agents: adding users, login by password or API token, an agent's team and name."""

from __future__ import annotations

from sqlalchemy import insert, select, update

from qa_engine.store.actors import SYSTEM, Actor, now
from qa_engine.store.base import StoreBase
from qa_engine.store.errors import Conflict, Invalid
from qa_engine.store.rows import AGENTS, USERS

ROLES = ("admin", "reviewer", "agent")


class UsersMixin(StoreBase):
    def add_user(
        self,
        name: str,
        role: str,
        *,
        password: str | None = None,
        agent_id: str | None = None,
        token: str | None = None,
        actor: Actor = SYSTEM,
    ) -> dict:
        from qa_engine.store.accounts import hash_password, hash_token

        if role not in ROLES:
            raise Invalid(f"role must be one of {', '.join(ROLES)}")
        if role == "agent" and not agent_id:
            raise Invalid("an agent user needs the agent id whose calls they see (--agent)")
        with self.engine.begin() as conn:
            if conn.execute(select(USERS.c.id).where(USERS.c.name == name)).scalar() is not None:
                raise Conflict(f"user {name!r} exists")
            if agent_id:
                self._ensure_agents(conn, {agent_id})
            user_id = conn.execute(
                insert(USERS).returning(USERS.c.id),
                [
                    {
                        "name": name,
                        "role": role,
                        "agent_id": agent_id,
                        "created_at": now(),
                        "password_hash": hash_password(password) if password else None,
                        "token_hash": hash_token(token) if token else None,
                    }
                ],
            ).scalar_one()
            self._audit(
                conn,
                actor,
                "user.added",
                "user",
                user_id,
                None,
                None,
                {"name": name, "role": role, "agent_id": agent_id},
            )
        return {"id": user_id, "name": name, "role": role}

    def user_by_token(self, token: str) -> Actor | None:
        from qa_engine.store.accounts import hash_token

        with self.engine.connect() as conn:
            row = (
                conn.execute(select(USERS).where(USERS.c.token_hash == hash_token(token))).mappings().first()
            )
        return Actor(row["name"], row["role"], row["agent_id"]) if row else None

    def login(self, name: str, password: str) -> Actor | None:
        from qa_engine.store.accounts import verify_password

        with self.engine.connect() as conn:
            row = conn.execute(select(USERS).where(USERS.c.name == name)).mappings().first()
        if row is None or not row["password_hash"] or not verify_password(password, row["password_hash"]):
            return None
        return Actor(row["name"], row["role"], row["agent_id"])

    def set_agent(
        self, agent_id: str, team: str | None = None, name: str | None = None, actor: Actor = SYSTEM
    ) -> None:
        with self.engine.begin() as conn:
            self._ensure_agents(conn, {agent_id})
            before = dict(conn.execute(select(AGENTS).where(AGENTS.c.id == agent_id)).mappings().one())
            values = {k: v for k, v in {"team": team, "name": name}.items() if v is not None}
            if values:
                conn.execute(update(AGENTS).where(AGENTS.c.id == agent_id).values(**values))
                self._audit(conn, actor, "agent.updated", "agent", None, None, before, before | values)
