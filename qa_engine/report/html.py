"""Readable HTML reports: one self-contained page per call and a batch summary page.

Pages open from disk with no network: CSS and the little JavaScript are inline, and the
summary embeds plotly.js once. Transcripts are user data, so every string goes through
Jinja's autoescaping or `markupsafe.escape`; nothing user-supplied is put into a script.

    writer = HtmlReportWriter(Path("qa-html"), rules)
    for report, transcript, audio in scored:
        writer.add(report, transcript, audio)
    writer.finish()   # index.html + calls.csv
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from qa_engine.fsutil import safe_name, write_atomic
from qa_engine.kinds import match_mode_labels
from qa_engine.models import CallReport, CallTranscript, Finding, Utterance
from qa_engine.report.writer import CSV_COLUMNS, csv_row
from qa_engine.rulefile import RuleSet

TEMPLATES = Path(__file__).parent / "templates"

SEVERITY_RANK = {"info": 0, "minor": 1, "major": 2, "critical": 3}
SEVERITY_LABELS = {"info": "提示", "minor": "轻微", "major": "严重", "critical": "致命"}
SEVERITY_COLORS = {"info": "#1677ff", "minor": "#d4a106", "major": "#fa8c16", "critical": "#f5222d"}
SPEAKER_LABELS = {"agent": "客服", "customer": "客户", "unknown": "未知"}
MODE_LABELS = match_mode_labels()
FONT_STACK = '"PingFang SC", "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", sans-serif'
DEFAULT_GAP = 10.0
RESERVED_STEMS = frozenset({"index"})
CSV_ENCODING = "utf-8-sig"  # the BOM makes Excel read the Chinese columns correctly
WORST_CALLS = 10
TOP_RULES = 20


# ---------------------------------------------------------------- formatting helpers


def fmt_time(seconds: float | None) -> str:
    """Seconds as mm:ss.s, the way call recordings are usually navigated."""
    if seconds is None:
        return "全通话"
    minutes, rest = divmod(max(seconds, 0.0), 60)
    return f"{int(minutes):02d}:{rest:04.1f}"


def fmt_points(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def fmt_rate(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def verdict(report: CallReport) -> tuple[str, str]:
    """The Chinese verdict and its CSS class; a fatal finding overrides the score."""
    if report.status == "failed":
        return "失败", "failed"
    if report.fatal:
        return "一票否决", "fatal"
    return ("合格", "pass") if report.passed else ("不合格", "fail")


def worst_severity(findings: Iterable[Finding]) -> str | None:
    ranked = sorted(findings, key=lambda f: SEVERITY_RANK[f.severity])
    return ranked[-1].severity if ranked else None


def finding_title(finding: Finding) -> str:
    """Tooltip text: what the rule says and what it cost."""
    return f"{finding.rule_id} · {finding.message} · 扣 {finding.deduction:g} 分"


# ---------------------------------------------------------------- evidence highlighting


@dataclass(frozen=True)
class Span:
    """One finding's evidence inside an utterance's original text."""

    start: int
    end: int
    finding: int  # index into report.findings, so page anchors and marks agree
    rule_id: str
    severity: str
    title: str


def evidence_span(finding: Finding, index: int, text: str) -> Span | None:
    """The finding's character span clamped to the text; None when there is nothing to mark."""
    if finding.evidence is None:
        return None
    start = min(max(finding.evidence.start_char, 0), len(text))
    end = min(max(finding.evidence.end_char, start), len(text))
    if start == end:
        return None
    return Span(start, end, index, finding.rule_id, finding.severity, finding_title(finding))


def _open_mark(span: Span) -> str:
    return (
        f'<mark class="hl sev-{span.severity}" data-rule-id="{escape(span.rule_id)}" '
        f'data-finding="{span.finding}" title="{escape(span.title)}">'
    )


