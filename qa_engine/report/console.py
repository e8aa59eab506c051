"""What a person sees in the terminal: the batch table and located rule-file problems."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from qa_engine.models import CallReport
from qa_engine.rulefile import Problem, RuleSet


def code_frame(problem: Problem, context: int = 2) -> str:
    """The offending line with a marker and caret, and a little context (as vale/ruff print)."""
    if problem.line is None:
        return ""
    try:
        lines = Path(problem.path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
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
    for problem in problems:
        style = "red" if problem.severity == "error" else "yellow"
        console.print(str(problem), style=style, markup=False, highlight=False, soft_wrap=True)
        frame = code_frame(problem)
        if frame:
            console.print(frame, markup=False, highlight=False, soft_wrap=True)


def summary_table(reports: list[CallReport], rules: RuleSet, limit: int = 50, total: int | None = None) -> Table:
    """One row per call: score, pass, findings and the categories that cost points.

    `total` is the number of calls when `reports` holds only the first of them."""
    total = len(reports) if total is None else total
    table = Table(title=f"质检结果 · {rules.name}", show_lines=False)
    for column in ("通话", "坐席", "得分", "结果", "问题数", "扣分项"):
        table.add_column(column)
    for report in reports[:limit]:
        if report.status == "failed":
            table.add_row(report.call_id, report.agent_id or "-", "-", "[red]失败[/red]", "-", report.error or "")
            continue
        verdict = "[green]合格[/green]" if report.passed else "[red]不合格[/red]"
        if report.fatal:
            verdict = "[red]一票否决[/red]"
        costs = ", ".join(
            f"{rules.category_label(category)} -{points:g}"
            for category, points in sorted(report.category_deductions.items(), key=lambda kv: -kv[1])
            if points
        )
        table.add_row(
            report.call_id,
            report.agent_id or "-",
            f"{report.score:g}",
            verdict,
            str(len(report.findings)),
            costs or "-",
        )
    if total > min(limit, len(reports)):
        table.caption = f"… 另有 {total - min(limit, len(reports))} 通"
    return table


def finding_lines(report: CallReport, rules: RuleSet) -> list[str]:
    """Each finding as one explainable line: time, rule, words, how it matched."""
    lines = []
    for f in report.findings:
        when = f"{f.start:7.1f}s" if f.start is not None else "   全通话"
        who = {"agent": "客服", "customer": "客户", "unknown": "未知", None: "-"}[f.speaker]
        words = f"「{f.evidence.text}」" if f.evidence else ""
        lines.append(
            f"{when} {who} [{rules.category_label(f.category)}] {f.rule_id} -{f.deduction:g}: "
            f"{f.message} {words} ({f.match.mode}: {f.match.detail})"
        )
    if report.metrics is not None:
        lines.append(metrics_line(report))
    return lines


def metrics_line(report: CallReport) -> str:
    """The call's conversation metrics and the customer's emotion, in one line."""
    m = report.metrics
    assert m is not None
    ratio = "-" if m.agent_talk_ratio is None else f"{m.agent_talk_ratio:.0%}"
    latency = "-" if m.response_latency_mean is None else f"{m.response_latency_mean:.1f}/{m.response_latency_max:.1f}s"
    names = {"calm": "平静", "upset": "不满", "angry": "愤怒", None: "-"}
    ending = " 结束时客户仍不满" if m.ended_upset else ""
    return (
        f"   指标 客服占比 {ratio} 静默 {m.non_talk:.0f}s 最长独白 {m.longest_agent_monologue:.0f}s "
        f"响应 {latency} 重叠 {m.overtalk_count} 次 保持 {m.hold_count} 次 "
        f"客户情绪 {names[m.customer_emotion_start]}→{names[m.customer_emotion_end]}"
        f"(不满 {m.customer_upset_utterances} 句){ending}"
    )
