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

from qa_engine import __version__
from qa_engine.engine import Engine
from qa_engine.rulefile import RuleFileError, RuleSet, load_rules

app = typer.Typer(
    help="Call QA engine for Mandarin customer service (智能质检): score calls against a rule set.",
    no_args_is_help=True,
    add_completion=False,
)
rules_app = typer.Typer(help="Check, test, explain and document rule files.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")

console = Console()
errors = Console(stderr=True, soft_wrap=True)


class OutputFormat(StrEnum):
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


RulesOption = Annotated[
    Path | None, typer.Option("--rules", "-r", help="Rule file (default: the bundled standard rule set).")
]
# Speech-to-text options shared by `score` and `transcribe`.
ModelOption = Annotated[
    str, typer.Option(help="Whisper model: 'default' (bundled, offline), a size name, or a CTranslate2 folder.")
]
DeviceOption = Annotated[str, typer.Option(help="auto, cpu or cuda.")]
ComputeTypeOption = Annotated[str, typer.Option(help="auto (int8 on CPU, float16 on GPU) or a CTranslate2 type.")]
ChannelsOption = Annotated[str, typer.Option(help="Roles of the left,right channels of stereo audio.")]
ThreadsOption = Annotated[int, typer.Option(help="CPU threads per process for speech-to-text (0: all).")]
CacheDirOption = Annotated[
    Path | None, typer.Option(help="Transcript cache (default ~/.cache/qa-engine/transcripts).")
]
HotwordsOption = Annotated[
    str, typer.Option(help="Decoder hotwords: 'none', 'rules' (the rule file's greeting, closing and company phrases; measured worse on the sample calls, see README), or your own text.")
]
BatchSizeOption = Annotated[int, typer.Option(min=0, max=64, help="Decode N speech windows at once (faster-whisper's batched pipeline; for GPUs). 0: one at a time.")]
RayOption = Annotated[
    str | None, typer.Option(help="Run on a Ray cluster: 'auto' (the local `ray start` cluster or $RAY_ADDRESS), 'local', or HOST:PORT. Inputs, rules and cache on a path every node sees.")
]


def _load_rules_or_exit(path: Path | None) -> RuleSet:
    from qa_engine.report.console import print_problems

    try:
        return load_rules(path)
    except RuleFileError as error:
        print_problems(errors, error.problems)
        errors.print(f"[red]{len(error.problems)} problem(s) in the rule file; nothing was scored.[/red]")
        raise typer.Exit(1) from None


def _stt_options(
    model: str, device: str, compute_type: str, channels: str, threads: int,
    hotwords: str = "none", ruleset: RuleSet | None = None, batch_size: int = 0,
):
    from qa_engine.stt import STTOptions
    from qa_engine.stt.vocabulary import rule_hotwords

    roles = tuple(part.strip() for part in channels.split(","))
    if hotwords == "rules":
        words = rule_hotwords(ruleset) if ruleset is not None else None
    else:
        words = None if hotwords in ("none", "") else hotwords
    try:
        return STTOptions(
            model=model, device=device, compute_type=compute_type, channel_roles=roles, cpu_threads=threads,
            hotwords=words, batch_size=batch_size,
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
    model: ModelOption = "default",
    device: DeviceOption = "auto",
    compute_type: ComputeTypeOption = "auto",
    channels: ChannelsOption = "agent,customer",
    threads: ThreadsOption = 0,
    cache_dir: CacheDirOption = None,
    hotwords: HotwordsOption = "none",
    batch_size: BatchSizeOption = 0,
    ray: RayOption = None,
    details: Annotated[bool, typer.Option(help="Print every finding with its explanation.")] = True,
    html: Annotated[Path | None, typer.Option(help="Also write an HTML page per call and a batch summary (index.html) here.")] = None,
    keep_pii: Annotated[bool, typer.Option("--keep-pii", help="Do not redact personal data (the reports' provenance says so).")] = False,
) -> None:
    """Score calls and write one report per call; failed calls are recorded, the rest go on."""
    from qa_engine.batch import run_batch
    from qa_engine.inputs import iter_calls, survey
    from qa_engine.report.console import finding_lines, summary_table
    from qa_engine.report.writer import ReportSink

    ruleset = _load_rules_or_exit(rules)
    engine = Engine(ruleset, keep_pii=keep_pii)
    exclude = [out, html] if html else [out]  # never read this run's own outputs as calls
    count, has_audio = survey(paths, exclude)
    if not count:
        errors.print("[red]no calls found[/red] under " + ", ".join(map(str, paths)) + " (expected .json, .jsonl or audio files)")
        raise typer.Exit(1)
    stt_options = (
        _stt_options(model, device, compute_type, channels, threads, hotwords, ruleset, batch_size) if has_audio else None
    )
    sink = ReportSink(out, fmt.value, resume)
    pages = _html_writer(html, ruleset, sink, iter_calls(paths, exclude), engine) if html else None

    def done(outcome) -> None:
        progress.advance(task)
        if pages is not None:
            pages.add(outcome.report, outcome.transcript, outcome.audio)

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
        task = progress.add_task("scoring", total=max(count - len(sink.done), 0))
        summary = run_batch(
            iter_calls(paths, exclude),
            engine,
            sink,
            rules_path=str(rules) if rules else None,
            stt_options=stt_options,
            cache_dir=cache_dir,
            workers=workers,
            on_done=done,
            ray_address=ray,
        )
    reports = summary.reports  # the first by call id; a large batch is only counted
    console.print(summary_table(reports, ruleset, total=summary.scored + summary.failed))
    if details and summary.scored + summary.failed <= 30:
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
    if pages is not None:
        console.print(f"HTML: {pages.finish()}", highlight=False)
    for call_id, error in summary.failures:
        errors.print(f"[red]failed[/red] {call_id}: {error}", highlight=False)
    if summary.failed > len(summary.failures):
        errors.print(f"[red]… and {summary.failed - len(summary.failures)} more failed calls[/red] (see the reports)")
    if summary.failed:
        raise typer.Exit(2)