def highlight(text: str, spans: list[Span]) -> Markup:
    """Escape `text` and wrap each span (clamped to the text) in <mark>; overlapping spans nest.

    The text is cut at every span boundary; each piece is wrapped in one <mark> per span
    covering it (outermost first). A span cut into pieces keeps its data-finding on every
    piece, so the marks of one finding still read as its evidence.
    """
    size = len(text)
    spans = [replace(s, start=min(max(s.start, 0), size), end=min(max(s.end, 0), size)) for s in spans]
    spans = [s for s in spans if s.start < s.end]
    cuts = sorted({0, size, *(s.start for s in spans), *(s.end for s in spans)})
    # Wider spans outside; on equal spans the graver one inside, so its colour shows.
    ordered = sorted(spans, key=lambda s: (s.start, -s.end, SEVERITY_RANK.get(s.severity, 0), s.finding))
    parts: list[str] = []
    for left, right in zip(cuts, cuts[1:], strict=False):
        covering = [s for s in ordered if s.start <= left and right <= s.end]
        piece = str(escape(text[left:right]))
        if len(covering) > 1:
            piece = piece.join(('<span class="overlap">', "</span>"))
        parts.append("".join(_open_mark(s) for s in covering) + piece + "</mark>" * len(covering))
    return Markup("".join(parts))


# ---------------------------------------------------------------- per-call view model


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


# ---------------------------------------------------------------- timeline (inline SVG)

TL_WIDTH = 1000.0
TL_LEFT = 52.0
TL_RIGHT = 14.0
TL_LANE = 24.0
TL_LANE_GAP = 8.0
TL_ROW = 12.0
TL_TOP = 22.0


@dataclass
class Rect:
    x: float
    y: float
    w: float
    h: float
    css: str
    title: str
    href: str = ""
    seek: float | None = None
    label: str = ""


@dataclass
class Timeline:
    width: float
    height: float
    left: float  # where second 0 is drawn
    scale: float  # viewBox units per second (also moves the playback cursor)
    lanes: list[Rect] = field(default_factory=list)
    bars: list[Rect] = field(default_factory=list)
    gaps: list[Rect] = field(default_factory=list)
    marks: list[Rect] = field(default_factory=list)
    ticks: list[tuple[float, str]] = field(default_factory=list)
    marks_y: float = 0.0
    axis_y: float = 0.0

    def x(self, seconds: float) -> float:
        return round(self.left + seconds * self.scale, 2)


def silence_threshold(rules: RuleSet) -> float:
    """Gaps are drawn from the rule set's own dead-air limit, so the picture agrees with the verdict."""
    gaps = [gap for c in rules.checks if (gap := c.spec.timeline_gap()) is not None]
    return min(gaps) if gaps else DEFAULT_GAP


def speech_gaps(utterances: list[Utterance], threshold: float) -> list[tuple[float, float]]:
    """Stretches of at least `threshold` seconds in which nobody speaks."""
    gaps = []
    spoken_until: float | None = None
    for u in sorted(utterances, key=lambda u: u.start):
        if spoken_until is not None and u.start - spoken_until >= threshold:
            gaps.append((spoken_until, u.start))
        spoken_until = u.end if spoken_until is None else max(spoken_until, u.end)
    return gaps


def tick_step(duration: float) -> float:
    return next((s for s in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600) if duration / s <= 12), 1200)


def pack_rows(items: list[tuple[float, float]], min_width: float) -> list[int]:
    """Greedy row for each interval so overlapping findings sit on separate rows."""
    row_ends: list[float] = []
    rows = []
    for start, end in items:
        end = max(end, start + min_width)
        row = next((r for r, until in enumerate(row_ends) if until <= start), len(row_ends))
        if row == len(row_ends):
            row_ends.append(end)
        row_ends[row] = end
        rows.append(row)
    return rows


def _turn_bars(
    tl: Timeline, utterances: list[Utterance], report: CallReport, lane_y: dict[str, float]
) -> None:
    """One bar per turn; turns with findings are outlined in their gravest severity."""
    by_turn: dict[int, list[Finding]] = defaultdict(list)
    for f in report.findings:
        if f.utterance_index is not None:
            by_turn[f.utterance_index].append(f)
    for n, u in enumerate(utterances):
        hit = worst_severity(by_turn.get(n, []))
        css = f"bar {u.speaker}" + (f" hit sev-{hit}" if hit else "")
        title = f"{SPEAKER_LABELS[u.speaker]} {fmt_time(u.start)}–{fmt_time(u.end)}\n{u.text}"
        width = max(tl.x(u.end) - tl.x(u.start), 1.5)
        tl.bars.append(Rect(tl.x(u.start), lane_y[u.speaker], width, TL_LANE, css, title, f"#u{n}", u.start))


