"""Throughput of the default rule set on generated calls, against a naive baseline.

Prints calls per second on one core, per-utterance feed latency p50/p99 in a live
session, and the same for the simplest alternative: Python substring search of every
phrase of every phrase rule, exact matching only. Targets (issue 2): >= 100 calls/s per
core with pinyin and fuzzy matching on; per-utterance p99 < 5 ms.

    python bench/throughput.py [--calls 1000] [--utterances 60] [--seed 7] [--rules FILE]
        [--compare-rules tests/fixtures/compat/release-0.1-default.yaml]

`--compare-rules` times a second rule file on the same calls in the same run (e.g. the
previous release's default set) and prints the ratio.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa_engine import Engine, load_rules  # noqa: E402
from qa_engine.models import CallTranscript, Utterance  # noqa: E402
from qa_engine.text import to_simplified  # noqa: E402

AGENT = [
    "好的，我帮您查询一下", "请问您的运单号是多少", "您的快递已经到达{city}分拨中心", "预计{day}送达",
    "麻烦您稍等片刻，好吗", "谢谢等待", "派件员会在{time}联系您", "这边给您登记了", "非常抱歉给您带来不便",
    "我们会尽快处理", "请您保持电话畅通", "收件地址是{city}市{road}路吗", "已经为您加急处理",
    "您可以在小程序上查看物流", "理赔需要提供{doc}", "运费是{num}元", "这个情况我们已经反馈给网点",
]
AGENT_BAD = [
    "你找领导去", "我也没有办法啊", "不行就是不行", "你知道吗", "明天一定到", "我不知道", "这个不归我们管",
    "要我说多少遍你才明白", "你问我我问谁", "我是说", "不可能那么快", "刚刚不是跟你说了",
]
CUSTOMER = [
    "我的快递到哪了", "已经{num}天了还没到", "单号是{digits}", "能不能快一点", "我要投诉你们", "好的谢谢",
    "那我{day}在家", "地址是{city}市{road}路", "东西很急", "怎么又延误了", "嗯", "可以", "为什么这么慢",
]
FILL = {
    "city": ["上海", "北京", "广州", "成都", "杭州", "南京"], "day": ["明天", "后天", "今天下午", "周六"],
    "time": ["上午十点", "下午三点", "晚上七点"], "road": ["曹安", "中山", "人民", "建设"],
    "doc": ["发票", "照片", "运单"], "num": ["三", "五", "十二", "两"], "digits": ["七五三一二零八八六", "九九八七六五四三"],
}


def sentence(rng: random.Random, pool: list[str]) -> str:
    text = rng.choice(pool)
    for key, values in FILL.items():
        text = text.replace("{" + key + "}", rng.choice(values))
    return text


def generate_call(rng: random.Random, index: int, utterances: int) -> CallTranscript:
    """A varied call: 1-3 sentences a turn, some violations, some traditional script, overlaps and gaps."""
    clock = 0.0
    turns = [Utterance(speaker="agent", start=0.0, end=3.5, text="您好，中通速递，工号三零八为您服务")]
    clock = 3.5
    for turn in range(1, utterances - 1):
        speaker = "customer" if turn % 2 else "agent"
        pool = CUSTOMER if speaker == "customer" else (AGENT_BAD if rng.random() < 0.08 else AGENT)
        text = "，".join(sentence(rng, pool if i == 0 else (CUSTOMER if speaker == "customer" else AGENT))
                        for i in range(rng.randint(1, 3)))
        if rng.random() < 0.3:
            text = text.replace("，", " ")  # speech-to-text style: no punctuation
        if rng.random() < 0.1:
            text = text.translate(str.maketrans("们说话这为导么运单还时间", "們說話這為導麼運單還時間"))
        start = clock + rng.choice([0.3, 0.5, 0.8, 1.2, -1.5 if rng.random() < 0.05 else 0.6, 12.0 if rng.random() < 0.02 else 0.4])
        start = max(0.0, start)
        end = start + len(text) * rng.uniform(0.18, 0.26)
        turns.append(Utterance(speaker=speaker, start=round(start, 2), end=round(end, 2), text=text))
        clock = max(clock, end)
    turns.append(Utterance(speaker="agent", start=clock + 0.5, end=clock + 3.5, text="感谢您的来电，再见"))
    return CallTranscript(call_id=f"gen-{index:05d}", agent_id=f"A{index % 40:03d}", utterances=turns)


class NaiveBaseline:
    """Exact substring search of every phrase of every `phrases` rule; nothing else."""

    def __init__(self, rules) -> None:
        self.phrases = [(c.spec.id, p) for c in rules.checks if c.spec.forbids_phrases for p in c.spec.phrases_used()]

    def feed(self, utterance: Utterance) -> list[tuple[str, str]]:
        text = to_simplified(utterance.text)
        return [(rule, phrase) for rule, phrase in self.phrases if phrase in text]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--utterances", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rules", type=Path, default=None, help="rule file (default: the bundled default set)")
    parser.add_argument("--compare-rules", type=Path, default=None, help="a second rule file timed on the same calls")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    rng = random.Random(args.seed)
    calls = [generate_call(rng, i, args.utterances) for i in range(args.calls)]
    total_utterances = sum(len(c.utterances) for c in calls)
    rules = load_rules(args.rules)
    engine = Engine(rules)
    engine.score(calls[0])  # warm caches and the tokenizer, as a running service would be

    started = time.perf_counter()
    findings = sum(len(engine.score(call).findings) for call in calls)
    engine_seconds = time.perf_counter() - started

    latencies = []
    for call in calls:
        session = engine.session(call.call_id)
        for utterance in call.utterances:
            t0 = time.perf_counter()
            session.feed(utterance)
            latencies.append(time.perf_counter() - t0)
        session.close()

    baseline = NaiveBaseline(rules)
    started = time.perf_counter()
    base_hits = 0
    base_latencies = []
    for call in calls:
        for utterance in call.utterances:
            t0 = time.perf_counter()
            base_hits += len(baseline.feed(utterance))
            base_latencies.append(time.perf_counter() - t0)
    baseline_seconds = time.perf_counter() - started

    print(f"calls: {len(calls)}  utterances: {total_utterances} (~{total_utterances / len(calls):.0f}/call)  rules: {len(rules.checks)}")
    print(f"engine (exact+pinyin+fuzzy, all {len(rules.checks)} rules): {len(calls) / engine_seconds:8.1f} calls/s on one core  "
          f"({findings} findings)")
    print(f"  per-utterance feed latency: p50 {percentile(latencies, 0.5) * 1000:.3f} ms  "
          f"p99 {percentile(latencies, 0.99) * 1000:.3f} ms  max {max(latencies) * 1000:.3f} ms")
    print(f"naive baseline (exact substring, phrase rules only): {len(calls) / baseline_seconds:8.1f} calls/s  "
          f"({base_hits} hits)  p50 {statistics.median(base_latencies) * 1000:.3f} ms  "
          f"p99 {percentile(base_latencies, 0.99) * 1000:.3f} ms")
    print(f"engine / baseline time ratio: {engine_seconds / baseline_seconds:.1f}x slower, for "
          f"{len(rules.checks)} rule checks (incl. pinyin, fuzzy, tokens) vs exact phrase search")
    if args.compare_rules is not None:
        # Interleaved, call by call, so a busy machine slows both rule sets alike.
        other = Engine(load_rules(args.compare_rules))
        other.score(calls[0])
        this_seconds = other_seconds = 0.0
        for call in calls:
            t0 = time.perf_counter()
            engine.score(call)
            t1 = time.perf_counter()
            other.score(call)
            this_seconds += t1 - t0
            other_seconds += time.perf_counter() - t1
        print(f"interleaved: this rule set {len(calls) / this_seconds:8.1f} calls/s, {args.compare_rules} "
              f"{len(calls) / other_seconds:8.1f} calls/s: this one runs at {other_seconds / this_seconds:.2f}x its speed")
    verdict = "PASS" if len(calls) / engine_seconds >= 100 and percentile(latencies, 0.99) < 0.005 else "MISS"
    print(f"target >= 100 calls/s and p99 < 5 ms: {verdict}")


if __name__ == "__main__":
    main()
