"""Conversation metrics of one call: talk time and ratio, non-talk time, the longest agent
monologue, response latency, overtalk, holds, and the customer's emotion from start to end.

Computed from the utterances' times (dual-channel calls give real overlaps) and the
per-utterance emotions, once per call when it closes; the `metric` rule kind puts
thresholds on them. Definitions (all in seconds):

- talk time: the union of a speaker's utterance spans (overlapping turns count once);
  ratio: a speaker's talk over both speakers' talk;
- non-talk: the call's duration (0 to the last end) minus the time anyone speaks;
- agent monologue: agent speech from its start to its end with no customer utterance of
  at least `min_chars` characters starting in between (backchannels do not interrupt it) and no silence of `hold_min_gap`;
- response latency: after each customer turn whose next turn is the agent's, the gap from
  the customer's end to the agent's start (an agent who starts early answers at 0);
- overtalk: an agent and a customer utterance that overlap by at least `overtalk_min` s;
- hold: a silence of at least `hold_min_gap` s after an agent turn asking the customer to
  wait (稍等, 请稍候 …);
- customer emotion at start and end: the highest level among the first and the last
  `trend_turns` customer utterances of at least `min_chars` characters, their mean scores
  and the trend; ended upset: the last of them is upset or angry;
- customer cut off: the call's last utterance is a customer's of at least `min_chars`
  characters that is no closing (再见, 谢谢, 好的 …), i.e. the agent ended the call while
  the customer was still speaking (on a transcript this is the nearest observable sign).
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from qa_engine.lexicons import Phrases
from qa_engine.models import CallMetrics, Utterance, UtteranceEmotion
from qa_engine.text import AnalyzedText, compact_form

LEVEL_ORDER = ("calm", "upset", "angry")
METRIC_NAMES = tuple(
    name for name, info in CallMetrics.model_fields.items() if name not in ("longest_agent_monologue_start",)
)


class MetricsConfig(BaseModel):
    """The rule file's `metrics:` section: how the conversation metrics are measured."""

    model_config = ConfigDict(extra="forbid")

    min_chars: int = Field(default=4, ge=1, description="Shorter turns are backchannels (嗯, 好的) ...")
    backchannel_max_s: float = Field(default=1.5, gt=0, description="... unless they last at least this long")
    overtalk_min: float = Field(default=0.5, ge=0, description="Overlap that counts as overtalk, seconds")
    hold_min_gap: float = Field(default=5.0, gt=0, description="Silence after a hold request that counts as a hold")
    hold_phrases: Phrases = Field(default_factory=lambda: ["稍等", "请稍候", "稍候", "等一下", "等一会", "查一下", "帮您查"])
    closing_phrases: Phrases = Field(
        default_factory=lambda: ["再见", "拜拜", "谢谢", "感谢", "好的", "好", "行", "嗯", "没有了", "没事了", "可以"]
    )
    trend_turns: int = Field(default=3, ge=1, description="Customer turns at each end of the call for the trend")