def _gap_rects(
    tl: Timeline, utterances: list[Utterance], threshold: float, top: float, bottom: float
) -> None:
    for start, end in speech_gaps(utterances, threshold):
        tl.gaps.append(
            Rect(
                tl.x(start),
                top - 4,
                tl.x(end) - tl.x(start),
                bottom - top + 8,
                "gap",
                f"静默 {end - start:.1f} 秒({fmt_time(start)}–{fmt_time(end)})",
                label=f"静默 {end - start:.1f}s",
            )
        )


def _finding_marks(tl: Timeline, report: CallReport) -> int:
    """Findings with a time, packed into rows; returns the number of rows used."""
    timed = [(i, f) for i, f in enumerate(report.findings) if f.start is not None]
    spans = [(f.start or 0.0, max(f.end or 0.0, f.start or 0.0)) for _, f in timed]
    rows = pack_rows(spans, 4 / tl.scale)
    for (i, f), (start, end), row in zip(timed, spans, rows, strict=True):
        y = tl.marks_y + row * (TL_ROW + 3)
        width = max(tl.x(end) - tl.x(start), 4.0)
        title = f"{fmt_time(start)} {finding_title(f)}"
        tl.marks.append(Rect(tl.x(start), y, width, TL_ROW, f"mark sev-{f.severity}", title, f"#f{i}"))
    return max(rows, default=0) + 1


