"""Throughput of the whole `qa score` command, against the in-process session, on real-length calls.

`bench/throughput.py` measures the engine in process on template utterances that are
shorter than real speech. This generates N calls whose agent turns are 25-60
characters (as speech-recognised agents speak) and customer turns 6-30, writes them as
one JSONL file, and runs the real command line (`python -m qa_engine.cli score FILE
--format jsonl`) in a subprocess pinned to one core (`taskset -c 0` when available):
start-up, rule loading, reading, scoring, writing and the console output all count.
The in-process figure (Engine.score on the same calls, this process pinned to the same
core) is measured in the same run, and the ratio printed. Target: >= 100 calls/s.

    python bench/cli_throughput.py [--calls 2000] [--utterances 60] [--seed 11]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from throughput import AGENT, AGENT_BAD, CUSTOMER, sentence  # noqa: E402

from qa_engine import Engine, load_rules  # noqa: E402
from qa_engine.models import CallTranscript, Utterance  # noqa: E402

SECONDS_PER_CHAR = 0.22  # about 270 characters a minute


def turn_text(rng: random.Random, pool: list[str], low: int, high: int) -> str:
    """Sentences joined (with or without a comma, as speech-to-text does) to `low`..`high` characters."""
    target = rng.randint(low, high)
    text = sentence(rng, pool)
    while len(text) < target:
        text += rng.choice(["，", " ", ""]) + sentence(rng, pool)
    return text[:high]


def generate_call(rng: random.Random, index: int, utterances: int) -> CallTranscript:
    clock = 0.0
    turns = []
    for turn in range(utterances):
        agent = turn % 2 == 0
        if agent:
            pool = AGENT_BAD if rng.random() < 0.05 else AGENT
            text = "您好，中通速递，工号三零八为您服务" if turn == 0 else turn_text(rng, pool, 25, 60)
        else:
            text = turn_text(rng, CUSTOMER, 6, 30)
        start = clock + rng.choice([0.3, 0.6, 1.0, -0.5 if turn else 0.0])
        start = max(start, 0.0)
        end = start + len(text) * SECONDS_PER_CHAR
        turns.append(Utterance(speaker="agent" if agent else "customer", start=round(start, 2), end=round(end, 2), text=text))
        clock = end
    return CallTranscript(call_id=f"cli-{index:05d}", agent_id=f"A{index % 40:03d}", utterances=turns)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--utterances", type=int, default=60)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    calls = [generate_call(rng, i, args.utterances) for i in range(args.calls)]
    agent_chars = [len(u.text) for c in calls for u in c.utterances[1:] if u.speaker == "agent"]
    print(f"{len(calls)} calls x {args.utterances} utterances; agent turns {min(agent_chars)}-{max(agent_chars)} "
          f"characters, mean {sum(agent_chars) / len(agent_chars):.1f}")

    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    with tempfile.TemporaryDirectory(prefix="qa-cli-bench-") as name:
        folder = Path(name)
        source = folder / "calls.jsonl"
        source.write_text("".join(c.model_dump_json() + "\n" for c in calls), encoding="utf-8")
        command = [*pin, sys.executable, "-m", "qa_engine.cli", "score", str(source), "--format", "jsonl",
                   "--out", str(folder / "out")]
        started = time.perf_counter()
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        cli_seconds = time.perf_counter() - started
        if result.returncode != 0:
            sys.exit(f"qa score failed ({result.returncode}):\n{result.stderr[-2000:]}")
        lines = (folder / "out" / "reports.jsonl").read_text(encoding="utf-8").count("\n")
        assert lines == len(calls), f"{lines} reports for {len(calls)} calls"
        console_lines = result.stdout.count("\n")

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    engine = Engine(load_rules())
    engine.score(calls[0])  # warm the lazy parts (pinyin tables, jieba) as the command's first call does
    started = time.perf_counter()
    for call in calls:
        engine.score(call)
    session_seconds = time.perf_counter() - started

    cli_rate = len(calls) / cli_seconds
    session_rate = len(calls) / session_seconds
    print(f"qa score (whole command{', taskset -c 0' if pin else ''}): {cli_rate:.0f} calls/s "
          f"({cli_seconds:.1f} s, {console_lines} console lines)")
    print(f"in-process Engine.score (same core):   {session_rate:.0f} calls/s ({session_seconds:.1f} s)")
    print(f"command / in-process: {cli_rate / session_rate:.2f}   target: >= 100 calls/s for the command")


if __name__ == "__main__":
    main()