def _html_writer(folder: Path, ruleset: RuleSet, sink, sources, engine: Engine):
    """HTML pages for this run, seeded with the calls an earlier run scored (on --resume)."""
    from qa_engine.fsutil import safe_name
    from qa_engine.models import CallTranscript
    from qa_engine.report.html import HtmlReportWriter

    if folder.resolve() == sink.out_dir.resolve():
        errors.print("[red]--html must be a folder other than --out[/red] (both would write calls.csv)")
        raise typer.Exit(1)
    audio_redaction = ruleset.model.redact.audio if engine.redactor is not None else None
    writer = HtmlReportWriter(folder, ruleset, audio_redaction=audio_redaction)
    by_key = {source.key: source for source in sources if source.key in sink.done}
    for report in sink.previous_reports():
        source = by_key.get(report.call_id)
        transcript = source.transcript if source else None
        saved = sink.out_dir / f"{safe_name(report.call_id)}.transcript.json"
        if transcript is None and saved.exists():
            transcript = CallTranscript.model_validate_json(saved.read_text(encoding="utf-8"))
        try:
            transcript = engine.redact(transcript) if transcript is not None else None
        except RuntimeError:
            transcript = None  # fail closed: the page shows findings only
        writer.add(report, transcript, source.audio if source else None)
    return writer


@app.command()
def transcribe(
    paths: Annotated[list[Path], typer.Argument(help="Audio files or folders.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for transcript JSON files.")] = Path("qa-transcripts"),
    model: ModelOption = "default",
    device: DeviceOption = "auto",
    compute_type: ComputeTypeOption = "auto",
    channels: ChannelsOption = "agent,customer",
    threads: ThreadsOption = 0,
    cache_dir: CacheDirOption = None,
    rules: Annotated[Path | None, typer.Option("--rules", "-r", help="Rule file whose redact: section applies (default: the bundled rules).")] = None,
    keep_pii: Annotated[bool, typer.Option("--keep-pii", help="Do not redact personal data in the transcripts and the cache.")] = False,
    hotwords: HotwordsOption = "none",
    batch_size: BatchSizeOption = 0,
    ray: RayOption = None,
) -> None:
    """Transcribe calls to transcript JSON (the format `qa score` reads) without scoring them.

    Personal data is redacted before anything is written (transcripts and the cache),
    as `qa score` does, unless --keep-pii."""
    from qa_engine.fsutil import safe_name, write_atomic
    from qa_engine.inputs import iter_calls
    from qa_engine.stt import Transcriber, transcribe_cached

    ruleset = _load_rules_or_exit(rules)
    redactor = Engine(ruleset, keep_pii=keep_pii).redactor
    options = _stt_options(model, device, compute_type, channels, threads, hotwords, ruleset, batch_size)
    failed = 0

    def heard():
        audio = []
        for source in iter_calls(paths):
            if source.audio is None:
                if source.error:
                    yield source, None, source.error
                continue
            audio.append(source)
        if ray is not None:
            from qa_engine.distributed import iter_transcripts_on_ray

            yield from iter_transcripts_on_ray(
                audio, options, address=ray, cache_dir=cache_dir,
                rules_path=str(rules) if rules else None, keep_pii=keep_pii,
            )
            return
        transcriber = Transcriber(options)
        for source in audio:
            try:
                transcript = transcribe_cached(source.audio, cache_dir=cache_dir, transcriber=transcriber, redactor=redactor)
                yield source, transcript, None
            except Exception as error:  # record and go on with the other files (a RedactionError names no text)
                yield source, None, f"{source.audio}: {error}"

    for source, transcript, error in heard():
        if transcript is None:
            errors.print(f"[red]failed[/red] {error}", highlight=False)
            failed += 1
            continue
        target = out / f"{safe_name(transcript.call_id)}.json"
        write_atomic(target, transcript.model_dump_json(indent=1))
        console.print(f"{source.audio} → {target} ({len(transcript.utterances)} utterances)", highlight=False)
    if failed:
        raise typer.Exit(2)


