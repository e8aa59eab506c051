"""The `qa` command line: wiring only. What is printed is rendered by `qa_engine.report`
(console, workbench); errors are rendered here at the edge, the library raises."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Annotated

import typer

from qa_engine import __version__
from qa_engine.cli_live import serve, stream
from qa_engine.cli_options import (
    CacheDirOption,
    OutputFormat,
    RayOption,
    RulesOption,
    console,
    corpus_or_exit,
    errors,
    fail,
    html_writer_or_exit,
    load_rules_or_exit,
    stt_options_or_exit,
    with_stt_options,
)
from qa_engine.engine import Engine
from qa_engine.report.console import print_problems
from qa_engine.store.cli import db_app, review_labels_or_exit, rules_suggest, store_writer

app = typer.Typer(
    help="Call QA engine for Mandarin customer service (智能质检): score calls against a rule set.",
    no_args_is_help=True,
    add_completion=False,
)
rules_app = typer.Typer(help="Check, test, explain and document rule files.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")
app.add_typer(db_app, name="db")
rules_app.command("suggest")(rules_suggest)


@app.command()
@with_stt_options()
def score(
    paths: Annotated[list[Path], typer.Argument(help="Transcript .json/.jsonl files, audio files, or folders.")],
    stt: dict,
    rules: RulesOption = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for reports.")] = Path("qa-out"),
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="One JSON per call, one JSONL, or a CSV table.")] = OutputFormat.json,
    resume: Annotated[bool, typer.Option(help="Skip calls already scored in --out.")] = False,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    cache_dir: CacheDirOption = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print every finding of every call, however many calls (by default only for batches of up to 20).")] = False,
    details: Annotated[bool | None, typer.Option(help="--details: as --verbose; --no-details: never print findings.")] = None,
    html: Annotated[Path | None, typer.Option(help="Also write an HTML page per call and a batch summary (index.html) here.")] = None,
    keep_pii: Annotated[bool, typer.Option("--keep-pii", help="Do not redact personal data (the reports' provenance says so).")] = False,
    db: Annotated[str | None, typer.Option("--db", envvar="QA_DB", help="Also store every call in this results database as it finishes (sqlite:///…, postgresql+psycopg://…).")] = None,
    ray: RayOption = None,
) -> None:
    """Score calls and write one report per call; failed calls are recorded, the rest go on."""
    from qa_engine.batch import run_batch
    from qa_engine.inputs import iter_calls, survey
    from qa_engine.report.console import SMALL_BATCH, batch_progress, print_batch, print_call_findings
    from qa_engine.report.writer import ReportSink

    ruleset = load_rules_or_exit(rules)
    engine = Engine(ruleset, keep_pii=keep_pii)
    gc.freeze()  # the rule set, spaCy and the lexicons live as long as the command: never scan them again
    exclude = [out, html] if html else [out]  # never read this run's own outputs as calls
    count, has_audio = survey(paths, exclude)
    if not count:
        raise fail("[red]no calls found[/red] under " + ", ".join(map(str, paths)) + " (expected .json, .jsonl or audio files)")
    stt_options = stt_options_or_exit(stt, ruleset) if has_audio else None
    live_details = (details if details is not None else verbose) and count > SMALL_BATCH  # printed as calls finish
    with ReportSink(out, fmt.value, resume) as sink:
        pages = html_writer_or_exit(html, ruleset, sink, iter_calls(paths, exclude), engine) if html else None
        stored = store_writer(db) if db else None

        def done(outcome) -> None:
            progress.advance(task)
            if live_details:
                print_call_findings(console, outcome.report, ruleset)
            if pages is not None:
                pages.add(outcome.report, outcome.transcript, outcome.audio)
            if stored is not None:
                stored.add(outcome.report, outcome.transcript)

        with batch_progress(errors) as progress:
            task = progress.add_task("scoring", total=max(count - len(sink.done), 0))
            summary = run_batch(
                iter_calls(paths, exclude), engine, sink, rules_path=str(rules) if rules else None,
                stt_options=stt_options, cache_dir=cache_dir, workers=workers, on_done=done, ray_address=ray,
            )
    if stored is not None:
        stored.report(console)
    index = pages.finish() if pages is not None else None
    print_batch(console, errors, summary, ruleset, out, details is not False and not live_details, index)
    if summary.failed:
        raise typer.Exit(2)


@app.command()
@with_stt_options()
def transcribe(
    paths: Annotated[list[Path], typer.Argument(help="Audio files or folders.")],
    stt: dict,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for transcript JSON files.")] = Path("qa-transcripts"),
    cache_dir: CacheDirOption = None,
    rules: Annotated[Path | None, typer.Option("--rules", "-r", help="Rule file whose redact: section applies (default: the bundled rules).")] = None,
    keep_pii: Annotated[bool, typer.Option("--keep-pii", help="Do not redact personal data in the transcripts and the cache.")] = False,
    ray: RayOption = None,
) -> None:
    """Transcribe calls to transcript JSON (the format `qa score` reads) without scoring them;
    personal data is redacted before anything is written (as `qa score` does) unless --keep-pii."""
    from qa_engine.batch import transcribe_all
    from qa_engine.fsutil import safe_name, write_atomic

    ruleset = load_rules_or_exit(rules)
    failed = 0
    heard = transcribe_all(
        paths, stt_options_or_exit(stt, ruleset), Engine(ruleset, keep_pii=keep_pii).redactor, cache_dir,
        ray_address=ray, rules_path=str(rules) if rules else None, keep_pii=keep_pii,
    )
    for source, transcript, error in heard:
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
    from qa_engine.report.workbench import print_example_results
    from qa_engine.workbench.examples import run_examples

    if print_example_results(console, run_examples(load_rules_or_exit(file))):
        raise typer.Exit(1)


@rules_app.command("check")
def rules_check(
    file: Annotated[Path, typer.Argument(help="Rule file.")],
    strict: Annotated[bool, typer.Option(help="Exit 1 on warnings too.")] = False,
) -> None:
    """Validate a rule file: errors with file:line:column, rule id and code frame; then warnings."""
    from qa_engine.workbench.lint import lint

    warnings = lint(ruleset := load_rules_or_exit(file))
    print_problems(console, warnings)
    console.print(f"{file}: {len(ruleset.model.rules)} rules, {len(ruleset.checks)} enabled, 0 errors, {len(warnings)} warnings", highlight=False)
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
    from qa_engine.report.workbench import print_explanation, print_redaction, print_spec
    from qa_engine.workbench.explain import explain

    if target in KINDS and text is None:
        console.print(kind_doc(target).strip(), markup=False, highlight=False, soft_wrap=True)
        return
    ruleset = load_rules_or_exit(rules)
    if target == "redact":
        return print_redaction(console, ruleset.model.redact, text)
    if text is None:
        spec = next((c.spec for c in ruleset.checks if c.spec.id == target), None)
        if spec is None:
            raise fail(f"[red]'{target}' is neither a rule kind ({', '.join(sorted(KINDS))}) nor a rule id in {ruleset.path}[/red]")
        return print_spec(console, spec)
    try:
        print_explanation(console, explain(ruleset, target, text))
    except KeyError as error:
        raise fail(f"[red]{error.args[0]}[/red]") from None


@rules_app.command("diff")
def rules_diff(
    old: Annotated[Path, typer.Argument(help="The rule file in use.")],
    new: Annotated[Path, typer.Argument(help="The changed rule file.")],
    corpus: Annotated[list[Path], typer.Argument(help="Transcript files or folders (e.g. last week's calls).")],
    examples: Annotated[int, typer.Option(help="New and lost hits to show per rule.")] = 3,
) -> None:
    """Hit counts per rule before and after a change, calls whose pass/fail flips, example hits."""
    from qa_engine.report.workbench import print_diff
    from qa_engine.workbench.diff import diff_rule_sets

    old_rules, new_rules = load_rules_or_exit(old), load_rules_or_exit(new)
    calls, _, _ = corpus_or_exit(corpus)
    print_diff(console, diff_rule_sets(old_rules, new_rules, calls, examples), len(calls))


@app.command()
def calibrate(
    corpus: Annotated[list[Path] | None, typer.Argument(help="Transcript files or folders (not with --db).")] = None,
    labels: Annotated[Path | None, typer.Option(help="CSV of human QA labels: call_id,utterance_index,category.")] = None,
    rules: RulesOption = None,
    tune: Annotated[bool, typer.Option(help="Search the best fuzzy threshold of each fuzzy phrase rule.")] = True,
    markdown: Annotated[bool, typer.Option(help="Print the tables as Markdown (for a README).")] = False,
    unjudged: Annotated[Path | None, typer.Option(help="CSV call_id,category of pairs the labeller could not judge: findings there count neither way.")] = None,
    db: Annotated[str | None, typer.Option("--db", help="Take the reviewed calls and their review decisions from this results database as corpus and labels.")] = None,
) -> None:
    """Precision, recall and F1 per category and rule against human labels; misses; fuzzy thresholds."""
    from qa_engine.report.workbench import print_calibration
    from qa_engine.workbench.calibrate import calibrate as run_calibration

    ruleset = load_rules_or_exit(rules)
    if db:
        calls, label_set, skip = review_labels_or_exit(db, unjudged)
    elif corpus and labels:
        calls, label_set, skip = corpus_or_exit(corpus, labels, unjudged)
    else:
        raise fail("[red]give transcripts and --labels, or --db[/red]")
    result = run_calibration(ruleset, calls, label_set, tune, unjudged=skip)
    print_calibration(console, result, ruleset, len(calls), len(label_set), markdown)


@rules_app.command("schema")
def rules_schema() -> None:
    """Print the JSON Schema of rule files (for editor completion and validation)."""
    from qa_engine.report.workbench import print_rule_schema

    print_rule_schema()


@app.command()
def version() -> None:
    """Print the engine version."""
    console.print(f"qa-engine {__version__}")


app.command()(serve)
app.command()(stream)

if __name__ == "__main__":
    app()
