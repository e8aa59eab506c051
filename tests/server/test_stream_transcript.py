"""Transcript events over the WebSocket give exactly the findings of batch scoring."""

from __future__ import annotations

import asyncio
import json

from callsamples import AUDIO, TRANSCRIPTS

from qa_engine.models import CallTranscript, Finding
from qa_engine.server import client

pytest_plugins = ["serverkit"]  # its fixtures (not a conftest.py: see tests/server/serverkit.py)


def samples() -> list[CallTranscript]:
    paths = sorted(TRANSCRIPTS.glob("*.json")) + sorted(AUDIO.glob("*.ref.json"))
    return [CallTranscript.model_validate(json.loads(p.read_text(encoding="utf-8"))) for p in paths]


def live_findings(result: client.ReplayResult) -> list[dict]:
    """Findings as streamed, without the protocol's own fields."""
    return [Finding.model_validate(r.message.model_dump(exclude={"type", "decided_at"})).model_dump(mode="json") for r in result.findings]


def replay_all(url: str, calls: list[CallTranscript], order: str) -> list[client.ReplayResult]:
    async def run():
        return await asyncio.gather(*(client.stream_transcript(url, c, speed=0, order=order) for c in calls))

    return asyncio.run(run())


def test_events_in_batch_order_give_identical_findings_and_report(server, engine):
    calls = samples()
    for transcript, result in zip(calls, replay_all(server.ws_url, calls, "start"), strict=True):
        batch = engine.score(transcript)
        expected = [f.model_dump(mode="json") for f in batch.findings]
        assert result.report is not None, transcript.call_id
        assert sorted(live_findings(result), key=json.dumps) == sorted(expected, key=json.dumps), transcript.call_id
        assert [f.model_dump(mode="json") for f in result.report.findings] == expected
        assert (result.report.score, result.report.passed) == (batch.score, batch.passed)
        assert result.report.provenance.source == "live:transcript"


def test_events_as_they_finish_give_the_same_findings(server, engine):
    """A platform sends each utterance when it ends; only utterance numbering may differ."""

    def essence(findings: list[dict]) -> list[tuple]:
        fields = ("rule_id", "speaker", "start", "end", "deduction", "evidence")
        return sorted(json.dumps([f[k] for k in fields], ensure_ascii=False) for f in findings)

    calls = samples()
    for transcript, result in zip(calls, replay_all(server.ws_url, calls, "end"), strict=True):
        batch = engine.score(transcript)
        assert essence(live_findings(result)) == essence([f.model_dump() for f in batch.findings]), transcript.call_id
        assert result.report.score == batch.score


def test_findings_arrive_as_soon_as_their_utterance(server):
    forbidden = next(c for c in samples() if c.call_id == "audio_forbidden_02")
    result = asyncio.run(client.stream_transcript(server.ws_url, forbidden, speed=20))
    taboo = [r for r in result.findings if r.message.rule_id == "forbidden.taboo"]
    assert len(taboo) == 2
    for item in taboo:
        sent = result.sent_at[item.message.decided_at]
        assert item.at - sent < 0.5  # decided on arrival of its utterance, not at the end
        assert item.at < result.sent_at[-1]
    assert result.received[-1].type == "report"
