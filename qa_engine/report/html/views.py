"""View models: what the call page and the batch summary show, already labelled."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from markupsafe import Markup

from qa_engine.models import CallReport, CallTranscript, Finding, Utterance
from qa_engine.report.html.highlight import Span, evidence_span, highlight
from qa_engine.report.labels import (
    LEVEL_LABELS,
    METRIC_LABELS,
    MODE_LABELS,
    SEVERITY_LABELS,
    SEVERITY_RANK,
    SPEAKER_LABELS,
    fmt_rate,
    fmt_seconds,
    fmt_time,
    yes_no,
)
from qa_engine.rulefile import RuleSet


def worst_severity(findings: Iterable[Finding]) -> str | None:
    ranked = sorted(findings, key=lambda f: SEVERITY_RANK[f.severity])
    return ranked[-1].severity if ranked else None


@dataclass
class FindingView:
    index: int
    finding: Finding
    category_label: str
    severity_label: str
    mode_label: str
    time: str
    speaker_label: str
    utterance_index: int | None


@dataclass
class UtteranceView:
    index: int
    utterance: Utterance
    speaker_label: str
    time: str
    html: Markup
    severity: str | None
    unmarked: list[FindingView]  # findings on this turn whose evidence cannot be marked


def finding_views(report: CallReport, rules: RuleSet) -> list[FindingView]:
    return [
        FindingView(
            index=i,
            finding=f,
            category_label=rules.category_label(f.category),
            severity_label=SEVERITY_LABELS[f.severity],
            mode_label=MODE_LABELS.get(f.match.mode, f.match.mode),
            time=fmt_time(f.start) if f.start is not None else "全通话",
            speaker_label=SPEAKER_LABELS.get(f.speaker or "", "-"),
            utterance_index=f.utterance_index,
        )
        for i, f in enumerate(report.findings)
    ]


def utterance_views(
    transcript: CallTranscript | None, report: CallReport, rules: RuleSet
) -> tuple[list[UtteranceView], list[FindingView]]:
    """The transcript with its evidence marked, and every finding as a list entry."""
    utterances = transcript.utterances if transcript else []
    by_turn: dict[int, list[tuple[int, Finding]]] = defaultdict(list)
    for i, f in enumerate(report.findings):
        if f.utterance_index is not None and 0 <= f.utterance_index < len(utterances):
            by_turn[f.utterance_index].append((i, f))
    spans: dict[int, list[Span]] = {}
    for turn, items in by_turn.items():
        text = utterances[turn].text
        spans[turn] = [s for i, f in items if (s := evidence_span(f, i, text)) is not None]
    marked = {s.finding for turn_spans in spans.values() for s in turn_spans}
    views = finding_views(report, rules)
    rows = [
        UtteranceView(
            index=n,
            utterance=u,
            speaker_label=SPEAKER_LABELS[u.speaker],
            time=fmt_time(u.start),
            html=highlight(u.text, spans.get(n, [])),
            severity=worst_severity(f for _, f in by_turn.get(n, [])),
            unmarked=[views[i] for i, _ in by_turn.get(n, []) if i not in marked],
        )
        for n, u in enumerate(utterances)
    ]
    return rows, views


@dataclass
class CategoryRow:
    label: str
    findings: int
    points: float


def category_rows(report: CallReport, rules: RuleSet) -> list[CategoryRow]:
    """Categories that found something or cost points, costliest first."""
    counts = Counter(f.category for f in report.findings)
    keys = set(counts) | {c for c, p in report.category_deductions.items() if p}
    rows = [
        CategoryRow(rules.category_label(c), counts[c], report.category_deductions.get(c, 0.0)) for c in keys
    ]
    return sorted(rows, key=lambda r: (-r.points, -r.findings, r.label))


@dataclass
class MetricRow:
    key: str
    label: str
    value: str
    alert: bool = False  # shown in the warning colour (ended upset, cut off, customer got worse)


def metric_rows(report: CallReport) -> list[MetricRow]:
    """The call's conversation metrics as labelled rows for the call page's panel (none without metrics)."""
    m = report.metrics
    if m is None:
        return []
    latency = (
        "-"
        if m.response_latency_mean is None
        else f"{m.response_latency_mean:.1f} / {m.response_latency_max:.1f} 秒({m.responses} 次)"
    )
    monologue = fmt_seconds(m.longest_agent_monologue)
    if m.longest_agent_monologue_start is not None and m.longest_agent_monologue:
        monologue += f"(自 {fmt_time(m.longest_agent_monologue_start)})"
    start, end = LEVEL_LABELS[m.customer_emotion_start], LEVEL_LABELS[m.customer_emotion_end]
    scores = ""
    if m.customer_score_start is not None and m.customer_score_end is not None:
        scores = f"(分值 {m.customer_score_start:g} → {m.customer_score_end:g})"
    rows = [
        ("agent_talk_ratio", fmt_rate(m.agent_talk_ratio) + f"({m.agent_talk:.1f} 秒)", False),
        ("customer_talk_ratio", fmt_rate(m.customer_talk_ratio) + f"({m.customer_talk:.1f} 秒)", False),
        ("non_talk", fmt_seconds(m.non_talk), False),
        ("non_talk_share", fmt_rate(m.non_talk_share), False),
        ("longest_agent_monologue", monologue, False),
        ("response_latency", latency, False),
        ("overtalk", f"{m.overtalk_count} 次 · {m.overtalk_seconds:.1f} 秒", False),
        ("holds", f"{m.hold_count} 次 · {m.hold_seconds:.1f} 秒", False),
        ("customer_emotion", f"{start} → {end}{scores}", m.emotion_trend == "worse"),
        ("ended_upset", yes_no(m.ended_upset), m.ended_upset),
        ("customer_cut_off", yes_no(m.customer_cut_off), m.customer_cut_off),
    ]
    return [MetricRow(key, METRIC_LABELS[key], value, alert) for key, value, alert in rows]


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


@dataclass
class BatchStats:
    calls: int
    scored: int
    failed: int
    passed: int
    fatal: int
    findings: int
    mean_score: float | None
    pass_rate: float | None
    ended_upset_rate: float | None = None  # share of scored calls with metrics whose customer ended upset
    agent_talk_ratio: float | None = None  # mean over scored calls with metrics
    response_latency: float | None = None  # mean of the calls' mean response latency


def batch_stats(reports: list[CallReport]) -> BatchStats:
    """Pass rate and mean score count scored calls only; failed calls have no score."""
    scored = [r for r in reports if r.status == "scored"]
    passed = sum(bool(r.passed) for r in scored)
    scores = [r.score for r in scored if r.score is not None]
    measured = [r.metrics for r in scored if r.metrics is not None]
    return BatchStats(
        calls=len(reports),
        scored=len(scored),
        failed=len(reports) - len(scored),
        passed=passed,
        fatal=sum(r.fatal for r in scored),
        findings=sum(len(r.findings) for r in scored),
        mean_score=sum(scores) / len(scores) if scores else None,
        pass_rate=passed / len(scored) if scored else None,
        ended_upset_rate=_mean([float(m.ended_upset) for m in measured]),
        agent_talk_ratio=_mean([m.agent_talk_ratio for m in measured if m.agent_talk_ratio is not None]),
        response_latency=_mean([m.response_latency_mean for m in measured if m.response_latency_mean is not None]),
    )


@dataclass
class AgentRow:
    agent: str
    calls: int
    mean_score: float | None
    pass_rate: float | None
    findings: int
    fatal: int
    failed: int
    agent_talk_ratio: float | None = None
    response_latency: float | None = None
    ended_upset_rate: float | None = None


def agent_rows(reports: list[CallReport]) -> list[AgentRow]:
    """One row per agent (scored calls; failed ones counted apart), sorted by agent id."""
    groups: dict[str, list[CallReport]] = defaultdict(list)
    for r in reports:
        groups[r.agent_id or "未知坐席"].append(r)
    rows = []
    for agent, group in sorted(groups.items()):
        stats = batch_stats(group)
        rows.append(
            AgentRow(
                agent,
                stats.scored,
                stats.mean_score,
                stats.pass_rate,
                stats.findings,
                stats.fatal,
                stats.failed,
                stats.agent_talk_ratio,
                stats.response_latency,
                stats.ended_upset_rate,
            )
        )
    return rows
