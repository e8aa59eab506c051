"""Results database bench: batch writes, and the call list / agent trend on 1,000,000 findings.

    .venv/bin/python bench/db_bench.py --backend sqlite --calls 100000 --findings-per-call 10
    .venv/bin/python bench/db_bench.py --backend postgresql   # starts its own cluster (tests/dbkit.py)

1. Write: `--write-calls` generated 60-utterance calls with findings (and transcripts)
   through `Store.write_reports` in batches of 500 (what `qa score --db` does): calls/s.
2. Query: `--calls` × `--findings-per-call` findings generated over 12 weeks and 200
   agents in 10 teams; the filtered call list (team + rule + failed, first page) and one
   agent's weekly trend, p95 of 50 runs each; and the plain approach on the same calls:
   re-reading the JSON report files to answer the same two questions (one run each).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from qa_engine.models import CallReport, CallTranscript, Evidence, Finding, MatchInfo, Provenance, Utterance  # noqa: E402
from qa_engine.store import Actor, CallFilter, Store  # noqa: E402
from qa_engine.store.trends import agent_weeks  # noqa: E402

RULES = [("forbidden.taboo", "forbidden"), ("interruption.agent", "interruption"), ("dead_air.gap", "dead_air"),
         ("filler.words", "filler"), ("opener.negative", "opener"), ("greeting.missing", "greeting"),
         ("closing.missing", "closing"), ("speech_rate.fast", "speech_rate"), ("empathy.complaint_apology", "empathy"),
         ("promise.over", "promise")]
ADMIN = Actor("bench", "admin")
START = datetime(2024, 1, 1)


def make_call(i: int, findings: int, rng: random.Random, with_transcript: bool):
    utterances = [
        Utterance(speaker="agent" if k % 2 == 0 else "customer", start=k * 4.0, end=k * 4.0 + 3.5, text=f"第{k}句话,您好请问有什么可以帮您")
        for k in range(60)
    ]
    found = []
    for n in range(findings):
        rule, category = RULES[rng.randrange(len(RULES))]
        u = rng.randrange(60)
        found.append(Finding(rule_id=rule, category=category, severity="major", message="m", deduction=rng.choice([0, 2, 5, 10]),
                             speaker="agent", utterance_index=u, start=u * 4.0, end=u * 4.0 + 3.5,
                             evidence=Evidence(text="您好", start_char=3 + n % 3, end_char=5 + n % 3), match=MatchInfo(mode="exact", detail="d")))
    points = sum(f.deduction for f in found)
    score = max(0.0, 100 - points)
    report = CallReport(call_id=f"c{i:07d}", agent_id=f"A{i % 200:04d}", score=score, passed=score >= 80, duration=240,
                        utterance_count=60, findings=found, category_deductions={},
                        provenance=Provenance(engine_version="0.1.0", rules_sha256="ab" * 32, rules_name="bench"))
    transcript = CallTranscript(call_id=report.call_id, agent_id=report.agent_id, utterances=utterances) if with_transcript else None
    return report, transcript


def open_store(backend: str, folder: Path):
    if backend == "sqlite":
        return Store(f"sqlite:///{folder / 'qa.db'}"), None
    from dbkit import PgCluster

    cluster = PgCluster()
    return Store(cluster.new_database()), cluster


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--write-calls", type=int, default=5000)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--findings-per-call", type=int, default=10)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store, cluster = open_store(args.backend, folder)
        try:
            # 1. batch writes, 60-utterance calls with transcripts and 6 findings each
            items = [make_call(i, 6, rng, True) for i in range(args.write_calls)]
            started = time.perf_counter()
            for k in range(0, len(items), 500):
                store.write_reports(items[k : k + 500], [START] * len(items[k : k + 500]))
            write_rate = len(items) / (time.perf_counter() - started)
            print(f"[{args.backend}] write: {len(items)} calls (60 utterances, 6 findings) in batches of 500: {write_rate:,.0f} calls/s", flush=True)
            # 2. 1M findings over 12 weeks; the plain approach gets the same reports as JSON files
            for agent in range(200):
                store.set_agent(f"A{agent:04d}", team=f"T{agent % 10}")
            reports_dir = folder / "reports"
            reports_dir.mkdir()
            started = time.perf_counter()
            base = args.write_calls
            batch = []
            dates = []
            for i in range(args.calls):
                report, _ = make_call(base + i, args.findings_per_call, rng, False)
                batch.append((report, None))
                dates.append(START + timedelta(minutes=rng.randrange(12 * 7 * 24 * 60)))
                (reports_dir / f"{report.call_id}.json").write_text(report.model_dump_json(), encoding="utf-8")
                if len(batch) == 2000:
                    store.write_reports(batch, dates)
                    batch, dates = [], []
            if batch:
                store.write_reports(batch, dates)
            total = args.calls * args.findings_per_call + args.write_calls * 6
            print(f"[{args.backend}] loaded {args.calls + args.write_calls:,} calls, {total:,} findings in {time.perf_counter() - started:.0f}s", flush=True)
            flt = CallFilter(team="T3", rule="forbidden.taboo", passed=False, limit=50)
            list_times, trend_times = [], []
            for _ in range(args.runs):
                t = time.perf_counter()
                rows = store.list_calls(flt, ADMIN).rows
                list_times.append(time.perf_counter() - t)
                t = time.perf_counter()
                weeks = agent_weeks(store, ADMIN, agent="A0042")
                trend_times.append(time.perf_counter() - t)
            # the plain approach: read every JSON report to answer the same two questions
            teams = {f"A{a:04d}": f"T{a % 10}" for a in range(200)}
            t = time.perf_counter()
            plain_rows = []
            for path in reports_dir.iterdir():
                data = json.loads(path.read_text(encoding="utf-8"))
                if teams.get(data["agent_id"]) == "T3" and not data["passed"] and any(f["rule_id"] == "forbidden.taboo" for f in data["findings"]):
                    plain_rows.append(data["call_id"])
            plain_list = time.perf_counter() - t
            t = time.perf_counter()
            plain_scores = []
            for path in reports_dir.iterdir():
                data = json.loads(path.read_text(encoding="utf-8"))
                if data["agent_id"] == "A0042":
                    plain_scores.append(data["score"])
            plain_trend = time.perf_counter() - t
            print(f"[{args.backend}] call list (team+rule+failed, first page of {len(rows)}): p95 {p95(list_times):.1f} ms; "
                  f"plain JSON re-read: {plain_list * 1000:,.0f} ms ({len(plain_rows)} matches, {args.calls:,} files)")
            print(f"[{args.backend}] agent weekly trend ({len(weeks)} weeks): p95 {p95(trend_times):.1f} ms; "
                  f"plain JSON re-read: {plain_trend * 1000:,.0f} ms")
        finally:
            store.close()
            for c in (cluster,):
                if c is not None:
                    c.stop()


if __name__ == "__main__":
    main()