def build_timeline(transcript: CallTranscript | None, report: CallReport, threshold: float) -> Timeline:
    """Both speakers' turns as bars on lanes, dead air hatched, findings in rows below."""
    utterances = transcript.utterances if transcript else []
    ends = [report.duration, *(u.end for u in utterances), *(f.end or f.start or 0 for f in report.findings)]
    duration = max(*ends, 1.0)
    tl = Timeline(TL_WIDTH, 0.0, TL_LEFT, (TL_WIDTH - TL_LEFT - TL_RIGHT) / duration)
    speakers = ["agent", "customer"] + (
        ["unknown"] if any(u.speaker == "unknown" for u in utterances) else []
    )
    lane_y = {s: TL_TOP + n * (TL_LANE + TL_LANE_GAP) for n, s in enumerate(speakers)}
    inner = TL_WIDTH - TL_LEFT - TL_RIGHT
    tl.lanes = [
        Rect(TL_LEFT, lane_y[s], inner, TL_LANE, "lane-bg", "", label=SPEAKER_LABELS[s]) for s in speakers
    ]
    lanes_bottom = lane_y[speakers[-1]] + TL_LANE
    _turn_bars(tl, utterances, report, lane_y)
    _gap_rects(tl, utterances, threshold, TL_TOP, lanes_bottom)
    tl.marks_y = lanes_bottom + 12
    tl.axis_y = tl.marks_y + _finding_marks(tl, report) * (TL_ROW + 3) + 6
    step = tick_step(duration)
    tl.ticks = [(tl.x(t * step), fmt_time(t * step)[:-2]) for t in range(int(duration // step) + 1)]
    tl.height = tl.axis_y + 20
    return tl


# ---------------------------------------------------------------- batch summary


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


def batch_stats(reports: list[CallReport]) -> BatchStats:
    """Pass rate and mean score count scored calls only; failed calls have no score."""
    scored = [r for r in reports if r.status == "scored"]
    passed = sum(bool(r.passed) for r in scored)
    scores = [r.score for r in scored if r.score is not None]
    return BatchStats(
        calls=len(reports),
        scored=len(scored),
        failed=len(reports) - len(scored),
        passed=passed,
        fatal=sum(r.fatal for r in scored),
        findings=sum(len(r.findings) for r in scored),
        mean_score=sum(scores) / len(scores) if scores else None,
        pass_rate=passed / len(scored) if scored else None,
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
            )
        )
    return rows


def score_bins(reports: list[CallReport]) -> list[tuple[float, float, int]]:
    """Ten equal bins from 0 to the base score; the last bin includes the full score."""
    scored = [r for r in reports if r.status == "scored" and r.score is not None]
    top = max((r.base_score for r in scored), default=100.0)
    width = top / 10
    counts = [0] * 10
    for r in scored:
        counts[min(max(int((r.score or 0.0) // width), 0), 9)] += 1
    return [(n * width, (n + 1) * width, c) for n, c in enumerate(counts)]


def _layout(title: str, height: int, **extra) -> dict:
    return {
        "title": {"text": title, "x": 0.01, "font": {"size": 15}},
        "font": {"family": FONT_STACK, "size": 12, "color": "#262626"},
        "height": height,
        "margin": {"l": 60, "r": 20, "t": 46, "b": 40},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "bargap": 0.25,
        "showlegend": False,
        "xaxis": {"gridcolor": "#f0f0f0", "zeroline": False},
        "yaxis": {"gridcolor": "#f0f0f0", "zeroline": False},
        **extra,
    }


def _count_axis(title: str, largest: int) -> dict:
    """An axis of counts: whole-number ticks (plotly would otherwise label 0.5 calls)."""
    axis = {"title": {"text": title}, "gridcolor": "#f0f0f0", "rangemode": "tozero", "tickformat": ",d"}
    if largest <= 10:
        axis["dtick"] = 1
    return axis


def score_figure(reports: list[CallReport]) -> dict:
    """Histogram of scores; bins wholly at or above the pass mark are green."""
    pass_mark = next((r.pass_mark for r in reports if r.status == "scored"), 80.0)
    bins = score_bins(reports)
    colors = [
        "#52c41a" if low >= pass_mark else "#faad14" if high > pass_mark else "#ff7875"
        for low, high, _ in bins
    ]
    labels = [f"{low:g}–{high:g}" for low, high, _ in bins]
    return {
        "data": [
            {
                "type": "bar",
                "x": labels,
                "y": [c for *_, c in bins],
                "marker": {"color": colors},
                "hovertemplate": "%{x} 分: %{y} 通<extra></extra>",
            }
        ],
        "layout": _layout(
            f"得分分布(合格线 {pass_mark:g} 分)",
            320,
            xaxis={"title": {"text": "得分"}, "type": "category"},
            yaxis=_count_axis("通话数", max((c for *_, c in bins), default=0)),
        ),
    }


def category_figure(reports: list[CallReport], rules: RuleSet) -> dict:
    """Findings and points lost per category, most frequent on top."""
    counts: Counter[str] = Counter()
    points: Counter[str] = Counter()
    for r in reports:
        for f in r.findings:
            counts[f.category] += 1
            points[f.category] += f.deduction
    ordered = sorted(counts, key=lambda c: (counts[c], c))
    labels = [rules.category_label(c) for c in ordered]
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "y": labels,
                "x": [counts[c] for c in ordered],
                "customdata": [points[c] for c in ordered],
                "marker": {"color": "#1677ff"},
                "hovertemplate": "%{y}: %{x} 次, 共扣 %{customdata:g} 分<extra></extra>",
            }
        ],
        "layout": _layout(
            "各类别问题数",
            max(220, 60 + 26 * len(ordered)),
            xaxis=_count_axis("命中次数", max(counts.values(), default=0)),
            margin={"l": 110, "r": 20, "t": 46, "b": 40},
        ),
    }


def rule_figure(reports: list[CallReport]) -> dict:
    """The most frequently hit rules, coloured by severity."""
    counts: Counter[str] = Counter()
    info: dict[str, Finding] = {}
    for r in reports:
        for f in r.findings:
            counts[f.rule_id] += 1
            info.setdefault(f.rule_id, f)
    top = sorted(counts, key=lambda k: (-counts[k], k))[:TOP_RULES][::-1]
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "y": top,
                "x": [counts[k] for k in top],
                "customdata": [info[k].message for k in top],
                "marker": {"color": [SEVERITY_COLORS[info[k].severity] for k in top]},
                "hovertemplate": "%{y}: %{x} 次<br>%{customdata}<extra></extra>",
            }
        ],
        "layout": _layout(
            f"规则命中次数(前 {TOP_RULES})",
            max(220, 60 + 24 * len(top)),
            xaxis=_count_axis("命中次数", max(counts.values(), default=0)),
            yaxis={"automargin": True},
            margin={"l": 60, "r": 20, "t": 46, "b": 40},
        ),
    }


