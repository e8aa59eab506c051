"""The batch summary's plotly figures (score histogram, categories, most-hit rules)."""

from __future__ import annotations

from collections import Counter
from functools import cache

from markupsafe import Markup

from qa_engine.models import CallReport, Finding
from qa_engine.report.labels import SEVERITY_COLORS
from qa_engine.rulefile import RuleSet

FONT_STACK = '"PingFang SC", "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", sans-serif'
TOP_RULES = 20


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
