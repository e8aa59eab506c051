"""The `qa` command line. Rendering of errors happens here only; the library raises."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from . import __version__
from .engine import Engine
from .rulefile import RuleFileError, RuleSet, load_rules

app = typer.Typer(
    help="Call QA engine for Mandarin customer service (智能质检): score calls against a rule set.",
    no_args_is_help=True,
    add_completion=False,
)
rules_app = typer.Typer(help="Check, test, explain and document rule files.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")

console = Console()
errors = Console(stderr=True)


class OutputFormat(StrEnum):
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


RulesOption = Annotated[
    Path | None, typer.Option("--rules", "-r", help="Rule file (default: the bundled standard rule set).")
]


def _load_rules_or_exit(path: Path | None) -> RuleSet:
    from .report.console import print_problems

    try:
        return load_rules(path)
    except RuleFileError as error:
        print_problems(errors, error.problems)
        errors.print(f"[red]{len(error.problems)} problem(s) in the rule file; nothing was scored.[/red]")
        raise typer.Exit(1) from None


def _stt_options(model: str, device: str, compute_type: str, channels: str, threads: int):
    from .stt import STTOptions

    roles = tuple(part.strip() for part in channels.split(","))
    try:
        return STTOptions(
            model=model, device=device, compute_type=compute_type, channel_roles=roles, cpu_threads=threads
        )
    except ValueError as error:
        errors.print(f"[red]invalid speech-to-text options:[/red] {error}")
        raise typer.Exit(1) from None


@app.command()
def score(
    paths: Annotated[list[Path], typer.Argument(help="Transcript .json/.jsonl files, audio files, or folders.")],
    rules: RulesOption = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for reports.")] = Path("qa-out"),
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="One JSON per call, one JSONL, or a CSV table.")] = OutputFormat.json,
    resume: Annotated[bool, typer.Option(help="Skip calls already scored in --out.")] = False,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    model: Annotated[str, typer.Option(help="Whisper model: 'default' (bundled, offline), a size name, or a CTranslate2 folder.")] = "default",
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    compute_type: Annotated[str, typer.Option(help="auto (int8 on CPU, float16 on GPU) or a CTranslate2 type.")] = "auto",
    channels: Annotated[str, typer.Option(help="Roles of the left,right channels of stereo audio.")] = "agent,customer",
    threads: Annotated[int, typer.Option(help="CPU threads per worker for speech-to-text (0: all).")] = 0,
    cache_dir: Annotated[Path | None, typer.Option(help="Transcript cache (default ~/.cache/qa-engine/transcripts).")] = None,
    details: Annotated[bool, typer.Option(help="Print every finding with its explanation.")] = True,
) -> None:
    """Score calls and write one report per call; failed calls are recorded, the rest go on."""
    from .batch import run_batch
    from .inputs import iter_calls
    from .report.console import finding_lines, summary_table
    from .report.writer import ReportSink

    ruleset = _load_rules_or_exit(rules)
    engine = Engine(ruleset)
    sources = list(iter_calls(paths))
    if not sources:
        errors.print("[red]no calls found[/red] under " + ", ".join(map(str, paths)) + " (expected .json, .jsonl or audio files)")
        raise typer.Exit(1)
    has_audio = any(s.audio is not None for s in sources)
    stt_options = _stt_options(model, device, compute_type, channels, threads) if has_audio else None
    sink = ReportSink(out, fmt.value, resume)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
        disable=not errors.is_terminal,
    ) as progress:
        task = progress.add_task("scoring", total=sum(s.key not in sink.done for s in sources))
        summary = run_batch(
            sources,
            engine,
            sink,
            rules_path=str(rules) if rules else None,
            stt_options=stt_options,
            cache_dir=cache_dir,
            workers=workers,
            on_done=lambda outcome: progress.advance(task),
        )
    reports = sorted(summary.reports, key=lambda r: r.call_id)
    console.print(summary_table(reports, ruleset))
    if details and len(reports) <= 30:
        for report in reports:
            if report.findings:
                console.print(f"[bold]{report.call_id}[/bold]", highlight=False)
                for line in finding_lines(report, ruleset):
                    console.print("  " + line, markup=False, highlight=False, soft_wrap=True)
    rate = f"{summary.pass_rate:.0%}" if summary.pass_rate is not None else "-"
    line = (
        f"calls {summary.calls}  scored {summary.scored}  failed {summary.failed}  "
        f"skipped (resume) {summary.skipped}  pass rate {rate}  wall {summary.wall_seconds:.1f}s"
    )
    if summary.audio_seconds:
        line += f"  audio {summary.audio_seconds / 3600:.3f}h  RTF {summary.real_time_factor:.2f}"
    console.print(line + f"  → {out}", highlight=False)
    for report in reports:
        if report.status == "failed":
            errors.print(f"[red]failed[/red] {report.call_id}: {report.error}", highlight=False)
    if summary.failed:
        raise typer.Exit(2)


@rules_app.command("test")
def rules_test(file: Annotated[Path, typer.Argument(help="Rule file.")]) -> None:
    """Run every rule's examples; exit 1 if any example does not behave as declared."""
    from .examples import run_examples

    ruleset = _load_rules_or_exit(file)
    results = run_examples(ruleset)
    failures = [r for r in results if not r.ok]
    for result in failures:
        shown = result.example if isinstance(result.example, str) else " / ".join(result.example)
        wanted = "should fire but did not" if result.expected == "hit" else "should not fire but did"
        console.print(f"[red]FAIL[/red] {result.rule_id}: {wanted}: {shown}", highlight=False)
        for finding in result.findings:
            console.print(f"     matched: {finding.match.detail}", highlight=False, markup=False)
    console.print(f"{len(results) - len(failures)} passed, {len(failures)} failed", highlight=False)
    if failures:
        raise typer.Exit(1)


@rules_app.command("schema")
def rules_schema() -> None:
    """Print the JSON Schema of rule files (for editor completion and validation)."""
    from .rulefile import RuleFileModel

    sys.stdout.write(json.dumps(RuleFileModel.model_json_schema(), ensure_ascii=False, indent=2) + "\n")


@app.command()
def version() -> None:
    """Print the engine version."""
    console.print(f"qa-engine {__version__}")


if __name__ == "__main__":
    app()
