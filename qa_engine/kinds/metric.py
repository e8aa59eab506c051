"""`metric`: a threshold on a conversation metric of the whole call.

Why: commercial engines report conversation characteristics (talk ratio, non-talk time,
response latency, overtalk, holds) and QA leads put limits on them: an agent who talks
80 % of the call is not listening (LARA's first step), a customer left five seconds
without an answer is waiting, a call that ends while the customer is still upset was not
resolved. The metrics (`qa_engine.metrics`, measured as the rule file's `metrics:`
section says) are computed once when the call closes; this rule fires once when
`metric` is `above` or `below` its threshold, or, for a yes/no metric
(`ended_upset`, `customer_cut_off`), when it is true.

```yaml
- id: metric.agent_talk_ratio
  kind: metric
  category: listening
  message: 客服说话占比过高,未倾听客户
  metric: agent_talk_ratio
  above: 0.8
  examples:
    hit: [["0-20 A: 您好我跟您说一下这个情况我们这边的规定是这样的", "20-22 C: 嗯嗯好的我知道了"]]
    miss: [["0-5 A: 您好请问有什么可以帮您", "5-15 C: 我的快递三天了还没到到底怎么回事"]]
```
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from qa_engine.kinds.base import CallState, Check, RuleSpec, SpecError
from qa_engine.kinds.registry import register
from qa_engine.metrics import compute_metrics
from qa_engine.models import CallMetrics, Finding, MatchInfo

MetricName = Literal[
    "duration",
    "agent_talk",
    "customer_talk",
    "agent_talk_ratio",
    "customer_talk_ratio",
    "non_talk",
    "non_talk_share",
    "longest_agent_monologue",
    "response_latency_mean",
    "response_latency_max",
    "overtalk_count",
    "overtalk_seconds",
    "hold_count",
    "hold_seconds",
    "customer_upset_utterances",
    "ended_upset",
    "customer_cut_off",
]
FLAGS = ("ended_upset", "customer_cut_off")

LABELS = {
    "duration": "通话时长(秒)",
    "agent_talk": "客服说话时长(秒)",
    "customer_talk": "客户说话时长(秒)",
    "agent_talk_ratio": "客服说话占比",
    "customer_talk_ratio": "客户说话占比",
    "non_talk": "静默时长(秒)",
    "non_talk_share": "静默占比",
    "longest_agent_monologue": "客服最长独白(秒)",
    "response_latency_mean": "客服平均响应时延(秒)",
    "response_latency_max": "客服最大响应时延(秒)",
    "overtalk_count": "抢话/重叠次数",
    "overtalk_seconds": "重叠时长(秒)",
    "hold_count": "保持次数",
    "hold_seconds": "保持时长(秒)",
    "customer_upset_utterances": "客户不满语句数",
    "ended_upset": "通话结束时客户仍不满",
    "customer_cut_off": "客户仍在说话时通话结束",
}


class MetricSpec(RuleSpec):
    kind: Literal["metric"]
    metric: MetricName = Field(description="The call metric judged (see qa_engine.metrics)")
    above: float | None = Field(default=None, description="Fires when the metric is greater than this")
    below: float | None = Field(default=None, description="Fires when the metric is less than this")

    @model_validator(mode="after")
    def _one_threshold(self) -> MetricSpec:
        if self.metric in FLAGS:
            if self.above is not None or self.below is not None:
                raise SpecError(("above",), f"{self.metric} is yes/no: it fires when true, without above/below")
        elif (self.above is None) == (self.below is None):
            raise SpecError(("metric",), f"give exactly one of above/below for {self.metric}")
        return self

    def tunable_thresholds(self) -> dict[str, float]:
        return {name: value for name in ("above", "below") if (value := getattr(self, name)) is not None}

    def restricts_speaker(self) -> bool:
        return True  # every metric but duration compares the two roles


@register
class MetricCheck(Check[MetricSpec]):
    match_modes = {"metric": "通话指标"}
    judges_both_roles = True

    def close(self, call: CallState) -> list[Finding]:
        metrics: CallMetrics = call.metrics or compute_metrics(call.utterances, call.analyses, call.emotions)
        value = getattr(metrics, self.spec.metric)
        label = LABELS[self.spec.metric]
        if self.spec.metric in FLAGS:
            if not value:
                return []
            detail = label
            start = metrics.duration
        else:
            if value is None:
                return []
            if self.spec.above is not None and value > self.spec.above:
                detail = f"{label} {value:g} > {self.spec.above:g}"
            elif self.spec.below is not None and value < self.spec.below:
                detail = f"{label} {value:g} < {self.spec.below:g}"
            else:
                return []
            start = metrics.longest_agent_monologue_start if self.spec.metric == "longest_agent_monologue" else None
        info = MatchInfo(mode="metric", score=None if isinstance(value, bool) else float(value), detail=detail)
        return [self.finding(call, None, info, start=start)]
