"""Live QA latency and capacity, against a real `qa serve` on loopback.

Prints, with p50/p95:

1. audio mode: one sample call replayed in real time as 8 kHz stereo frames; latency from
   the end of the speech that settled a finding (the reference transcript's end time of the
   utterance that decided it: the offending turn itself, or for a missing apology the turn
   that closed the window) to the `finding` event, and to each `transcript` event. Compared in the same run with
   the simplest alternative: upload the finished recording and score it at the end
   (latency = rest of the call + batch transcription), and decomposed by the endpointing
   delay alone (stream time, no speech-to-text).
2. transcript mode: many concurrent calls (default 100) sending utterance events at their
   end times; latency from sending an utterance to the finding it decides. Compared with
   scoring each call only when it ends (latency = rest of the call + POST /v1/score).
3. capacity: audio calls started one after another until the server answers `busy`; how
   many were held, and whether they kept up (their lag did not grow). Compared with no
   admission control: one call more forced in, on a server with a fixed limit.

    .venv/bin/python bench/stream_bench.py [--section all|audio|transcript|capacity]
        [--calls 100] [--speed 1] [--threads 2] [--audio samples/audio/audio_forbidden_02.flac]

Targets: audio p95 <= 1.5 s; transcript p95 <= 50 ms at 100 concurrent calls. The server
runs in its own process (its own GIL), the clients in this one; every section stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa_engine import Engine, load_rules  # noqa: E402
from qa_engine.live import AudioCall, LiveCall  # noqa: E402
from qa_engine.live.reference import ReferenceRecognizer  # noqa: E402
from qa_engine.models import CallTranscript, Utterance  # noqa: E402
from qa_engine.server.client import Pcm, ReplayResult, read_pcm, stream_audio, stream_transcript  # noqa: E402

AUDIO_P95_TARGET = 1.5
TRANSCRIPT_P95_TARGET = 0.050


def stats(values: list[float], unit: str = "s") -> str:
    if not values:
        return "n=0"
    scale, fmt = (1000, "{:.0f}ms") if unit == "ms" else (1, "{:.2f}s")
    p50, p95 = np.percentile(values, [50, 95])
    return (f"n={len(values):<4} p50 {fmt.format(p50 * scale)}  p95 {fmt.format(p95 * scale)}  "
            f"max {fmt.format(max(values) * scale)}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`qa serve` in a subprocess, stopped on exit."""

    def __init__(self, threads: int, out: Path, extra: list[str]) -> None:
        self.port = free_port()
        self.log = open(out / "server.log", "w")  # noqa: SIM115 - closed in stop()
        command = [sys.executable, "-m", "qa_engine.cli", "serve", "--port", str(self.port), "--out", str(out),
                   "--threads", str(threads), "--cache-dir", str(out / "cache"), *extra]
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)
        self.http = f"http://127.0.0.1:{self.port}"
        self.ws = f"ws://127.0.0.1:{self.port}/v1/stream"

    def wait_ready(self, model: bool, timeout: float = 180) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited; see {self.log.name}")
            try:
                health = httpx.get(self.http + "/healthz", timeout=2).json()
                if health["stt"]["model_loaded"] or not model:
                    return health
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError("server not ready in time")

    def health(self) -> dict:
        return httpx.get(self.http + "/healthz", timeout=10).json()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def reference_for(audio: Path) -> CallTranscript:
    return CallTranscript.model_validate_json(audio.with_name(audio.name.split(".")[0] + ".ref.json").read_text("utf-8"))


def matching_turn(ref: CallTranscript, speaker: str | None, start: float, end: float) -> Utterance | None:
    """The reference utterance of `speaker` overlapping [start, end] the most."""
    best, overlap = None, 0.0
    for u in ref.utterances:
        shared = min(u.end, end) - max(u.start, start)
        if (speaker is None or u.speaker == speaker) and shared > overlap:
            best, overlap = u, shared
    return best


def speech_latencies(result: ReplayResult, ref: CallTranscript, kind: str) -> list[float]:
    """Arrival of each `kind` event minus the reference end of the speech that settled it.

    A transcript event is about its own turn. A finding is measured from the turn whose
    arrival decided it (`decided_at`): for a phrase that is the turn it was said in; for a
    missing apology it is the turn that closed the window, since no engine can know
    earlier that the apology will not come. Call-level findings (decided at the end) are left out.
    """
    heard = {m.message.index: m.message for m in result.of_type("transcript")}
    out = []
    for item in result.of_type(kind):
        m = item.message
        if kind == "finding":
            if m.decided_at is None or m.decided_at not in heard:
                continue
            m = heard[m.decided_at]
        if m.start is None:
            continue
        turn = matching_turn(ref, m.speaker, m.start, m.end)
        if turn is not None:
            out.append(item.at - turn.end)
    return out


