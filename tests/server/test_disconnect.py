"""A client that vanishes mid-call loses nothing: the partial report is written to disk."""

from __future__ import annotations

import json
import time
from pathlib import Path

from callsamples import AUDIO, FORBIDDEN, reference
from websockets.sync.client import connect

from qa_engine import client
from qa_engine.fsutil import safe_name
from qa_engine.live.reference import ReferenceRecognizer

pytest_plugins = ["serverkit"]  # its fixtures (not a conftest.py: see tests/server/serverkit.py)


def wait_for(path: Path, seconds: float = 15.0) -> dict:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} was not written"
        time.sleep(0.05)
    return json.loads(path.read_text(encoding="utf-8"))


def test_audio_call_cut_off_mid_call_saves_partial_report(start_server, engine):
    # A slow recognizer, so turns are still queued when the client goes.
    server = start_server(recognizer=ReferenceRecognizer(reference(), delay_s=0.2))
    pcm = client.read_pcm(AUDIO / f"{FORBIDDEN}.flac")
    turns = reference().utterances
    taboo = next(i for i, u in enumerate(turns) if "你找领导去" in u.text)
    cut = (turns[taboo].end + turns[taboo + 1].start) / 2  # in the pause after the first taboo phrase
    first_part = pcm.data[: int(cut * 8000) * 4]
    with connect(server.ws_url) as ws:
        ws.send(json.dumps({"type": "start", "call_id": "cut/off 1", "mode": "audio"}))
        assert json.loads(ws.recv(timeout=10))["type"] == "started"
        for start in range(0, len(first_part), 3200):
            ws.send(first_part[start : start + 3200])
    # the connection is closed here, without an "end"
    report = wait_for(server.out_dir / f"{safe_name('cut/off 1')}.partial.report.json")
    assert report["call_id"] == "cut/off 1"
    heard = turns[: taboo + 1]  # every turn finished before the cut, the last one by the flush
    session = engine.session("expected")
    for utterance in heard:
        session.feed(utterance)
    expected = session.report().findings
    assert report["utterance_count"] == len(heard) >= 4
    assert [(f["rule_id"], f["start"]) for f in report["findings"]] == [(f.rule_id, f.start) for f in expected]
    assert any(f["rule_id"] == "forbidden.taboo" for f in report["findings"])
    assert not any(f["start"] is None for f in report["findings"])  # call-level rules undecided
    transcript = json.loads((server.out_dir / f"{safe_name('cut/off 1')}.partial.transcript.json").read_text(encoding="utf-8"))
    assert len(transcript["utterances"]) == len(heard)
    assert not list(server.out_dir.glob(".*.tmp"))  # written atomically
    deadline = time.monotonic() + 5  # the call is forgotten just after its report is saved
    while server.state.calls and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.state.calls == {}


def test_transcript_call_cut_off_saves_partial_report(server):
    with connect(server.ws_url) as ws:
        ws.send(json.dumps({"type": "start", "call_id": "dropped", "mode": "transcript"}))
        assert json.loads(ws.recv(timeout=10))["type"] == "started"
        for utterance in reference().utterances[:5]:
            ws.send(json.dumps({"type": "utterance", **utterance.model_dump()}, ensure_ascii=False))
        assert json.loads(ws.recv(timeout=10))["rule_id"] == "forbidden.taboo"
    report = wait_for(server.out_dir / "dropped.partial.report.json")
    assert report["utterance_count"] == 5 and report["findings"][0]["rule_id"] == "forbidden.taboo"
    assert not (server.out_dir / "dropped.report.json").exists()
