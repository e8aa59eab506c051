"""Throughput of `qa score` locally (--workers) and on local Ray clusters of 1, 2 and N nodes.

    .venv/bin/python bench/ray_bench.py [--copies 20] [--audio 2] [--nodes 4]

Every node process offers one CPU (this machine has two cores, so a "2-node cluster" is
two raylets sharing them, as two small machines would). Transcripts: `--copies` × the 13
sample transcripts in one JSONL. Audio: the first `--audio` sample recordings (threads 1,
a fresh transcript cache per run). Each run is a `qa` process, so times include start-up
(Python imports, rule compilation, Ray connect and worker start). The last part starts
`--nodes` node processes and scores a transcript batch there: the scheduling overhead per
call is (wall on the cluster − the same calls' scoring time in one process) / calls.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from tests.distributed.conftest import make_netns, remove_netns, run_qa, start_cluster  # noqa: E402
from tests.distributed.test_ray_batch import many_calls  # noqa: E402


def timed(label: str, *args: str, calls: int, audio_seconds: float = 0.0) -> float:
    started = time.perf_counter()
    done = run_qa(*args, timeout=1800, env={"OMP_NUM_THREADS": "1"})
    wall = time.perf_counter() - started
    if done.returncode != 0:
        print(f"{label}: failed\n{done.stderr[-2000:]}")
        return wall
    found = re.search(r"scored (\d+)", done.stdout)
    extra = f"  audio/wall {audio_seconds / wall:5.2f}×" if audio_seconds else ""
    print(f"{label:<34} {wall:7.1f} s  {calls / wall:7.1f} calls/s{extra}  (scored {found.group(1) if found else '?'})",
          flush=True)
    return wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--audio", type=int, default=2)
    parser.add_argument("--nodes", type=int, default=4)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="qa-raybench-"))
    transcripts = many_calls(work, args.copies)
    count = 13 * args.copies
    audio = work / "audio"
    audio.mkdir()
    durations = {"audio_fast_06.flac": 36.5, "audio_clean_07.flac": 44.7, "audio_complaint_05.flac": 47.9,
                 "audio_deadair_04.wav": 58.9}
    chosen = list(durations)[: args.audio]
    for name in chosen:
        shutil.copy(ROOT / "samples" / "audio" / name, audio)
    seconds = sum(durations[name] for name in chosen)
    run = iter(range(1000))

    def score(source: Path, *extra: str) -> list[str]:
        index = next(run)
        return ["score", str(source), "--out", str(work / f"out{index}"), "--format", "jsonl", "--no-details",
                "--cache-dir", str(work / f"cache{index}"), "--threads", "1", *extra]

    make_netns()  # the cluster stays on loopback (see tests/distributed/conftest.py)
    try:
        print(f"transcripts: {count} calls")
        local1 = timed("local --workers 1", *score(transcripts), calls=count)
        timed("local --workers 2", *score(transcripts, "--workers", "2"), calls=count)
        if args.audio:
            print(f"audio: {len(chosen)} calls, {seconds:.0f} s")
            timed("local --workers 1", *score(audio), calls=len(chosen), audio_seconds=seconds)
            timed("local --workers 2", *score(audio, "--workers", "2"), calls=len(chosen), audio_seconds=seconds)
        for nodes in (1, 2):
            cluster = start_cluster(nodes)
            try:
                print(f"ray, {nodes} node(s) of 1 CPU")
                timed(f"  transcripts, {nodes} node(s)", *score(transcripts, "--ray", cluster.address), calls=count)
                if args.audio:
                    timed(f"  audio, {nodes} node(s)", *score(audio, "--ray", cluster.address),
                          calls=len(chosen), audio_seconds=seconds)
            finally:
                cluster.stop()
        cluster = start_cluster(args.nodes)
        try:
            print(f"ray, {args.nodes} node processes of 1 CPU (simulated larger cluster)")
            wall = timed(f"  transcripts, {args.nodes} nodes", *score(transcripts, "--ray", cluster.address), calls=count)
            print(f"  scheduling overhead per call ≈ ({wall:.1f} − {local1:.1f}) s / {count} = "
                  f"{max(wall - local1, 0) / count * 1000:.0f} ms (upper bound: includes {args.nodes} workers' start-up)")
        finally:
            cluster.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
        remove_netns()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
