"""Malformed and oversize messages get an error event; the connection stays usable."""

from __future__ import annotations

import json

from websockets.sync.client import connect

pytest_plugins = ["serverkit"]  # its fixtures (not a conftest.py: see tests/server/serverkit.py)

START = {"type": "start", "call_id": "proto-1", "mode": "transcript"}
TABOO = {"type": "utterance", "speaker": "agent", "start": 1.0, "end": 3.0, "text": "这个是快递员的事情,你找领导去"}


def send(ws, message) -> dict:
    ws.send(message if isinstance(message, str | bytes) else json.dumps(message, ensure_ascii=False))
    return json.loads(ws.recv(timeout=10))


def test_bad_messages_get_errors_and_the_call_goes_on(server):
    with connect(server.ws_url) as ws:
        assert send(ws, "{not json")["code"] == "bad_json"
        assert send(ws, {"type": "hello"})["code"] == "invalid_message"
        assert send(ws, TABOO)["code"] == "not_started"
        assert send(ws, b"\x00\x01")["code"] == "not_started"
        bad_start = send(ws, {"type": "start", "call_id": "", "mode": "video"})
        assert bad_start["code"] == "invalid_message" and "call_id" in bad_start["message"]
        assert send(ws, {**START, "rules": "nope"})["code"] == "unknown_rules"
        started = send(ws, START)
        assert started["type"] == "started" and started["rules"] == "default"
        assert send(ws, START)["code"] == "already_started"
        backwards = send(ws, {**TABOO, "start": 5.0})
        assert backwards["code"] == "invalid_message" and "before start" in backwards["message"]
        assert send(ws, {**TABOO, "extra": 1})["code"] == "invalid_message"
        assert send(ws, b"\x00" * 320)["code"] == "wrong_mode"
        finding = send(ws, TABOO)
        assert finding["type"] == "finding" and finding["rule_id"] == "forbidden.taboo"
        assert finding["evidence"]["text"] == "你找领导去" and finding["decided_at"] == 0
        ws.send(json.dumps({"type": "end"}))
        messages = [json.loads(m) for m in ws]
        report = messages[-1]
        assert report["type"] == "report" and report["utterance_count"] == 1
        assert any(f["rule_id"] == "forbidden.taboo" for f in report["findings"])


def test_oversize_frames_and_messages_are_rejected(server):
    limit = server.state.config.max_frame_bytes
    with connect(server.ws_url, max_size=None) as ws:
        assert send(ws, {"type": "start", "call_id": "proto-2", "mode": "audio"})["type"] == "started"
        rejected = send(ws, b"\x00" * (limit + 2))
        assert rejected["code"] == "frame_too_large" and str(limit) in rejected["message"]
        huge = json.dumps({"type": "end", "pad": "x" * server.state.config.max_message_bytes})
        assert send(ws, huge)["code"] == "message_too_large"
        assert send(ws, {"type": "utterance", **{k: v for k, v in TABOO.items() if k != "type"}})["code"] == "wrong_mode"
        ws.send(b"\x00" * 1600)  # a normal frame (0.1 s of silence) is still taken
        ws.send(json.dumps({"type": "end"}))
        report = [json.loads(m) for m in ws][-1]
        assert report["type"] == "report" and report["duration"] == 0.0


def test_a_call_id_streams_once_at_a_time(server):
    with connect(server.ws_url) as first, connect(server.ws_url) as second:
        assert send(first, {**START, "call_id": "twice"})["type"] == "started"
        assert send(second, {**START, "call_id": "twice"})["code"] == "call_in_progress"
        assert send(second, {**START, "call_id": "twice-b"})["type"] == "started"