def _union(spans: list[tuple[float, float]]) -> float:
    total, current_start, current_end = 0.0, None, None
    for start, end in sorted(spans):
        if current_end is None or start > current_end:
            if current_end is not None:
                total += current_end - current_start
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    if current_end is not None:
        total += current_end - current_start
    return total


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def compute_metrics(
    utterances: Sequence[Utterance],
    analyses: Sequence[AnalyzedText],
    emotions: Sequence[UtteranceEmotion],
    config: MetricsConfig | None = None,
) -> CallMetrics:
    config = config or MetricsConfig()
    order = sorted(range(len(utterances)), key=lambda i: (utterances[i].start, utterances[i].end))
    duration = max((u.end for u in utterances), default=0.0)
    agent = [(u.start, u.end) for u in utterances if u.speaker == "agent"]
    customer = [(u.start, u.end) for u in utterances if u.speaker == "customer"]
    agent_talk, customer_talk = _union(agent), _union(customer)
    both = agent_talk + customer_talk
    anyone = _union([(u.start, u.end) for u in utterances])
    non_talk = max(0.0, duration - anyone)
    metrics = CallMetrics(
        duration=round(duration, 3),
        agent_talk=round(agent_talk, 3),
        customer_talk=round(customer_talk, 3),
        agent_talk_ratio=_r(agent_talk / both) if both else None,
        customer_talk_ratio=_r(customer_talk / both) if both else None,
        non_talk=round(non_talk, 3),
        non_talk_share=_r(non_talk / duration) if duration else None,
    )
    # A turn is substantial by its length in characters or in time (a masked number is short text, long speech).
    substantial = [
        len(analyses[i].compact) >= config.min_chars or utterances[i].end - utterances[i].start >= config.backchannel_max_s
        for i in range(len(utterances))
    ]

    # Longest agent monologue: agent speech not broken by a substantial customer turn.
    best, best_start, run_start, run_end = 0.0, None, None, None
    for i in order:
        u = utterances[i]
        if u.speaker == "agent":
            if run_start is not None and u.start - run_end >= config.hold_min_gap:
                run_start = None  # a hold or dead air ends a monologue
            if run_start is None:
                run_start, run_end = u.start, u.end
            else:
                run_end = max(run_end, u.end)
            if run_end - run_start > best:
                best, best_start = run_end - run_start, run_start
        elif u.speaker == "customer" and substantial[i]:
            run_start = run_end = None
    metrics.longest_agent_monologue = round(best, 3)
    metrics.longest_agent_monologue_start = _r(best_start)

    # Response latency: customer turn, then the agent.
    latencies = []
    for position, i in enumerate(order[:-1]):
        u, nxt = utterances[i], utterances[order[position + 1]]
        if u.speaker == "customer" and substantial[i] and nxt.speaker == "agent":
            latencies.append(max(0.0, nxt.start - u.end))
    metrics.responses = len(latencies)
    if latencies:
        metrics.response_latency_mean = _r(sum(latencies) / len(latencies))
        metrics.response_latency_max = _r(max(latencies))

    # Overtalk: agent/customer pairs that overlap.
    count, seconds = 0, 0.0
    for a_start, a_end in agent:
        for c_start, c_end in customer:
            overlap = min(a_end, c_end) - max(a_start, c_start)
            if overlap >= config.overtalk_min and overlap > 0:
                count += 1
                seconds += overlap
    metrics.overtalk_count, metrics.overtalk_seconds = count, round(seconds, 3)

    # Holds: silence after an agent's hold request.
    holds = [compact_form(p) for p in config.hold_phrases]
    holds = [p for p in holds if p]
    hold_count, hold_seconds, latest_end = 0, 0.0, 0.0
    for position, i in enumerate(order):
        u = utterances[i]
        latest_end = max(latest_end, u.end)
        if u.speaker != "agent" or position + 1 >= len(order):
            continue
        if any(p in analyses[i].compact for p in holds):
            gap = utterances[order[position + 1]].start - latest_end
            if gap >= config.hold_min_gap:
                hold_count += 1
                hold_seconds += gap
    metrics.hold_count, metrics.hold_seconds = hold_count, round(hold_seconds, 3)

    # The customer's emotion from start to end.
    by_index = {e.index: e for e in emotions}
    said = [i for i in order if utterances[i].speaker == "customer" and substantial[i] and i in by_index]
    levels = [by_index[i].level for i in said]
    metrics.customer_upset_utterances = sum(level != "calm" for level in levels)
    metrics.customer_peak_level = max(levels, key=LEVEL_ORDER.index, default="calm")
    if said:
        first, last = said[: config.trend_turns], said[-config.trend_turns :]
        metrics.customer_emotion_start = max((by_index[i].level for i in first), key=LEVEL_ORDER.index)
        metrics.customer_emotion_end = max((by_index[i].level for i in last), key=LEVEL_ORDER.index)
        metrics.customer_score_start = round(sum(by_index[i].score for i in first if by_index[i].label != "satisfied") / len(first), 2)
        metrics.customer_score_end = round(sum(by_index[i].score for i in last if by_index[i].label != "satisfied") / len(last), 2)
        start_rank = LEVEL_ORDER.index(metrics.customer_emotion_start)
        end_rank = LEVEL_ORDER.index(metrics.customer_emotion_end)
        metrics.emotion_trend = "worse" if end_rank > start_rank else "better" if end_rank < start_rank else "same"
        metrics.ended_upset = by_index[said[-1]].level != "calm"
    if order:
        last = order[-1]
        closing = [compact_form(p) for p in config.closing_phrases]
        text = analyses[last].compact
        closes = any(p and (text == p or text.endswith(p)) for p in closing)
        metrics.customer_cut_off = utterances[last].speaker == "customer" and substantial[last] and not closes
    return metrics