def endpointing_delays(pcm: Pcm, ref: CallTranscript, frame_ms: int) -> list[float]:
    """Stream time from the end of each turn to its chunk being finished, no speech-to-text."""
    engine = Engine(load_rules())
    call = AudioCall(LiveCall(engine, "endpointing"), ReferenceRecognizer(ref), pcm.sample_rate)
    delays = []
    for index, frame in enumerate(pcm.frames(frame_ms)):
        now = (index + 1) * frame_ms / 1000
        for event in call.feed(frame):
            if isinstance(event, Utterance):
                delays.append(now - event.end)
    return delays


def section_audio(server: Server, audio: Path, frame_ms: int) -> None:
    ref = reference_for(audio)
    pcm = read_pcm(audio)
    print(f"\n== audio mode: {audio.name} ({pcm.seconds:.0f} s, {pcm.sample_rate} Hz stereo) in real time, "
          f"{frame_ms} ms frames, default model ==")
    result = asyncio.run(stream_audio(server.ws, pcm, "bench-audio", speed=1.0, frame_ms=frame_ms))
    findings = speech_latencies(result, ref, "finding")
    heard = speech_latencies(result, ref, "transcript")
    print(f"  end of speech -> finding     {stats(findings)}   (target p95 <= {AUDIO_P95_TARGET} s)")
    print(f"  end of speech -> transcript  {stats(heard)}")
    print(f"  endpointing alone (stream time, no STT): {stats(endpointing_delays(pcm, ref, frame_ms))}")
    started = time.monotonic()
    reply = httpx.post(server.http + f"/v1/calls?call_id=bench-batch&filename={audio.name}",
                       content=audio.read_bytes(), timeout=600)
    batch_seconds = time.monotonic() - started
    reply.raise_for_status()
    batch = reply.json()
    rest = [pcm.seconds - t.end + batch_seconds for t in
            (matching_turn(ref, f["speaker"], f["start"], f["end"]) for f in batch["findings"] if f["start"] is not None)
            if t is not None]
    print(f"  baseline, score the recording when the call ends: {stats(rest)}  "
          f"(batch transcription + scoring took {batch_seconds:.1f} s)")
    words = " | ".join(f"{m.message.rule_id}@{m.message.start:.1f}s" for m in result.findings)
    print(f"  live findings: {words or 'none'}; batch findings: {len(batch['findings'])}")


async def _transcript_calls(url: str, calls: list[CallTranscript], speed: float, spread: float):
    async def one(call: CallTranscript, delay: float):
        await asyncio.sleep(delay)
        return await stream_transcript(url, call, speed=speed)

    return await asyncio.gather(*(one(c, random.uniform(0, spread)) for c in calls))


def section_transcript(server: Server, count: int, speed: float) -> None:
    paths = sorted((ROOT / "samples" / "transcripts").glob("*.json")) + sorted((ROOT / "samples" / "audio").glob("*.ref.json"))
    samples = [CallTranscript.model_validate_json(p.read_text("utf-8")) for p in paths]
    calls = [samples[i % len(samples)].model_copy(update={"call_id": f"bench-t{i:03d}"}) for i in range(count)]
    longest = max(max(u.end for u in c.utterances) for c in calls) / (speed or 1)
    print(f"\n== transcript mode: {count} concurrent calls, events at their end times, speed {speed:g}x "
          f"(~{longest:.0f} s) ==")
    started = time.monotonic()
    results = asyncio.run(_transcript_calls(server.ws, calls, speed, spread=5.0))
    wall = time.monotonic() - started
    latencies, rest = [], []
    for call, result in zip(calls, results, strict=True):
        ends = sorted(u.end for u in call.utterances)
        order = sorted(call.utterances, key=lambda u: (u.end, u.start))
        for item in result.findings:
            index = getattr(item.message, "decided_at", None)
            if index is None:
                continue
            latencies.append(item.at - result.sent_at[index])
            rest.append((ends[-1] - order[index].end) / (speed or 1))
    busy = sum(1 for r in results if r.busy)
    events = sum(len(r.sent_at) for r in results)
    print(f"  utterance sent -> finding   {stats(latencies, 'ms')}   (target p95 <= {TRANSCRIPT_P95_TARGET * 1000:.0f} ms)")
    score_times = []
    for call in calls[:20]:
        t = time.monotonic()
        httpx.post(server.http + "/v1/score", content=call.model_dump_json(),
                   headers={"Content-Type": "application/json"}, timeout=30).raise_for_status()
        score_times.append(time.monotonic() - t)
    cost = float(np.median(score_times))
    print(f"  baseline, score each call when it ends: {stats([r + cost for r in rest])}  "
          f"(POST /v1/score {cost * 1000:.0f} ms)")
    print(f"  {events} events in {wall:.1f} s ({events / wall:.0f}/s), {busy} calls refused busy")


