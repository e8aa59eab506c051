#!/usr/bin/env python3
"""Personal-data redaction: per-entity precision/recall on the generated corpus, false
redactions per 1,000 PII-free utterances, and redaction time over rule-engine time.

    .venv/bin/python bench/pii_bench.py [--seed 11] [--per-entity 80] [--negatives 1000]

The corpus is tests/pii/pii_corpus.py (deterministic). Time ratio: the sample
transcripts, each redacted and scored with the default rules (best of 5 rounds).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "pii"))

from pii_corpus import evaluate, generate  # noqa: E402

from qa_engine.engine import Engine  # noqa: E402
from qa_engine.inputs import iter_calls  # noqa: E402
from qa_engine.pii import Redactor  # noqa: E402
from qa_engine.rulefile import load_rules  # noqa: E402


def time_ratio(rounds: int = 5) -> tuple[float, float, float]:
    engine = Engine(load_rules(), keep_pii=True)
    redactor = Redactor()
    calls = [s.transcript for s in iter_calls([ROOT / "samples" / "transcripts"]) if s.transcript]
    for call in calls:  # warm caches (jieba, spaCy, cn2an)
        engine.score(redactor.redact_transcript(call))
    best_r = best_e = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        redacted = [redactor.redact_transcript(c) for c in calls]
        t1 = time.perf_counter()
        for call in redacted:
            engine.score(call)
        t2 = time.perf_counter()
        best_r, best_e = min(best_r, t1 - t0), min(best_e, t2 - t1)
    return best_r / len(calls), best_e / len(calls), best_r / best_e


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--per-entity", type=int, default=80)
    parser.add_argument("--negatives", type=int, default=1000)
    args = parser.parse_args()
    items, negatives = generate(args.seed, args.per_entity, args.negatives)
    result = evaluate(Redactor(), items, negatives)
    print(f"corpus: {len(items)} PII utterances (seed {args.seed}), {len(negatives)} PII-free utterances with numbers\n")
    print("| entity | n | recall | precision |")
    print("|---|---:|---:|---:|")
    for entity, row in result["entities"].items():
        precision = "-" if row["precision"] is None else f"{row['precision']:.3f}"
        print(f"| {entity} | {row['n']} | {row['recall']:.3f} | {precision} |")
    print(f"\nfalse redactions: {result['false_per_1000']:.1f} per 1,000 PII-free utterances")
    for sentence, spans in result["false_redactions"][:10]:
        print(f"  FALSE {sentence} {spans}")
    for entity, turns in result["misses"][:10]:
        print(f"  MISS {entity} {turns}")
    per_r, per_e, ratio = time_ratio()
    print(f"time per call: redaction {per_r * 1000:.2f} ms, rule engine {per_e * 1000:.2f} ms, ratio {ratio:.1%}")


if __name__ == "__main__":
    main()
