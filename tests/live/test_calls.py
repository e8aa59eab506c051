"""Live calls through the Python API: transcript events and audio, sync and on an event loop."""

from __future__ import annotations

import asyncio
import random
import time

import pytest

from qa_engine.engine import finding_order
from qa_engine.live import AudioCall, LiveCall, StreamingAudioCall, SttWorker
from qa_engine.live.reference import ReferenceRecognizer
from qa_engine.models import Finding, Utterance

pytest_plugins = ["livekit"]  # its fixtures (not a conftest.py: see tests/server/serverkit.py)


def test_live_call_is_the_engine_session(engine, forbidden_ref):
    live = LiveCall(engine, "c1", "A215")
    streamed = [f for u in forbidden_ref.utterances for f in live.feed(u)]
    assert "forbidden.taboo" in [f.rule_id for f in streamed]
    assert live.report().utterance_count == len(forbidden_ref.utterances)
    assert live.close().findings == engine.score(forbidden_ref).findings
    assert live.transcript().utterances == forbidden_ref.utterances


def test_audio_call_interleaved_or_per_channel(engine, forbidden_ref, forbidden_pcm):
    expected = engine.score(forbidden_ref).findings
    interleaved = AudioCall(LiveCall(engine, "a"), ReferenceRecognizer(forbidden_ref))
    events = [e for i in range(0, len(forbidden_pcm.data), 1600) for e in interleaved.feed(forbidden_pcm.data[i : i + 1600])]
    events += interleaved.flush()
    assert [e.text for e in events if isinstance(e, Utterance)] == [u.text for u in forbidden_ref.utterances]
    findings = [e for e in events if isinstance(e, Finding)]
    # decided live, in the order they were decided (a sequence finding about utterance 7 is
    # decided when its window ends); the report lists the same findings in call order
    assert findings and all(f in expected for f in findings)
    assert sorted(findings, key=finding_order) == [f for f in expected if f in findings]
    # each finding comes right after the utterance that decided it
    assert isinstance(events[events.index(findings[0]) - 1], Utterance)
    assert interleaved.close().findings == expected

    import numpy as np

    legs = np.frombuffer(forbidden_pcm.data, "<i2").reshape(-1, 2)
    separate = AudioCall(LiveCall(engine, "b"), ReferenceRecognizer(forbidden_ref))
    for start in range(0, len(legs), 4000):
        for channel in (0, 1):
            separate.feed(legs[start : start + 4000, channel].tobytes(), channel=channel)
    assert separate.close().findings == expected


class Jittery(ReferenceRecognizer):
    """Answers after a random delay, so two lanes finish turns out of order."""

    def transcribe_samples(self, samples, offset=0.0):
        time.sleep(random.uniform(0, 0.05))
        return super().transcribe_samples(samples, offset)


def test_streaming_call_feeds_turns_in_order_whatever_the_lanes_do(engine, forbidden_ref, forbidden_pcm):
    random.seed(3)

    async def run():
        worker = SttWorker(lanes=2)
        events = []

        async def sink(event):
            events.append(event)

        call = StreamingAudioCall(LiveCall(engine, "s"), Jittery(forbidden_ref), worker, sink)
        for start in range(0, len(forbidden_pcm.data), 8000):
            call.feed(forbidden_pcm.data[start : start + 8000])
            await asyncio.sleep(0)
        await call.finish()
        worker.stop()
        return call, events, worker

    call, events, worker = asyncio.run(run())
    assert [e.text for e in events if isinstance(e, Utterance)] == [u.text for u in forbidden_ref.utterances]
    assert call.call.close().findings == engine.score(forbidden_ref).findings
    assert worker.jobs_done == len(forbidden_ref.utterances) and worker.seconds_for("s") > 0


def test_worker_runs_live_turns_before_batch_jobs():
    from qa_engine.live.worker import BATCH, LIVE

    async def run():
        worker = SttWorker()
        order = []
        blocker = asyncio.ensure_future(worker.submit(time.sleep, 0.2))
        await asyncio.sleep(0.05)
        jobs = [
            worker.submit(order.append, "batch", priority=BATCH),
            worker.submit(order.append, "live-1", priority=LIVE),
            worker.submit(order.append, "live-2", priority=LIVE),
        ]
        tasks = [asyncio.ensure_future(j) for j in jobs]
        await asyncio.sleep(0.05)
        lag = worker.lag()
        await asyncio.gather(blocker, *tasks)
        with pytest.raises(ZeroDivisionError):
            await worker.submit(lambda: 1 / 0)
        worker.stop()
        return order, lag

    order, lag = asyncio.run(run())
    assert order == ["live-1", "live-2", "batch"]
    assert lag > 0.03