def figure_html(figure: dict, div_id: str) -> Markup:
    """A plotly div without the library (embedded once per page); plotly escapes '<' in its JSON."""
    import plotly.io as pio

    html = pio.to_html(
        figure,
        include_plotlyjs=False,
        full_html=False,
        div_id=div_id,
        validate=False,
        config={"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["lasso2d", "select2d"]},
    )
    return Markup(html)


@cache
def plotly_js() -> Markup:
    """The bundled plotly.js, inlined so the summary needs no network."""
    from plotly.offline import get_plotlyjs

    return Markup(get_plotlyjs())


# ---------------------------------------------------------------- the writer


@dataclass
class _Entry:
    report: CallReport
    page: str  # file name beside index.html


def _same_file_copy(source: Path, target: Path) -> bool:
    """An earlier run's copy is reused when it is as large as and newer than the recording."""
    if not target.exists():
        return False
    src, dst = source.stat(), target.stat()
    return src.st_size == dst.st_size and dst.st_mtime_ns >= src.st_mtime_ns


def percent_width(value: float, total: float) -> float:
    """Bar width in percent for the category subtotals (never zero, so a small cost still shows)."""
    return 0.0 if total <= 0 else round(max(value / total * 100, 2.0), 1)


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(time=fmt_time, points=fmt_points, rate=fmt_rate, href=quote)
    env.globals.update(
        severity_labels=SEVERITY_LABELS,
        speaker_labels=SPEAKER_LABELS,
        verdict=verdict,
        percent_width=percent_width,
    )
    return env


class HtmlReportWriter:
    """Writes one page per call as reports arrive, and the batch summary at the end."""

    def __init__(self, out_dir: Path, rules: RuleSet, copy_audio: bool = True, audio_redaction: str | None = None) -> None:
        """``audio_redaction`` (``silence`` | ``tone``): the player gets a redacted copy of
        the recording (`qa_engine.pii.audio`), never the original; a call whose transcript
        was not redacted, or whose copy fails, gets no player. None: the recording as is."""
        self.out_dir = Path(out_dir)
        self.rules = rules
        self.copy_audio = copy_audio
        self.audio_redaction = audio_redaction
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._entries: dict[str, _Entry] = {}
        self._stems: dict[str, str] = {}  # lower-case file stem -> call id: ids that clean alike stay apart
        self._gap = silence_threshold(rules)

    def add(self, report: CallReport, transcript: CallTranscript | None, audio: Path | None = None) -> Path:
        """Write the call's page (a short error page for a failed call) and remember it for the summary."""
        stem = self._stem(report.call_id)
        path = self.out_dir / f"{stem}.html"
        if report.status == "failed":
            html = self._render("failed.html.j2", report=report, title=f"{report.call_id} · 失败")
        else:
            html = self._call_page(report, transcript, self._place_audio(audio, stem, transcript) if audio else None)
        write_atomic(path, html)
        self._entries[report.call_id] = _Entry(report, path.name)
        return path

    def finish(self) -> Path:
        """Write index.html and calls.csv for every call added so far."""
        reports = [e.report for e in self._entries.values()]
        self._write_csv(reports)
        charts = self._charts(reports) if any(r.status == "scored" for r in reports) else []
        html = self._render(
            "index.html.j2",
            title=f"质检汇总 · {self.rules.name}",
            stats=batch_stats(reports),
            agents=agent_rows(reports),
            entries=sorted(self._entries.values(), key=lambda e: e.report.call_id),
            worst=self._worst(),
            failed=[e for e in self._entries.values() if e.report.status == "failed"],
            charts=charts,
            plotly_js=plotly_js() if charts else "",
            costs=self._costs,
        )
        path = self.out_dir / "index.html"
        write_atomic(path, html)
        return path

    # -- pieces

    def _stem(self, call_id: str) -> str:
        """safe_name of the id, suffixed when another id (or index.html) already has that name."""
        if call_id in self._entries:
            return Path(self._entries[call_id].page).stem
        base = safe_name(call_id)
        stem, n = base, 1
        # Compared in lower case: on macOS and Windows "A.html" and "a.html" are one file.
        while stem.lower() in RESERVED_STEMS or self._stems.get(stem.lower(), call_id) != call_id:
            n += 1
            stem = f"{base}-{n}"
        self._stems[stem.lower()] = call_id
        return stem

    def _place_audio(self, audio: Path, stem: str, transcript: CallTranscript | None = None) -> str | None:
        """Copy the recording under audio/ so the report folder can be moved as a whole
        (with audio redaction: write the redacted copy there instead)."""
        if self.audio_redaction is not None:
            from qa_engine.pii.audio import redact_audio
            from qa_engine.pii.redactor import RedactionError

            if transcript is None or transcript.pii is None:
                return None  # fail closed: nothing says where the personal data is
            target = self.out_dir / "audio" / f"{stem}.flac"
            try:
                redact_audio(audio, transcript, target, mode=self.audio_redaction)
            except RedactionError:
                return None
            return f"audio/{quote(target.name)}"
        if not self.copy_audio:
            return quote(Path(audio).resolve().as_uri(), safe=":/%")
        source = Path(audio)
        target = self.out_dir / "audio" / f"{stem}{source.suffix.lower()}"
        if not _same_file_copy(source, target):
            write_atomic(target, source.read_bytes())
        return f"audio/{quote(target.name)}"

    def _call_page(self, report: CallReport, transcript: CallTranscript | None, audio_src: str | None) -> str:
        rows, views = utterance_views(transcript, report, self.rules)
        return self._render(
            "call.html.j2",
            title=f"{report.call_id} · 质检报告",
            report=report,
            verdict=verdict(report),
            categories=category_rows(report, self.rules),
            utterances=rows,
            findings=views,
            turn_findings=[v for v in views if v.utterance_index is not None],
            call_findings=[v for v in views if v.utterance_index is None],
            timeline=build_timeline(transcript, report, self._gap),
            gap=self._gap,
            has_transcript=transcript is not None,
            audio_src=audio_src,
            stt_json=json.dumps(report.provenance.stt, ensure_ascii=False, indent=1)
            if report.provenance and report.provenance.stt
            else None,
        )

    def _charts(self, reports: list[CallReport]) -> list[Markup]:
        scored = [r for r in reports if r.status == "scored"]
        return [
            figure_html(score_figure(scored), "chart-scores"),
            figure_html(category_figure(scored, self.rules), "chart-categories"),
            figure_html(rule_figure(scored), "chart-rules"),
        ]

    def _worst(self) -> list[_Entry]:
        scored = [
            e for e in self._entries.values() if e.report.status == "scored" and e.report.score is not None
        ]
        return sorted(scored, key=lambda e: (e.report.score, e.report.call_id))[:WORST_CALLS]

    def _costs(self, report: CallReport) -> str:
        items = sorted(report.category_deductions.items(), key=lambda kv: -kv[1])
        return "、".join(f"{self.rules.category_label(c)} -{p:g}" for c, p in items if p)

    def _write_csv(self, reports: list[CallReport]) -> None:
        buffer = io.StringIO()
        table = csv.DictWriter(buffer, CSV_COLUMNS)
        table.writeheader()
        for report in sorted(reports, key=lambda r: r.call_id):
            table.writerow(csv_row(report))
        write_atomic(self.out_dir / "calls.csv", buffer.getvalue().encode(CSV_ENCODING))

    def _render(self, template: str, **context) -> str:
        return _environment().get_template(template).render(rules=self.rules, **context)
