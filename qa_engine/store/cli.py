"""`qa db …`: migrate, import JSON reports, manage users and agents (wired into `qa` by cli.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

db_app = typer.Typer(help="The results database: migrate, import reports, users and agents.", no_args_is_help=True)
console = Console()
errors = Console(stderr=True, soft_wrap=True)

DbOption = Annotated[str, typer.Option("--db", envvar="QA_DB", help="Database URL (sqlite:///path/qa.db, postgresql+psycopg://…) or a SQLite file path.")]


def open_store(url: str, migrate: bool = True):
    from sqlalchemy.exc import SQLAlchemyError

    from qa_engine.store import Store, StoreError

    try:
        return Store(url, migrate=migrate)
    except (SQLAlchemyError, StoreError) as error:
        errors.print(f"[red]cannot open the database {url}:[/red] {str(error).splitlines()[0]}", highlight=False)
        raise typer.Exit(1) from None


@db_app.command("upgrade")
def upgrade(db: DbOption, revision: Annotated[str, typer.Option(help="Target revision.")] = "head") -> None:
    """Create or migrate the database's tables (Alembic) up to the latest revision."""
    from qa_engine.store.db import connect, current_revision
    from qa_engine.store.db import upgrade as run_upgrade

    engine = connect(db)
    before = current_revision(engine)
    run_upgrade(engine, revision)
    console.print(f"database at revision {current_revision(engine)} (was {before or 'empty'})", highlight=False)
    engine.dispose()


@db_app.command("import")
def import_reports(
    folder: Annotated[Path, typer.Argument(help="Folder of JSON reports (qa score --out, qa serve --out).")],
    db: DbOption,
    transcripts: Annotated[Path | None, typer.Option(help="Transcripts folder, for the call pages of transcript calls.")] = None,
) -> None:
    """Load existing JSON/JSONL reports; a report already stored is skipped (safe to repeat)."""
    from qa_engine.store.ingest import import_folder

    store = open_store(db)
    result, problems = import_folder(store, folder, transcripts)
    console.print(
        f"calls new {result.new_calls}  runs new {result.new_runs}  unchanged {result.unchanged}  re-scored {len(result.rescored)}",
        highlight=False,
    )
    for problem in problems:
        errors.print(f"[red]skipped[/red] {problem.path}: {problem.error}", highlight=False)
    store.close()
    if problems:
        raise typer.Exit(2)


@db_app.command("user")
def add_user(
    name: Annotated[str, typer.Argument(help="Login name.")],
    db: DbOption,
    role: Annotated[str, typer.Option(help="admin, reviewer or agent.")] = "reviewer",
    agent: Annotated[str | None, typer.Option(help="For an agent: their agent id (they see only its calls).")] = None,
    password: Annotated[str | None, typer.Option(envvar="QA_PASSWORD", help="Password for the login page (hashed with scrypt).")] = None,
    token: Annotated[bool, typer.Option(help="Also make an API token (printed once, stored hashed).")] = False,
) -> None:
    """Add a local account."""
    from qa_engine.store import StoreError
    from qa_engine.store.accounts import new_token

    store = open_store(db)
    secret = new_token() if token else None
    try:
        store.add_user(name, role, password=password, agent_id=agent, token=secret)
    except StoreError as error:
        errors.print(f"[red]{error}[/red]", highlight=False)
        raise typer.Exit(1) from None
    console.print(f"user {name} ({role}) added", highlight=False)
    if secret:
        console.print(f"token: {secret}", highlight=False)
    store.close()


@db_app.command("agent")
def set_agent(
    agent_id: Annotated[str, typer.Argument()],
    db: DbOption,
    team: Annotated[str | None, typer.Option(help="Team (班组) for the team filters and trends.")] = None,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
) -> None:
    """Set an agent's team and name."""
    store = open_store(db)
    store.set_agent(agent_id, team=team, name=name)
    console.print(f"agent {agent_id}: team {team or '-'}", highlight=False)
    store.close()
