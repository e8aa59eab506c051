"""Every label a person reads, in one place: speakers, severities, match modes, verdicts,
times and points, the one-line finding, and the category costs.

The console, the HTML pages, the streaming client (`qa stream`), `qa rules diff` and
`qa calibrate` all take their words from here, so a label changes in one place.
"""

from __future__ import annotations

from collections.abc import Callable

from qa_engine.kinds import match_mode_labels
from qa_engine.models import CallReport, Finding

SEVERITY_RANK = {"info": 0, "minor": 1, "major": 2, "critical": 3}
SEVERITY_LABELS = {"info": "提示", "minor": "轻微", "major": "严重", "critical": "致命"}
SEVERITY_COLORS = {"info": "#1677ff", "minor": "#d4a106", "major": "#fa8c16", "critical": "#f5222d"}
SPEAKER_LABELS = {"agent": "客服", "customer": "客户", "unknown": "未知"}
MODE_LABELS = match_mode_labels()
WHOLE_CALL = "全通话"  # a finding about the whole call rather than one moment
PASSED, NOT_PASSED, FATAL, FAILED = "合格", "不合格", "一票否决", "失败"


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


def speaker_label(speaker: str | None) -> str:
    return SPEAKER_LABELS.get(speaker or "", "-")


def pass_label(passed: bool | None) -> str:
    return PASSED if passed else NOT_PASSED


def verdict(report: CallReport) -> tuple[str, str]:
    """The Chinese verdict and its CSS class; a fatal finding overrides the score."""
    if report.status == "failed":
        return FAILED, "failed"
    if report.fatal:
        return FATAL, "fatal"
    return (PASSED, "pass") if report.passed else (NOT_PASSED, "fail")


def finding_title(finding: Finding) -> str:
    """Tooltip text: what the rule says and what it cost."""
    return f"{finding.rule_id} · {finding.message} · 扣 {finding.deduction:g} 分"


def evidence_words(finding: Finding) -> str:
    """The evidence in corner brackets, or nothing when the finding has none."""
    return f"「{finding.evidence.text}」" if finding.evidence else ""


def finding_line(finding: Finding, category_label: str) -> str:
    """A finding on one line: time, speaker, category, rule, cost, message, words, how it matched."""
    when = f"{finding.start:7.1f}s" if finding.start is not None else f"   {WHOLE_CALL}"
    return (
        f"{when} {speaker_label(finding.speaker)} [{category_label}] {finding.rule_id} -{finding.deduction:g}: "
        f"{finding.message} {evidence_words(finding)} ({finding.match.mode}: {finding.match.detail})"
    )


def category_costs(report: CallReport, category_label: Callable[[str], str]) -> list[str]:
    """The categories that cost points, costliest first, as 'label -points'."""
    items = sorted(report.category_deductions.items(), key=lambda kv: -kv[1])
    return [f"{category_label(category)} -{points:g}" for category, points in items if points]


LEVEL_LABELS = {"calm": "平静", "upset": "不满", "angry": "愤怒", None: "-"}
"""The customer's emotion level (qa_engine.emotion.LEVELS)."""

EMOTION_CURVE = "客户情绪"
LOUD_TURN = "音量高"
METRIC_LABELS = {
    "agent_talk_ratio": "客服说话占比",
    "customer_talk_ratio": "客户说话占比",
    "non_talk": "静默时长",
    "non_talk_share": "静默占比",
    "longest_agent_monologue": "客服最长独白",
    "response_latency": "响应时延(均值/最大)",
    "overtalk": "抢话重叠",
    "holds": "保持等待",
    "customer_emotion": "客户情绪(开始→结束)",
    "ended_upset": "结束时客户仍不满",
    "customer_cut_off": "客户话未说完即结束",
}
"""The call page's metrics panel and the batch summary's per-agent columns."""
AGENT_METRIC_LABELS = {
    "agent_talk_ratio": "客服说话占比(均值)",
    "response_latency": "响应时延(均值)",
    "ended_upset_rate": "客户不满结束占比",
}


def fmt_seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} 秒"


def yes_no(value: bool | None) -> str:
    return "-" if value is None else ("是" if value else "否")


def loud_title(delta_db: float, threshold: float) -> str:
    """Tooltip of a loud turn on the timeline."""
    return f"{LOUD_TURN}:高于本人基线 {delta_db:.1f} dB(阈值 {threshold:g} dB)"