@rules_app.command("test")
def rules_test(file: Annotated[Path, typer.Argument(help="Rule file.")]) -> None:
    """Run every rule's examples; exit 1 if any example does not behave as declared."""
    from qa_engine.workbench.examples import run_examples

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


@rules_app.command("check")
def rules_check(
    file: Annotated[Path, typer.Argument(help="Rule file.")],
    strict: Annotated[bool, typer.Option(help="Exit 1 on warnings too.")] = False,
) -> None:
    """Validate a rule file: errors with file:line:column, rule id and code frame; then warnings."""
    from qa_engine.report.console import print_problems
    from qa_engine.workbench.lint import lint

    ruleset = _load_rules_or_exit(file)
    warnings = lint(ruleset)
    print_problems(console, warnings)
    console.print(
        f"{file}: {len(ruleset.model.rules)} rules, {len(ruleset.checks)} enabled, 0 errors, {len(warnings)} warnings",
        highlight=False,
    )
    if warnings and strict:
        raise typer.Exit(1)


@rules_app.command("explain")
def rules_explain(
    target: Annotated[str, typer.Argument(help="A rule kind (e.g. phrases) or a rule id (e.g. forbidden.taboo).")],
    text: Annotated[str | None, typer.Option("--text", "-t", help="Sentence (or dialogue lines 'A: …' / 'C: …') to try the rule on.")] = None,
    rules: RulesOption = None,
) -> None:
    """Print a rule kind's documentation, or show how a rule treats a sentence."""
    from qa_engine.kinds import KINDS, kind_doc

    if target in KINDS and text is None:
        console.print(kind_doc(target).strip(), markup=False, highlight=False, soft_wrap=True)
        return
    ruleset = _load_rules_or_exit(rules)
    if target == "redact":
        _explain_redact(ruleset, text)
        return
    if text is None:
        spec = next((c.spec for c in ruleset.checks if c.spec.id == target), None)
        if spec is None:
            errors.print(f"[red]'{target}' is neither a rule kind ({', '.join(sorted(KINDS))}) nor a rule id in {ruleset.path}[/red]")
            raise typer.Exit(1)
        console.print(spec.model_dump_json(indent=2, exclude_defaults=True), markup=False, highlight=False)
        console.print(f"\n(kind '{spec.kind}': `qa rules explain {spec.kind}`; try a sentence with --text)", markup=False)
        return
    from qa_engine.workbench.explain import explain

    try:
        result = explain(ruleset, target, text)
    except KeyError as error:
        errors.print(f"[red]{error.args[0]}[/red]")
        raise typer.Exit(1) from None
    show = lambda label, value: console.print(f"{label:<14}{value}", markup=False, highlight=False, soft_wrap=True)  # noqa: E731
    show("rule", f"{result.rule_id} ({result.kind}, speaker {result.speaker})")
    show("original", result.original)
    show("normalised", result.normalized)
    show("compact", result.compact)
    show("pinyin", result.pinyin)
    show("folded pinyin", result.folded_pinyin)
    show("clauses", " | ".join(result.clauses))
    show("speech clause", " | ".join(result.speech_clauses))
    show("tokens", " / ".join(result.tokens))
    for phrase in result.phrases:
        verdict = f"match: {phrase.hit_mode}" if phrase.hit_mode else "no match"
        lexicon = f"  (@{phrase.lexicon})" if phrase.lexicon else ""
        show("  phrase", f"{phrase.phrase}{lexicon}  fuzzy {phrase.fuzzy:g}  {verdict}")
    if result.fires:
        for finding in result.findings:
            words = f"「{finding.evidence.text}」" if finding.evidence else ""
            show("FIRES", f"{finding.message} {words} ({finding.match.mode}: {finding.match.detail})")
    else:
        show("verdict", "does not fire")


