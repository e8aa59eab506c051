"""Timeline geometry: both speakers' turns, dead air and findings as inline-SVG rectangles."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from qa_engine.emotion import EmotionConfig
from qa_engine.models import CallReport, CallTranscript, Finding, Utterance
from qa_engine.report.html.views import worst_severity
from qa_engine.report.labels import (
    EMOTION_CURVE,
    LEVEL_LABELS,
    SPEAKER_LABELS,
    finding_title,
    fmt_time,
    loud_title,
)
from qa_engine.rulefile import RuleSet

DEFAULT_GAP = 10.0
TL_WIDTH = 1000.0
TL_LEFT = 52.0
TL_RIGHT = 14.0
TL_LANE = 24.0
TL_LANE_GAP = 8.0
TL_ROW = 12.0
TL_TOP = 22.0
TL_EMOTION = 56.0  # height of the customer-emotion band under the lanes


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
class EmotionPoint:
    x: float
    y: float
    level: str
    title: str
    href: str
    seek: float


@dataclass
class EmotionCurve:
    """The customer's emotion score per utterance (at its middle) drawn as a line in a band."""

    y: float  # top of the band
    h: float
    label: str
    path: str  # SVG polyline points
    points: list[EmotionPoint] = field(default_factory=list)
    levels: list[tuple[float, str]] = field(default_factory=list)  # threshold lines: (y, label)


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
    emotion: EmotionCurve | None = None
    loud: list[Rect] = field(default_factory=list)

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


def _emotion_curve(tl: Timeline, utterances: list[Utterance], report: CallReport, config: EmotionConfig, top: float) -> EmotionCurve | None:
    """Each customer utterance's upset score (0 for calm ones and contentment) over time."""
    by_index = {e.index: e for e in report.emotions}
    said = [(n, u) for n, u in enumerate(utterances) if u.speaker == "customer"]
    if not said:
        return None
    def upset_score(n: int) -> tuple[float, str]:
        e = by_index.get(n)
        if e is None or e.label == "satisfied":
            return 0.0, "calm"
        return e.score, e.level
    scores = [upset_score(n) for n, _ in said]
    ceiling = max(config.angry_at * 1.2, *(s for s, _ in scores))
    inner_top, inner_h = top + 4, TL_EMOTION - 8

    def y(score: float) -> float:
        return round(inner_top + inner_h * (1 - score / ceiling), 2)

    curve = EmotionCurve(top, TL_EMOTION, EMOTION_CURVE, "")
    curve.levels = [(y(config.upset_at), LEVEL_LABELS["upset"]), (y(config.angry_at), LEVEL_LABELS["angry"])]
    for (n, u), (score, level) in zip(said, scores, strict=True):
        e = by_index.get(n)
        detail = e.describe() if e is not None else LEVEL_LABELS["calm"]
        title = f"{fmt_time(u.start)} {SPEAKER_LABELS['customer']} {detail}\n{u.text}"
        curve.points.append(EmotionPoint(tl.x((u.start + u.end) / 2), y(score), level, title, f"#u{n}", u.start))
    curve.path = " ".join(f"{p.x},{p.y}" for p in curve.points)
    return curve


def _loud_marks(tl: Timeline, report: CallReport, config: EmotionConfig, lane_y: dict[str, float]) -> None:
    """A red cap over every turn whose loudness is the rule file's `loud_db` above the speaker's baseline."""
    for e in report.emotions:
        voice = e.voice
        if voice is None or voice.loudness_delta_db is None or voice.loudness_delta_db < config.voice.loud_db:
            continue
        if e.speaker not in lane_y:
            continue
        width = max(tl.x(e.end) - tl.x(e.start), 3.0)
        tl.loud.append(
            Rect(tl.x(e.start), lane_y[e.speaker] - 5, width, 4, "loud", loud_title(voice.loudness_delta_db, config.voice.loud_db), f"#u{e.index}", e.start)
        )


def build_timeline(
    transcript: CallTranscript | None, report: CallReport, threshold: float, emotion: EmotionConfig | None = None
) -> Timeline:
    """Both speakers' turns as bars on lanes (loud turns capped in red), dead air hatched, the
    customer's emotion curve under the lanes, findings in rows below."""
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
    emotion = emotion or EmotionConfig()
    _loud_marks(tl, report, emotion, lane_y)
    tl.emotion = _emotion_curve(tl, utterances, report, emotion, lanes_bottom + 10)
    tl.marks_y = (tl.emotion.y + tl.emotion.h if tl.emotion else lanes_bottom) + 12
    tl.axis_y = tl.marks_y + _finding_marks(tl, report) * (TL_ROW + 3) + 6
    step = tick_step(duration)
    tl.ticks = [(tl.x(t * step), fmt_time(t * step)[:-2]) for t in range(int(duration // step) + 1)]
    tl.height = tl.axis_y + 20
    return tl
