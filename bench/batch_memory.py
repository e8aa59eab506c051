"""Peak memory of `qa score` for 1,000 and 10,000 calls: it must stay flat (target: within 10 %).

Each size runs the real command (`qa score calls.jsonl --out DIR`, JSON reports) in a fresh
process; its peak RSS is read with getrusage(RUSAGE_CHILDREN) by a small wrapper process
that runs nothing else. The calls are the sample transcripts, repeated with unique ids.

    .venv/bin/python bench/batch_memory.py            # 1000 and 10000 calls
    .venv/bin/python bench/batch_memory.py 200 2000   # other sizes
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted((ROOT / "samples" / "transcripts").glob("*.json"))
QA = Path(sys.executable).with_name("qa")

WRAPPER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
    "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def make_calls(path: Path, count: int) -> None:
    calls = [json.loads(p.read_text(encoding="utf-8")) for p in SAMPLES]
    with path.open("w", encoding="utf-8") as out:
        for number in range(count):
            call = dict(calls[number % len(calls)])
            call["call_id"] = f"{call['call_id']}-{number:06d}"
            out.write(json.dumps(call, ensure_ascii=False) + "\n")


def peak_rss_mb(count: int, work: Path) -> tuple[float, float]:
    source = work / f"calls-{count}.jsonl"
    make_calls(source, count)
    out = work / f"out-{count}"
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", WRAPPER, str(QA), "score", str(source), "--out", str(out), "--no-details"],
        capture_output=True, text=True, check=True,
    )
    seconds = time.perf_counter() - started
    code, kilobytes = result.stdout.split()
    if code != "0":
        raise SystemExit(f"qa score exited {code} for {count} calls")
    written = sum(1 for _ in out.glob("*.json"))
    if written != count:
        raise SystemExit(f"{count} calls but {written} reports")
    shutil.rmtree(out)
    return int(kilobytes) / 1024, seconds


def main(sizes: list[int]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        figures = {}
        for count in sizes:
            mb, seconds = peak_rss_mb(count, Path(folder))
            figures[count] = mb
            print(f"{count:>6} calls: peak RSS {mb:7.1f} MB  ({seconds:.0f} s)", flush=True)
    small, large = figures[sizes[0]], figures[sizes[-1]]
    print(f"ratio {sizes[-1]}/{sizes[0]}: {large / small:.3f} (target ≤ 1.10)")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1000, 10000])