def _explain_redact(ruleset: RuleSet, text: str | None) -> None:
    """What personal-data redaction would mask in a sentence, and why."""
    from qa_engine.pii import Redactor
    from qa_engine.pii.config import RedactConfig

    config = ruleset.model.redact
    if text is None:
        console.print(config.model_dump_json(indent=2), markup=False, highlight=False)
        console.print("\n(try a sentence with --text)", markup=False)
        return
    redactor = Redactor(config.model_copy(update={"enabled": True}) if isinstance(config, RedactConfig) else config)
    redacted, found = redactor.redact_text(text)
    show = lambda label, value: console.print(f"{label:<14}{value}", markup=False, highlight=False, soft_wrap=True)  # noqa: E731
    show("original", text)
    show("redacted", redacted)
    for item in found:
        show("  MASK", f"{item.entity} 「{text[item.start:item.end]}」 ({item.reason})")
    if not found:
        show("verdict", "nothing to mask")
    if not config.enabled:
        show("note", "redact.enabled is false in this rule file: calls are not redacted")


@rules_app.command("diff")
def rules_diff(
    old: Annotated[Path, typer.Argument(help="The rule file in use.")],
    new: Annotated[Path, typer.Argument(help="The changed rule file.")],
    corpus: Annotated[list[Path], typer.Argument(help="Transcript files or folders (e.g. last week's calls).")],
    examples: Annotated[int, typer.Option(help="New and lost hits to show per rule.")] = 3,
) -> None:
    """Hit counts per rule before and after a change, calls whose pass/fail flips, example hits."""
    from rich.table import Table

    from qa_engine.workbench.corpus import CorpusError, load_corpus
    from qa_engine.workbench.diff import diff_rule_sets

    old_rules, new_rules = _load_rules_or_exit(old), _load_rules_or_exit(new)
    try:
        calls = load_corpus(corpus)
    except CorpusError as error:
        errors.print(f"[red]{error}[/red]", highlight=False)
        raise typer.Exit(1) from None
    result = diff_rule_sets(old_rules, new_rules, calls, examples)
    table = Table(title=f"规则变更影响 · {len(calls)} 通通话")
    for column in ("规则", "变更前", "变更后", "变化"):
        table.add_column(column)
    for delta in result.rules:
        change = delta.after - delta.before
        table.add_row(delta.rule_id, str(delta.before), str(delta.after), f"{change:+d}" if change else "0")
    console.print(table)
    console.print(f"平均分 {result.mean_before:.1f} → {result.mean_after:.1f}", highlight=False)
    for flip in result.flips:
        verdict = lambda passed: "合格" if passed else "不合格"  # noqa: E731
        console.print(
            f"判定变化 {flip.call_id}: {verdict(flip.before_passed)} {flip.before_score:g} → {verdict(flip.after_passed)} {flip.after_score:g}",
            highlight=False,
        )
    for delta in result.rules:
        for line in delta.new_examples:
            console.print(f"  + {delta.rule_id}: {line}", markup=False, highlight=False, soft_wrap=True)
        for line in delta.lost_examples:
            console.print(f"  - {delta.rule_id}: {line}", markup=False, highlight=False, soft_wrap=True)