async def _ramp(url: str, pcm: Pcm, ramp: float, limit: int, frame_ms: int):
    """Start a real-time call every `ramp` seconds until one is refused (or `limit` run)."""
    tasks, refused = [], None
    for index in range(limit):
        task = asyncio.create_task(stream_audio(url, pcm, f"bench-cap{index}", speed=1.0, frame_ms=frame_ms))
        await asyncio.sleep(1.0)  # let the server answer start (started or busy)
        if task.done() and task.result().busy:
            refused = (index, task.result().busy)
            break
        tasks.append(task)
        await asyncio.sleep(max(0.0, ramp - 1.0))
    return await asyncio.gather(*tasks), refused


def keeps_up(latencies: list[float]) -> tuple[bool, float]:
    """Whether a call's lag stays flat: the last third of its turns no later than the first third (+1 s)."""
    third = max(1, len(latencies) // 3)
    growth = float(np.median(latencies[-third:]) - np.median(latencies[:third]))
    return growth <= 1.0, growth


def report_calls(results: list[ReplayResult], ref: CallTranscript) -> bool:
    ok = True
    for index, result in enumerate(results):
        heard = speech_latencies(result, ref, "transcript")
        flat, growth = keeps_up(heard) if heard else (False, float("nan"))
        ok &= flat
        print(f"  call {index + 1}: end of speech -> transcript {stats(heard)}  lag growth {growth:+.1f}s"
              f" ({'keeps up' if flat else 'falls behind'})")
    return ok


def section_capacity(server: Server, audio: Path, ramp: float, limit: int, frame_ms: int, threads: int,
                     overload: bool) -> None:
    ref = reference_for(audio)
    pcm = read_pcm(audio)
    print(f"\n== capacity: real-time audio calls ({audio.name}) started every {ramp:g} s until busy (at most {limit}) ==")
    before = server.health()["capacity"]
    results, refused = asyncio.run(_ramp(server.ws, pcm, ramp, limit, frame_ms))
    ok = report_calls(results, ref)
    if refused:
        print(f"  call {refused[0] + 1}: busy: {refused[1]}")
    held = len(results)
    print(f"  => held {held} concurrent audio call(s) before busy, {'all in real time' if ok else 'NOT all in real time'}"
          f" (server's estimate before the ramp: {before['audio_calls']} at load {before['load_per_call']:.2f}/call)")
    if not overload:
        return
    forced = held + 1
    print(f"\n== capacity, simplest alternative: no admission control, {forced} calls forced in ==")
    with tempfile.TemporaryDirectory(prefix="qa-stream-bench-") as tmp:
        open_server = Server(threads, Path(tmp), ["--max-audio-calls", str(forced), "--max-lag", "100000"])
        try:
            open_server.wait_ready(model=True)
            results, _ = asyncio.run(_ramp(open_server.ws, pcm, ramp, forced, frame_ms))
            ok = report_calls(results, ref)
            print(f"  => with {forced} calls: {'all kept up' if ok else 'the calls fall behind real time'}")
        finally:
            open_server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--section", choices=["all", "audio", "transcript", "capacity"], default="all")
    parser.add_argument("--audio", type=Path, default=ROOT / "samples" / "audio" / "audio_forbidden_02.flac")
    parser.add_argument("--calls", type=int, default=100, help="concurrent transcript-mode calls")
    parser.add_argument("--speed", type=float, default=1.0, help="transcript-mode replay speed")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for speech-to-text")
    parser.add_argument("--frame-ms", type=int, default=50)
    parser.add_argument("--ramp", type=float, default=4.0, help="seconds between new audio calls (capacity)")
    parser.add_argument("--max-calls", type=int, default=12, help="capacity: stop starting calls after this many")
    parser.add_argument("--no-overload", action="store_true", help="capacity: skip the run without admission control")
    args = parser.parse_args()
    random.seed(1)
    sections = ["audio", "transcript", "capacity"] if args.section == "all" else [args.section]
    needs_model = any(s in sections for s in ("audio", "capacity"))
    with tempfile.TemporaryDirectory(prefix="qa-stream-bench-") as tmp:
        server = Server(args.threads, Path(tmp), [] if needs_model else ["--no-preload"])
        try:
            health = server.wait_ready(model=needs_model)
            print(f"server pid {server.process.pid}, {os.cpu_count()} CPUs, load average "
                  f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}, model loaded: {health['stt']['model_loaded']}")
            if "audio" in sections:
                section_audio(server, args.audio, args.frame_ms)
            if "transcript" in sections:
                section_transcript(server, args.calls, args.speed)
            if "capacity" in sections:
                section_capacity(server, args.audio, args.ramp, args.max_calls, args.frame_ms, args.threads,
                                 not args.no_overload)
            print(f"\nserver health at the end: {json.dumps(server.health()['capacity'])}")
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
