"""Audio frames over the WebSocket: endpointed per channel, transcribed, scored as they end."""

from __future__ import annotations

import asyncio

import pytest
from callsamples import AUDIO, FORBIDDEN, reference

from qa_engine.engine import finding_order
from qa_engine.models import Finding
from qa_engine.server import client
from qa_engine.server.client import Pcm
from qa_engine.stt import STTOptions

pytest_plugins = ["serverkit"]  # its fixtures (not a conftest.py: see tests/server/serverkit.py)


@pytest.fixture(scope="module")
def forbidden_pcm() -> Pcm:
    return client.read_pcm(AUDIO / f"{FORBIDDEN}.flac")


def test_audio_call_gives_transcripts_findings_and_report(server, engine, forbidden_pcm):
    result = asyncio.run(client.stream_audio(server.ws_url, forbidden_pcm, FORBIDDEN, agent_id="A215", speed=0))
    ref = reference()
    heard = result.of_type("transcript")
    assert [m.message.text for m in heard] == [u.text for u in ref.utterances]
    for item, utterance in zip(heard, ref.utterances, strict=True):
        assert item.message.speaker == utterance.speaker
    batch = engine.score(ref)
    streamed = [Finding.model_validate(r.message.model_dump(exclude={"type", "decided_at"})) for r in result.findings]
    assert sorted(streamed, key=finding_order) == batch.findings  # live: in the order decided
    # Each finding follows the transcript event of the utterance that decided it.
    for item in result.findings:
        index = item.message.decided_at
        assert result.received.index(item) > result.received.index(heard[index])
    report = result.report
    assert report is not None and report.score == batch.score == 0.0
    assert report.agent_id == "A215" and report.provenance.source == "live:audio"
    assert report.provenance.stt.live["endpointing"]["max_utterance_s"] == 15.0
    saved = server.out_dir / f"{FORBIDDEN}.report.json"
    assert saved.exists() and (server.out_dir / f"{FORBIDDEN}.transcript.json").exists()


@pytest.mark.slow  # runs the real Whisper model
def test_real_whisper_hears_the_forbidden_phrase(start_server, forbidden_pcm, engine):
    """The one test with the real model, on the call up to its second taboo phrase (~7 turns)."""
    from qa_engine.stt import ModelLoadError, ModelNotFoundError, Transcriber, resolve_model

    try:
        resolve_model("default")
    except (ModelNotFoundError, ModelLoadError) as exc:
        pytest.skip(f"bundled Whisper model not available: {exc}")
    ref = reference()
    taboo_turn = next(u for u in ref.utterances if "你问我" in u.text)
    cut = taboo_turn.end + 0.9
    options = STTOptions(cpu_threads=2)
    server = start_server(recognizer=Transcriber(options), stt=options)
    clip = Pcm(forbidden_pcm.data[: int(cut * 8000) * 4], 8000, 2)
    result = asyncio.run(client.stream_audio(server.ws_url, clip, "real-whisper", speed=0))
    assert result.report is not None
    turns = [u for u in ref.utterances if u.end < cut]
    heard = [(m.message.speaker, m.message.start, m.message.text) for m in result.of_type("transcript")]
    assert len(turns) <= len(heard) <= len(turns) + 2, heard  # Whisper may split a turn at a pause
    assert [h[0] for h in heard[:3]] == [u.speaker for u in turns[:3]], heard
    expected = [f.start for f in engine.score(ref).findings if f.rule_id == "forbidden.taboo" and f.end < cut]
    taboo = [r.message for r in result.findings if r.message.rule_id == "forbidden.taboo"]
    assert any(abs(f.start - start) < 0.5 for f in taboo for start in expected), (taboo, heard)
    assert result.report.provenance.stt.engine == "faster-whisper"
