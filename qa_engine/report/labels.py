"""Every label a person reads, in one place: speakers, severities, match modes, verdicts,
times and points, the one-line finding, and the category costs.

The console, the HTML pages, the streaming client (`qa stream`), `qa rules diff` and
`qa calibrate` all take their words from here, so a label changes in one place.
"""

from __future__ import annotations

from qa_engine.kinds import match_mode_labels
from qa_engine.models import CallReport, Finding

SEVERITY_RANK = {"info": 0, "minor": 1, "major": 2, "critical": 3}
SEVERITY_LABELS = {"info": "提示", "minor": "轻微", "major": "严重", "critical": "致命"}
SEVERITY_COLORS = {"info": "#1677ff", "minor": "#d4a106", "major": "#fa8c16", "critical": "#f5222d"}
SPEAKER_LABELS = {"agent": "客服", "customer": "客户", "unknown": "未知"}
MODE_LABELS = match_mode_labels()
WHOLE_CALL = "全通话"


def fmt_time(seconds: float | None) -> str:
    """Seconds as mm:ss.s, the way call recordings are usually navigated."""
    if seconds is None:
        return WHOLE_CALL
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


def finding_title(finding: Finding) -> str:
    """Tooltip text: what the rule says and what it cost."""
    return f"{finding.rule_id} · {finding.message} · 扣 {finding.deduction:g} 分"
