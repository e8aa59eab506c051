"""What the `qa` commands share, declared once: the consoles, rule loading with located
errors, and the command-line options several commands take.

The speech-to-text options (`--model`, `--device`, `--compute-type`, `--threads`,
`--beam-size` and, for recordings, `--channels`) are added to a command by
`with_stt_options`; the command receives them as one `stt` dict of the `STTOptions`
fields the user gave (nothing given: an empty dict, so `STTOptions`' own defaults, or a
config file's, apply). A new speech-to-text option is one entry in `STT_FLAGS`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from qa_engine.report.console import print_problems
from qa_engine.rulefile import RuleFileError, RuleSet, load_rules

if TYPE_CHECKING:
    from qa_engine.engine import Engine

console = Console()
errors = Console(stderr=True, soft_wrap=True)


class OutputFormat(StrEnum):
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


def fail(message: str, code: int = 1) -> typer.Exit:
    errors.print(message, highlight=False)
    return typer.Exit(code)


def load_rules_or_exit(path: Path | None) -> RuleSet:
    try:
        return load_rules(path)
    except RuleFileError as error:
        print_problems(errors, error.problems)
        raise fail(f"[red]{len(error.problems)} problem(s) in the rule file; nothing was scored.[/red]") from None


def stt_options_or_exit(given: dict[str, Any], ruleset: RuleSet | None = None):
    """`STTOptions` from the flags given; `--hotwords rules` becomes the rule file's own phrases."""
    from qa_engine.stt import STTOptions
    from qa_engine.stt.vocabulary import rule_hotwords

    given = dict(given)
    if given.get("hotwords") in ("none", ""):
        given.pop("hotwords")
    elif given.get("hotwords") == "rules":
        given["hotwords"] = rule_hotwords(ruleset) if ruleset is not None else None
    try:
        return STTOptions(**given)
    except ValueError as error:
        raise fail(f"[red]invalid speech-to-text options:[/red] {error}") from None


def corpus_or_exit(paths: list[Path], labels: Path | None = None, unjudged: Path | None = None):
    from qa_engine.workbench.calibrate import LabelFileError, read_labels, read_unjudged
    from qa_engine.workbench.corpus import CorpusError, load_corpus

    try:
        skip = read_unjudged(unjudged) if unjudged is not None else set()
        return load_corpus(paths), read_labels(labels) if labels else None, skip
    except (CorpusError, LabelFileError) as error:
        raise fail(f"[red]{error}[/red]") from None


RulesOption = Annotated[
    Path | None, typer.Option("--rules", "-r", help="Rule file (default: the bundled standard rule set).")
]
RayOption = Annotated[
    str | None, typer.Option(help="Run on a Ray cluster: 'auto' (the local `ray start` cluster or $RAY_ADDRESS), "
    "'local', or HOST:PORT. Inputs, rules and cache on a path every node sees.")
]
CacheDirOption = Annotated[
    Path | None, typer.Option(help="Transcript cache (default ~/.cache/qa-engine/transcripts).")
]

STT_FLAGS: dict[str, tuple[str, Any]] = {
    # parameter: (STTOptions field, its command-line declaration)
    "model": ("model", Annotated[str | None, typer.Option(
        help="Whisper model: 'default' (bundled, offline), a size name, or a CTranslate2 folder.")]),
    "device": ("device", Annotated[str | None, typer.Option(help="auto (default), cpu or cuda.")]),
    "compute_type": ("compute_type", Annotated[str | None, typer.Option(
        help="auto (default: int8 on CPU, float16 on GPU) or a CTranslate2 type.")]),
    "channels": ("channel_roles", Annotated[str | None, typer.Option(
        help="Roles of the left,right channels of stereo audio (default agent,customer).")]),
    "threads": ("cpu_threads", Annotated[int | None, typer.Option(
        min=0, help="CPU threads per process for speech-to-text (default 0: all).")]),
    "beam_size": ("beam_size", Annotated[int | None, typer.Option(min=1, help="Whisper beam size (default 5).")]),
    "hotwords": ("hotwords", Annotated[str | None, typer.Option(
        help="Decoder hotwords: 'none' (default), 'rules' (the rule file's greeting, closing and company "
        "phrases; measured worse on the sample calls, see README), or your own text.")]),
    "batch_size": ("batch_size", Annotated[int | None, typer.Option(
        min=0, max=64, help="Decode N speech windows at once (faster-whisper's batched pipeline; for GPUs). 0: one at a time.")]),
}


def with_stt_options(*, channels: bool = True) -> Callable[[Callable], Callable]:
    """Add the speech-to-text options to a command that takes `stt: dict` (given options only)."""

    def wrap(command: Callable) -> Callable:
        names = [name for name in STT_FLAGS if channels or name != "channels"]

        @functools.wraps(command)
        def run(**kwargs):
            given: dict[str, Any] = {}
            for name in names:
                value = kwargs.pop(name)
                if value is not None:
                    given[STT_FLAGS[name][0]] = (
                        tuple(part.strip() for part in value.split(",")) if name == "channels" else value
                    )
            return command(stt=given, **kwargs)

        signature = inspect.signature(command, eval_str=True)
        params = [p for p in signature.parameters.values() if p.name != "stt"]
        params += [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=STT_FLAGS[name][1])
            for name in names
        ]
        run.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
        return run

    return wrap


def html_writer_or_exit(folder: Path, ruleset: RuleSet, sink, sources, engine: Engine):
    """The HTML report writer for `qa score --html`, resumed with the pages already written."""
    from qa_engine.report.html import HtmlReportWriter

    if folder.resolve() == sink.out_dir.resolve():
        raise fail("[red]--html must be a folder other than --out[/red] (both would write calls.csv)")
    audio_redaction = ruleset.model.redact.audio if engine.redactor is not None else None
    return HtmlReportWriter.resumed(folder, ruleset, sink, sources, engine.redact, audio_redaction)
