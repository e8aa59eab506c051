"""`qa score --ray` on a real two-node cluster: the same reports as a local run, nothing
lost or duplicated when a worker or an actor is killed mid-batch, `--resume` across runs."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import pytest

from tests.distributed.conftest import run_qa

from helpers import ROOT, SAMPLES

pytestmark = [pytest.mark.ray, pytest.mark.slow]

AUDIO = ROOT / "samples" / "audio"


def many_calls(folder: Path, copies: int) -> Path:
    """One JSONL of `copies` × the sample transcripts, each call with its own id."""
    lines = []
    for index in range(copies):
        for path in sorted(SAMPLES.glob("*.json")):
            call = json.loads(path.read_text(encoding="utf-8"))
            call["call_id"] = f"{call['call_id']}-{index:03d}"
            lines.append(json.dumps(call, ensure_ascii=False))
    target = folder / "calls.jsonl"
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


def reports(out: Path) -> dict[str, str]:
    """call id -> its report line, from a jsonl run; fails on a duplicated call."""
    seen: dict[str, str] = {}
    for line in (out / "reports.jsonl").read_text(encoding="utf-8").splitlines():
        call_id = json.loads(line)["call_id"]
        assert call_id not in seen, f"{call_id} written twice"
        seen[call_id] = line
    return seen


def json_reports(out: Path) -> dict[str, dict]:
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(out.glob("*.json"))}


def test_transcripts_on_the_cluster_give_the_local_reports(ray_cluster, tmp_path):
    local = run_qa("score", str(SAMPLES), "--out", str(tmp_path / "local"), "--no-details")
    remote = run_qa("score", str(SAMPLES), "--out", str(tmp_path / "ray"), "--no-details", "--ray", ray_cluster.address)
    assert local.returncode == remote.returncode == 0, remote.stderr[-3000:]
    assert "scored 13" in remote.stdout
    mine, theirs = json_reports(tmp_path / "local"), json_reports(tmp_path / "ray")
    assert len(mine) == 13 and mine == theirs


def test_a_worker_killed_mid_batch_loses_and_duplicates_nothing(ray_cluster, tmp_path):
    calls = many_calls(tmp_path, copies=25)  # 325 calls
    killed: list[int] = []

    def kill_a_scoring_worker() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            process = ray_cluster.find("ray::_score")
            if process is not None:
                process.kill()
                killed.append(process.pid)
                return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_a_scoring_worker)
    killer.start()
    remote = run_qa("score", str(calls), "--out", str(tmp_path / "ray"), "--format", "jsonl", "--no-details",
                    "--ray", ray_cluster.address)
    killer.join()
    assert killed, "no scoring worker was seen running: nothing was killed"
    assert remote.returncode == 0, remote.stderr[-3000:]
    local = run_qa("score", str(calls), "--out", str(tmp_path / "local"), "--format", "jsonl", "--no-details")
    assert local.returncode == 0
    mine, theirs = reports(tmp_path / "local"), reports(tmp_path / "ray")
    assert len(theirs) == 325 and mine == theirs


def test_resume_across_a_cluster_run(ray_cluster, tmp_path):
    calls = many_calls(tmp_path, copies=2)  # 26 calls
    out = tmp_path / "ray"
    first = run_qa("score", str(calls), "--out", str(out), "--format", "jsonl", "--no-details", "--ray", ray_cluster.address)
    assert first.returncode == 0, first.stderr[-3000:]
    complete = reports(out)
    lines = (out / "reports.jsonl").read_bytes().splitlines(keepends=True)
    # As if the driver had been killed while writing the 21st report: 20 whole, one torn.
    (out / "reports.jsonl").write_bytes(b"".join(lines[:20]) + lines[20][:40])
    again = run_qa("score", str(calls), "--out", str(out), "--format", "jsonl", "--no-details", "--resume",
                   "--ray", ray_cluster.address)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "scored 6" in again.stdout and "skipped (resume) 20" in again.stdout
    assert reports(out) == complete


def test_audio_on_actors_survives_a_killed_actor_and_matches_local(ray_cluster, tmp_path):
    calls = tmp_path / "calls"
    calls.mkdir()
    for name in ("audio_fast_06.flac", "audio_clean_07.flac"):
        shutil.copy(AUDIO / name, calls)
    killed: list[int] = []

    def kill_an_actor() -> None:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and not killed:
            process = ray_cluster.find("ray::Listener.hear")
            if process is not None:
                time.sleep(2)  # mid-call: the model is loaded and decoding
                process.kill()
                killed.append(process.pid)
                return
            time.sleep(0.1)

    killer = threading.Thread(target=kill_an_actor)
    killer.start()
    remote = run_qa("score", str(calls), "--out", str(tmp_path / "ray"), "--no-details", "--threads", "1",
                    "--cache-dir", str(tmp_path / "ray-cache"), "--ray", ray_cluster.address, timeout=400)
    killer.join()
    assert killed, "no transcription actor was seen working: nothing was killed"
    assert remote.returncode == 0, remote.stderr[-3000:]
    # Ray runs a 1-CPU actor with OMP_NUM_THREADS=1; so does this run, or numpy's threaded
    # sums in feature extraction move a word time by a few ms (the reports agree either way).
    local = run_qa("score", str(calls), "--out", str(tmp_path / "local"), "--no-details", "--threads", "1",
                   "--cache-dir", str(tmp_path / "local-cache"), timeout=400, env={"OMP_NUM_THREADS": "1"})
    assert local.returncode == 0, local.stderr[-3000:]
    mine, theirs = json_reports(tmp_path / "local"), json_reports(tmp_path / "ray")
    assert len(mine) == 4  # two reports and two transcripts
    assert mine == theirs
