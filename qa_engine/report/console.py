"""What a person sees in the terminal: located rule-file problems, the batch progress, table and
findings, and the lines `qa stream` prints as a live call goes on."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from qa_engine.models import CallReport
from qa_engine.report.labels import (
    LEVEL_LABELS,
    category_costs,
    finding_line,
    fmt_points,
    speaker_label,
    verdict,
)
from qa_engine.rulefile import Problem, RuleSet


def _file_lines(path: str) -> list[str] | None:
    try:
        return Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None


def code_frame(problem: Problem, context: int = 2, lines: list[str] | None = None) -> str:
    """The offending line with a marker and caret, and a little context (as vale/ruff print).

    `lines` is the file's text when the caller has read it already (one read for many problems).
    """
    if problem.line is None:
        return ""
    lines = _file_lines(problem.path) if lines is None else lines
    if lines is None:
        return ""
    first = max(1, problem.line - context)
    last = min(len(lines), problem.line + context)
    width = len(str(last))
    out = []
    for number in range(first, last + 1):
        marker = ">" if number == problem.line else " "
        out.append(f" {marker} {number:>{width}} | {lines[number - 1]}")
        if number == problem.line and problem.column:
            out.append(f"   {' ' * width} | {' ' * (problem.column - 1)}^")
    return "\n".join(out)


def print_problems(console: Console, problems: list[Problem]) -> None:
    files: dict[str, list[str] | None] = {}  # each file read once, however many problems it has
    for problem in problems:
        style = "red" if problem.severity == "error" else "yellow"
        console.print(str(problem), style=style, markup=False, highlight=False, soft_wrap=True)
        if problem.path not in files:
            files[problem.path] = _file_lines(problem.path)
        lines = files[problem.path]
        frame = code_frame(problem, lines=lines) if lines is not None else ""
        if frame:
            console.print(frame, markup=False, highlight=False, soft_wrap=True)


def summary_table(reports: list[CallReport], rules: RuleSet, limit: int = 50, total: int | None = None) -> Table:
    """One row per call: score, pass, findings and the categories that cost points.

    `total` is the number of calls when `reports` holds only the first of them."""
    total = len(reports) if total is None else total
    table = Table(title=f"质检结果 · {rules.name}", show_lines=False)
    for column in ("通话", "坐席", "得分", "结果", "问题数", "扣分项"):
        table.add_column(column)
    colours = {"pass": "green"}
    for report in reports[:limit]:
        word, css = verdict(report)
        shown = f"[{colours.get(css, 'red')}]{word}[/{colours.get(css, 'red')}]"
        if report.status == "failed":
            table.add_row(report.call_id, report.agent_id or "-", "-", shown, "-", report.error or "")
            continue
        costs = ", ".join(category_costs(report, rules.category_label))
        table.add_row(
            report.call_id,
            report.agent_id or "-",
            f"{report.score:g}",
            shown,
            str(len(report.findings)),
            costs or "-",
        )
    if total > min(limit, len(reports)):
        table.caption = f"… 另有 {total - min(limit, len(reports))} 通"
    return table


def finding_lines(report: CallReport, rules: RuleSet) -> list[str]:
    """Each finding as one explainable line: time, rule, words, how it matched."""
    lines = [finding_line(f, rules.category_label(f.category)) for f in report.findings]
    if report.metrics is not None:
        lines.append(metrics_line(report))
    return lines


def metrics_line(report: CallReport) -> str:
    """The call's conversation metrics and the customer's emotion, in one line."""
    m = report.metrics
    assert m is not None
    ratio = "-" if m.agent_talk_ratio is None else f"{m.agent_talk_ratio:.0%}"
    latency = "-" if m.response_latency_mean is None else f"{m.response_latency_mean:.1f}/{m.response_latency_max:.1f}s"
    names = LEVEL_LABELS
    ending = " 结束时客户仍不满" if m.ended_upset else ""
    return (
        f"   指标 客服占比 {ratio} 静默 {m.non_talk:.0f}s 最长独白 {m.longest_agent_monologue:.0f}s "
        f"响应 {latency} 重叠 {m.overtalk_count} 次 保持 {m.hold_count} 次 "
        f"客户情绪 {names[m.customer_emotion_start]}→{names[m.customer_emotion_end]}"
        f"(不满 {m.customer_upset_utterances} 句){ending}"
    )


SMALL_BATCH = 20
"""Up to this many calls, `qa score` prints every finding; beyond, only with --verbose."""


def batch_progress(errors: Console) -> Progress:
    """The progress bar of a batch (on stderr, only on a terminal, gone when done)."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
        disable=not errors.is_terminal,
    )


def print_call_findings(console: Console, report: CallReport, rules: RuleSet) -> None:
    """A call's id, then each of its findings on one line (nothing for a call without findings)."""
    if report.findings:
        console.print(f"[bold]{report.call_id}[/bold]", highlight=False)
        for line in finding_lines(report, rules):
            console.print("  " + line, markup=False, highlight=False, soft_wrap=True)


def print_batch(
    console: Console, errors: Console, summary, rules: RuleSet, out: Path, details: bool, html: Path | None
) -> None:
    """The end of `qa score`: the table, every finding of a small batch, the totals, the failures."""
    reports = summary.reports  # the first by call id; a large batch is only counted
    console.print(summary_table(reports, rules, total=summary.scored + summary.failed))
    if details and summary.scored + summary.failed <= SMALL_BATCH:
        for report in reports:
            print_call_findings(console, report, rules)
    rate = f"{summary.pass_rate:.0%}" if summary.pass_rate is not None else "-"
    line = (
        f"calls {summary.calls}  scored {summary.scored}  failed {summary.failed}  "
        f"skipped (resume) {summary.skipped}  pass rate {rate}  wall {summary.wall_seconds:.1f}s"
    )
    if summary.audio_seconds:
        line += f"  audio {summary.audio_seconds / 3600:.3f}h  RTF {summary.real_time_factor:.2f}"
    console.print(line + f"  → {out}", highlight=False)
    if html is not None:
        console.print(f"HTML: {html}", highlight=False)
    for call_id, error in summary.failures:
        errors.print(f"[red]failed[/red] {call_id}: {error}", highlight=False)
    if summary.failed > len(summary.failures):
        errors.print(f"[red]… and {summary.failed - len(summary.failures)} more failed calls[/red] (see the reports)")


def stream_line(item) -> str | None:
    """`qa stream`: one console line for a server message (a `client.Received`)."""
    message = item.message
    stamp = f"[{item.at:6.1f}s]"
    if message.type == "transcript":
        return f"{stamp} {speaker_label(message.speaker)} {message.start:.1f}–{message.end:.1f}s: {message.text}"
    if message.type == "finding":
        return f"{stamp} ⚑ {finding_line(message, message.category)}"
    if message.type == "error":
        return f"{stamp} error {message.code}: {message.message}"
    return None


def stream_summary(report: CallReport) -> str:
    """`qa stream`: the call's score and verdict once the server sent the report."""
    return (
        f"{report.call_id}: 得分 {fmt_points(report.score)} / {report.base_score:g} "
        f"(合格线 {report.pass_mark:g}) {verdict(report)[0]}, {len(report.findings)} findings, "
        f"{report.utterance_count} utterances, {report.duration:.1f}s"
    )
