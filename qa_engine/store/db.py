"""Opening a results database and migrating it (Alembic, with its environment in this package).

SQLite is the embedded default (`qa.db` beside the reports); PostgreSQL is a URL away
(`postgresql+psycopg://user:pass@host/db`).
"""

from __future__ import annotations

from pathlib import Path

import pydantic_core
from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
HEAD = "head"


def default_url(folder: Path) -> str:
    """The embedded database beside the reports in `folder`."""
    return f"sqlite:///{Path(folder).resolve() / 'qa.db'}"


def normalise_url(url: str) -> str:
    """Accept a bare path for SQLite and `postgresql://` for psycopg 3."""
    if "://" not in url:
        return f"sqlite:///{Path(url).resolve()}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _json(value) -> str:
    """JSON columns serialised by pydantic-core (Rust): transcripts are most of a call's bytes."""
    return pydantic_core.to_json(value).decode("utf-8")


def connect(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, json_serializer=_json)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, json_serializer=_json)


def _alembic_config(connection):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = HEAD) -> None:
    """Migrate the database up to `revision` (from empty, or from any earlier revision)."""
    from alembic import command

    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    with engine_free_config() as config:
        return ScriptDirectory.from_config(config).get_current_head()


class engine_free_config:
    def __enter__(self):
        return _alembic_config(None)

    def __exit__(self, *exc) -> None:
        return None


def has_tables(engine: Engine) -> bool:
    return inspect(engine).has_table("calls")
