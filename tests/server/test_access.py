"""Bearer token on HTTP and WebSocket; `busy` when over capacity."""

from __future__ import annotations

import json
from contextlib import ExitStack

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from qa_engine.live.capacity import CapacityPolicy

pytest_plugins = ["serverkit"]  # its fixtures (not a conftest.py: see tests/server/serverkit.py)

TOKEN = "s3cret"
START = {"type": "start", "call_id": "tok", "mode": "transcript"}
AUDIO = {"type": "start", "mode": "audio", "sample_rate": 8000}


def open_call(stack: ExitStack, url: str, start: dict, **kwargs):
    ws = stack.enter_context(connect(url, **kwargs))
    ws.send(json.dumps(start))
    return json.loads(ws.recv(timeout=10)), ws


def closed_with(ws) -> int | None:
    with pytest.raises(ConnectionClosed):
        ws.recv(timeout=5)
    return ws.close_code


def end_call(ws) -> dict:
    ws.send(json.dumps({"type": "end"}))
    return [json.loads(m) for m in ws][-1]


def test_token_required_when_set(start_server):
    server = start_server(token=TOKEN)
    with ExitStack() as stack:
        ws = stack.enter_context(connect(server.ws_url))
        assert json.loads(ws.recv(timeout=10))["code"] == "unauthorized"
        assert closed_with(ws) == 1008
        reply, ws = open_call(stack, server.ws_url, START, additional_headers={"Authorization": f"Bearer {TOKEN}"})
        assert reply["type"] == "started"
        reply, ws = open_call(stack, server.ws_url + f"?token={TOKEN}", {**START, "call_id": "tok-2"})
        assert reply["type"] == "started"
    transcript = {"call_id": "c", "utterances": [{"speaker": "agent", "start": 0, "end": 2, "text": "您好"}]}
    with httpx.Client(base_url=server.http_url) as http:
        assert http.post("/v1/score", json=transcript).status_code == 401
        assert http.post("/v1/score", json=transcript, headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = http.post("/v1/score", json=transcript, headers={"Authorization": f"Bearer {TOKEN}"})
        assert ok.status_code == 200 and ok.json()["call_id"] == "c"
        assert http.post("/v1/rules/reload").status_code == 401
        assert http.get("/healthz").status_code == 200  # probes need no token


def test_busy_when_over_capacity(start_server):
    server = start_server(capacity=CapacityPolicy(max_audio_calls=1), max_transcript_calls=1)
    with ExitStack() as stack:
        first, audio_call = open_call(stack, server.ws_url, {**AUDIO, "call_id": "a1"})
        assert first["type"] == "started"
        busy, refused = open_call(stack, server.ws_url, {**AUDIO, "call_id": "a2"})
        assert busy["type"] == "busy" and "limit of 1" in busy["message"]
        assert closed_with(refused) == 1013
        reply, transcript_call = open_call(stack, server.ws_url, {**START, "call_id": "t1"})
        assert reply["type"] == "started"  # transcript calls have their own limit
        busy, _ = open_call(stack, server.ws_url, {**START, "call_id": "t2"})
        assert busy["type"] == "busy"
        health = httpx.get(server.http_url + "/healthz").json()
        assert health["calls"] == {"audio": 1, "transcript": 1, "refused": 2}
        assert end_call(audio_call)["type"] == "report"
        assert end_call(transcript_call)["type"] == "report"
        again, _ = open_call(stack, server.ws_url, {**AUDIO, "call_id": "a3"})
        assert again["type"] == "started"  # capacity is freed when a call ends


def test_busy_when_transcription_lags(start_server, monkeypatch):
    server = start_server()
    monkeypatch.setattr(server.state.worker, "lag", lambda: 5.0)
    with ExitStack() as stack:
        busy, _ = open_call(stack, server.ws_url, {**AUDIO, "call_id": "late"})
        assert busy["type"] == "busy" and "behind real time" in busy["message"]