@app.command()
def calibrate(
    corpus: Annotated[list[Path], typer.Argument(help="Transcript files or folders.")],
    labels: Annotated[Path, typer.Option(help="CSV of human QA labels: call_id,utterance_index,category.")],
    rules: RulesOption = None,
    tune: Annotated[bool, typer.Option(help="Search the best fuzzy threshold of each fuzzy phrase rule.")] = True,
    markdown: Annotated[bool, typer.Option(help="Print the tables as Markdown (for a README).")] = False,
    unjudged: Annotated[Path | None, typer.Option(help="CSV call_id,category of pairs the labeller could not judge: findings there count neither way.")] = None,
) -> None:
    """Precision, recall and F1 per category and rule against human labels; misses; fuzzy thresholds."""
    from qa_engine.workbench.calibrate import LabelFileError, read_labels, read_unjudged
    from qa_engine.workbench.calibrate import calibrate as run_calibration
    from qa_engine.workbench.corpus import CorpusError, load_corpus

    ruleset = _load_rules_or_exit(rules)
    try:
        calls = load_corpus(corpus)
        label_set = read_labels(labels)
        skip = read_unjudged(unjudged) if unjudged is not None else set()
    except (CorpusError, LabelFileError) as error:
        errors.print(f"[red]{error}[/red]", highlight=False)
        raise typer.Exit(1) from None
    result = run_calibration(ruleset, calls, label_set, tune, unjudged=skip)
    fmt = lambda value: "-" if value is None else f"{value:.2f}"  # noqa: E731
    def rows(scores, label):
        return [(label(s.name), str(s.labels), str(s.predicted), str(s.true_positives), fmt(s.precision), fmt(s.recall), fmt(s.f1)) for s in scores]
    headers = ("", "标注数", "命中数", "正确命中", "精确率", "召回率", "F1")
    category_rows = rows(result.categories, lambda name: f"{ruleset.category_label(name)} ({name})")
    rule_rows = rows([s for s in result.rules if s.predicted or s.labels], lambda name: name)
    _print_table(f"按类别 · {len(calls)} 通通话 · {len(label_set)} 条标注", ("类别",) + headers[1:], category_rows, markdown)
    _print_table("按规则(召回率按该规则所属类别的全部标注计算)", ("规则",) + headers[1:], rule_rows, markdown)
    if result.thresholds:
        threshold_rows = [(t.rule_id, f"{t.current:g}", fmt(t.current_f1), f"{t.best:g}", fmt(t.best_f1)) for t in result.thresholds]
        _print_table("模糊匹配阈值", ("规则", "当前阈值", "当前F1", "最佳阈值", "最佳F1"), threshold_rows, markdown)
    console.print(f"误报 (false positives): {len(result.false_positives)}", highlight=False)
    for line in result.false_positives:
        console.print("  " + line, markup=False, highlight=False, soft_wrap=True)
    console.print(f"漏报 (misses): {len(result.misses)}", highlight=False)
    for line in result.misses:
        console.print("  " + line, markup=False, highlight=False, soft_wrap=True)


def _print_table(title: str, headers: tuple[str, ...], rows: list[tuple[str, ...]], markdown: bool) -> None:
    if markdown:
        console.print(f"\n**{title}**\n", highlight=False)
        console.print("| " + " | ".join(headers) + " |", markup=False, highlight=False, soft_wrap=True)
        console.print("|" + "---|" * len(headers), markup=False, highlight=False)
        for row in rows:
            console.print("| " + " | ".join(row) + " |", markup=False, highlight=False, soft_wrap=True)
        return
    from rich.table import Table

    table = Table(title=title)
    for header in headers:
        table.add_column(header)
    for row in rows:
        table.add_row(*row)
    console.print(table)


@rules_app.command("schema")
def rules_schema() -> None:
    """Print the JSON Schema of rule files (for editor completion and validation)."""
    from qa_engine.rulefile import rule_file_model

    sys.stdout.write(json.dumps(rule_file_model().model_json_schema(), ensure_ascii=False, indent=2) + "\n")


