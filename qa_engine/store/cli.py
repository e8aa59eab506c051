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


class _Writer:
    """`qa score --db`: a StoreWriter and the line it prints at the end."""

    def __init__(self, url: str) -> None:
        from qa_engine.store.ingest import StoreWriter

        self.writer = StoreWriter(open_store(url))

    def add(self, report, transcript) -> None:
        self.writer.add(report, transcript)

    def report(self, out: Console) -> None:
        written = self.writer.close()
        out.print(f"database: {written.new_runs} runs stored ({written.new_calls} new calls, {written.unchanged} unchanged)", highlight=False)
        self.writer.store.close()


def store_writer(url: str) -> _Writer:
    return _Writer(url)


def review_labels_or_exit(url: str, unjudged: Path | None = None):
    """(reviewed calls, labels, unjudged pairs) from the database and `--unjudged`."""
    from qa_engine.store.rulefeedback import review_labels
    from qa_engine.workbench.calibrate import LabelFileError, read_unjudged

    try:
        skip = read_unjudged(unjudged) if unjudged is not None else set()
    except LabelFileError as error:
        errors.print(f"[red]{error}[/red]", highlight=False)
        raise typer.Exit(1) from None
    store = open_store(url)
    try:
        calls, labels = review_labels(store)
    finally:
        store.close()
    return calls, labels, skip


def rules_suggest(
    db: DbOption,
    rules: Annotated[Path | None, typer.Option("--rules", "-r", help="Rule file (default: the bundled standard rule set).")] = None,
    min_repeats: Annotated[int, typer.Option(help="A false-alarm phrase must repeat this often to be suggested.")] = 2,
) -> None:
    """Rules ranked by reviewed false-alarm rate, with candidate allow/unless entries and missed phrases."""
    from qa_engine.cli_options import load_rules_or_exit
    from qa_engine.store.rulefeedback import suggest

    store = open_store(db)
    for advice in suggest(store, load_rules_or_exit(rules), min_repeats):
        rate = "-" if advice.false_alarm_rate is None else f"{advice.false_alarm_rate:.0%}"
        note = {"deleted": "  (not in the rule file any more: deleted)", "unknown": ""}.get(advice.status, "")
        console.print(f"[bold]{advice.rule_id}[/bold]  误报率 {rate}  ({advice.rejected}/{advice.reviewed} 复核驳回, 补充漏检 {advice.added}){note}", highlight=False)
        for words, count, where in advice.false_alarm_phrases:
            target = f"candidate {advice.field_name} entry" if advice.field_name else "candidate exception (this kind has no allow/unless: narrow its phrases)"
            console.print(f"  {target}: 「{words}」 ×{count}  ← " + "; ".join(where), markup=False, highlight=False, soft_wrap=True)
        for words, count, where in advice.missed_phrases:
            console.print(f"  missed, candidate phrase: 「{words}」 ×{count}  ← " + "; ".join(where), markup=False, highlight=False, soft_wrap=True)
    store.close()
