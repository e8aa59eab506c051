"""Timeline geometry: both speakers' turns, dead air and findings as inline-SVG rectangles."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from qa_engine.models import CallReport, CallTranscript, Finding, Utterance
from qa_engine.report.html.views import worst_severity
from qa_engine.report.labels import SPEAKER_LABELS, finding_title, fmt_time
from qa_engine.rulefile import RuleSet

DEFAULT_GAP = 10.0
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