@app.command()
def version() -> None:
    """Print the engine version."""
    console.print(f"qa-engine {__version__}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8600,
    rules: Annotated[list[Path] | None, typer.Option("--rules", "-r", help="Rule file; repeat for several sets, named by file stem (first is the default).")] = None,
    token: Annotated[str | None, typer.Option(envvar="QA_TOKEN", help="Require this bearer token on HTTP and WebSocket.")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for live calls' reports (partial ones too).")] = Path("qa-out/live"),
    model: ModelOption = "default",
    device: DeviceOption = "auto",
    compute_type: ComputeTypeOption = "auto",
    threads: ThreadsOption = 0,
    beam_size: Annotated[int, typer.Option(min=1, help="Whisper beam size.")] = 5,
    max_audio_calls: Annotated[int | None, typer.Option(min=0, help="Fixed limit on live audio calls (default: computed from the measured transcription load).")] = None,
    max_lag: Annotated[float, typer.Option(help="Refuse new audio calls while transcription is this many seconds behind.")] = 2.0,
    cache_dir: Annotated[Path | None, typer.Option(help="Transcript cache for uploaded recordings.")] = None,
    preload: Annotated[bool, typer.Option(help="Load the speech model at start-up.")] = True,
    insecure: Annotated[bool, typer.Option(help="Allow a non-loopback --host without --token.")] = False,
    keep_pii: Annotated[bool, typer.Option("--keep-pii", help="Do not redact personal data (events, reports, saved calls, cache).")] = False,
) -> None:
    """Run the live QA server: WebSocket /v1/stream, POST /v1/score and /v1/calls, OpenAPI at /docs."""
    from qa_engine.live.capacity import CapacityPolicy
    from qa_engine.report.console import print_problems
    from qa_engine.server import ServerConfig
    from qa_engine.server import serve as run_server
    from qa_engine.stt import STTOptions

    try:
        config = ServerConfig(
            host=host,
            port=port,
            rules=rules or [],
            token=token,
            out_dir=out,
            cache_dir=cache_dir,
            stt=STTOptions(model=model, device=device, compute_type=compute_type, cpu_threads=threads, beam_size=beam_size),
            capacity=CapacityPolicy(max_audio_calls=max_audio_calls, max_lag_s=max_lag),
            preload_model=preload,
            insecure=insecure,
            keep_pii=keep_pii,
        )
        run_server(config)
    except RuleFileError as error:
        print_problems(errors, error.problems)
        errors.print(f"[red]{len(error.problems)} problem(s) in the rule files; the server did not start.[/red]")
        raise typer.Exit(1) from None
    except ValueError as error:
        errors.print(f"[red]invalid server options:[/red] {error}")
        raise typer.Exit(1) from None


@app.command()
def stream(
    call: Annotated[Path | None, typer.Argument(help="Recording to replay as live audio (or a transcript .json).")] = None,
    url: Annotated[str, typer.Option(help="The server's stream endpoint.")] = "ws://127.0.0.1:8600/v1/stream",
    speed: Annotated[float, typer.Option(min=0, help="Replay speed: 1 real time, 4 four times faster, 0 as fast as possible.")] = 1.0,
    transcript: Annotated[Path | None, typer.Option(help="Replay this transcript as timed utterance events instead of audio.")] = None,
    token: Annotated[str | None, typer.Option(envvar="QA_TOKEN", help="Bearer token, when the server has one.")] = None,
    call_id: Annotated[str | None, typer.Option(help="Call id (default: the file name or the transcript's).")] = None,
    agent_id: Annotated[str | None, typer.Option(help="Agent id (audio mode).")] = None,
    rules: Annotated[str | None, typer.Option(help="Name of a rule set loaded on the server.")] = None,
    frame_ms: Annotated[int, typer.Option(min=10, max=1000, help="Audio per frame, in milliseconds.")] = 50,
    quiet: Annotated[bool, typer.Option(help="Print findings and the score only, not the transcript.")] = False,
) -> None:
    """Replay a recorded call to a live server in real time, printing findings as they arrive."""
    import asyncio

    from websockets.exceptions import WebSocketException

    from qa_engine.models import CallTranscript
    from qa_engine.server import client

    source = transcript or (call if call is not None and call.suffix.lower() == ".json" else None)
    if source is None and call is None:
        errors.print("[red]give a recording to replay, or --transcript FILE[/red]")
        raise typer.Exit(1)

    def show(item) -> None:
        line = client.describe(item)
        if line and not (quiet and item.type == "transcript"):
            console.print(line, markup=False, highlight=False, soft_wrap=True)

    try:
        if source is not None:
            data = CallTranscript.model_validate_json(source.read_text(encoding="utf-8"))
            if call_id:
                data = data.model_copy(update={"call_id": call_id})
            run = client.stream_transcript(url, data, speed=speed, token=token, rules=rules, on_message=show)
        else:
            assert call is not None
            pcm = client.read_pcm(call)
            run = client.stream_audio(url, pcm, call_id or call.stem, agent_id=agent_id, speed=speed,
                                      frame_ms=frame_ms, token=token, rules=rules, on_message=show)
        result = asyncio.run(run)
    except (OSError, ValueError, WebSocketException) as error:
        errors.print(f"[red]cannot stream:[/red] {error}", highlight=False)
        raise typer.Exit(1) from None
    if result.busy:
        errors.print(f"[yellow]{result.busy}[/yellow]", highlight=False)
        raise typer.Exit(3)
    if result.refused:
        errors.print(f"[red]refused:[/red] {result.refused.get('message', result.refused)}", highlight=False)
        raise typer.Exit(2)
    if result.report is None:
        errors.print("[red]the server closed the call without a report[/red]")
        raise typer.Exit(2)
    console.print(client.summary(result.report), highlight=False)


if __name__ == "__main__":
    app()
