"""Defects 8, 9, 10 (medium) and 14, 16, 17 (low), server half."""

from __future__ import annotations

import json
import logging
import shutil

import httpx
import pytest
from callsamples import ROOT, TRANSCRIPTS
from typer.testing import CliRunner
from websockets.sync.client import connect

from hardening_server.kit import FileRecognizer, wav_bytes
from qa_engine.cli import app as cli
from qa_engine.server import ServerConfig

pytest_plugins = ["serverkit"]

TRANSCRIPT = json.loads((TRANSCRIPTS / "forbidden_03.json").read_text(encoding="utf-8"))


def stream_call(server, call_id: str, utterances: list[dict], token: str | None = None) -> list[dict]:
    """One transcript-mode call; every event the server sent."""
    url = server.ws_url + (f"?token={token}" if token else "")
    events = []
    with connect(url) as ws:
        ws.send(json.dumps({"type": "start", "call_id": call_id}))
        events.append(json.loads(ws.recv(timeout=10)))
        for utterance in utterances:
            ws.send(json.dumps({"type": "utterance", **utterance}))
        ws.send(json.dumps({"type": "end"}))
        while events[-1]["type"] != "report":
            events.append(json.loads(ws.recv(timeout=10)))
    return events


# -- defect 8: a reused call id (or x/y then x_y) overwrote the earlier report -----------------------------


def test_defect_08_reused_call_id_never_overwrites_a_report(server):
    first = stream_call(server, "again", TRANSCRIPT["utterances"][:3])[-1]
    second = stream_call(server, "again", TRANSCRIPT["utterances"])[-1]
    assert first["utterance_count"] != second["utterance_count"]
    one, two = server.out_dir / "again.report.json", server.out_dir / "again~2.report.json"
    assert json.loads(one.read_text(encoding="utf-8"))["utterance_count"] == first["utterance_count"]
    assert json.loads(two.read_text(encoding="utf-8"))["utterance_count"] == second["utterance_count"]


def test_defect_08_ids_that_slug_alike_get_distinct_files(server):
    stream_call(server, "x/y", TRANSCRIPT["utterances"][:2])
    stream_call(server, "x_y", TRANSCRIPT["utterances"][:4])
    saved = {json.loads(p.read_text(encoding="utf-8"))["call_id"]: p for p in server.out_dir.glob("x_y*.report.json")}
    assert set(saved) == {"x/y", "x_y"} and saved["x/y"] != saved["x_y"]


# -- defect 9: a call id of 100 Chinese characters was not saved -------------------------------------------


def test_defect_09_long_chinese_call_id_is_saved(server):
    call_id = "客户投诉回访" * 16 + "质检"  # 98 characters, 294 bytes of UTF-8
    assert len(call_id) <= 200
    report = stream_call(server, call_id, TRANSCRIPT["utterances"])[-1]
    saved = server.state.archive.path(call_id)
    assert saved.exists() and len(saved.name.encode()) < 255
    assert json.loads(saved.read_text(encoding="utf-8")) == {k: v for k, v in report.items() if k != "type"}


# -- defect 10: deep JSON or a lone surrogate dropped the WebSocket without an error event -----------------


def test_defect_10_deep_json_and_lone_surrogate_get_error_events(server):
    with connect(server.ws_url) as ws:
        ws.send(json.dumps({"type": "start", "call_id": "ws-bad-input"}))
        assert json.loads(ws.recv(timeout=10))["type"] == "started"
        ws.send("[" * 5000 + "]" * 5000)
        deep = json.loads(ws.recv(timeout=10))
        assert deep["type"] == "error" and deep["code"] == "invalid_message" and "nested" in deep["message"]
        ws.send('{"type":"utterance","speaker":"agent","start":0,"end":1,"text":"\\ud800 你好"}')
        lone = json.loads(ws.recv(timeout=10))
        assert lone["type"] == "error" and "surrogate" in lone["message"]
        ws.send('{"type":"utterance","speaker":"agent","start":NaN,"end":1,"text":"你好"}')
        assert json.loads(ws.recv(timeout=10))["type"] == "error"
        for utterance in TRANSCRIPT["utterances"]:  # the connection is still usable
            ws.send(json.dumps({"type": "utterance", **utterance}))
        ws.send(json.dumps({"type": "end"}))
        events = [json.loads(ws.recv(timeout=10))]
        while events[-1]["type"] != "report":
            events.append(json.loads(ws.recv(timeout=10)))
    report = events[-1]
    assert report["utterance_count"] == len(TRANSCRIPT["utterances"])
    assert any(f["rule_id"] == "forbidden.taboo" for f in report["findings"]) and report["score"] < 100


# -- defect 14: 500s for NaN, lone surrogates, a 0-bit WAV, deeply nested rule YAML -----------------------


def test_defect_14_nan_and_lone_surrogate_in_score_are_4xx(server):
    url = server.http_url + "/v1/score"
    headers = {"Content-Type": "application/json"}
    nan = b'{"call_id":"n","utterances":[{"speaker":"agent","start":NaN,"end":1,"text":"hi"}]}'
    reply = httpx.post(url, content=nan, headers=headers)
    assert reply.status_code == 422, reply.text
    assert reply.json()["detail"][0]["loc"] == ["body", "utterances", 0, "start"]
    assert "not a finite number" in reply.json()["detail"][0]["msg"]
    infinite = nan.replace(b'"end":1', b'"end":1e999')  # json reads it as inf
    reply = httpx.post(url, content=infinite.replace(b"NaN", b"0"), headers=headers)
    assert reply.status_code == 422 and "finite" in reply.text
    lone = b'{"call_id":"s","utterances":[{"speaker":"agent","start":0,"end":1,"text":"\\ud800"}]}'
    reply = httpx.post(url, content=lone, headers=headers)
    assert reply.status_code == 422 and "surrogate" in reply.text
    deep = b'{"call_id":"d","utterances":[],"stt":' + b'{"a":' * 200 + b"1" + b"}" * 200 + b"}"
    assert httpx.post(url, content=deep, headers=headers).status_code == 422


def test_defect_14_zero_bit_wav_upload_is_4xx(start_server, tmp_path):
    server = start_server(recognizer=FileRecognizer(), cache_dir=tmp_path / "cache")
    reply = httpx.post(server.http_url + "/v1/calls?call_id=zero-bit", content=wav_bytes(bits=0), timeout=30)
    assert reply.status_code == 422, reply.text
    assert "call.wav" in reply.json()["detail"]


def test_defect_14_deeply_nested_rule_yaml_reload_is_located_4xx(start_server, tmp_path):
    rules = tmp_path / "house.yaml"
    shutil.copy(ROOT / "rules" / "default.yaml", rules)
    server = start_server(rules=[rules])
    rules.write_text("name: x\nrules: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    reply = httpx.post(server.http_url + "/v1/rules/reload")
    assert reply.status_code == 422
    problem = reply.json()["problems"][0]
    assert problem["path"] == str(rules) and "nesting depth" in problem["message"]
    assert reply.json()["rules"]["house"]["rules"] > 0  # the old rules stay


# -- defect 16: token in the access log, paths in /healthz and upload reports, open host without token -----


def test_defect_16_query_token_is_redacted_in_the_log(start_server):
    server = start_server(token="s3cret-token")
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    loggers = [logging.getLogger(n) for n in ("uvicorn.error", "uvicorn.access")]
    keep = Keep()
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.INFO)
        lg.addHandler(keep)
    try:
        stream_call(server, "tok", TRANSCRIPT["utterances"][:1], token="s3cret-token")
        httpx.get(server.http_url + "/v1/rules?token=s3cret-token")
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.removeHandler(keep)
            lg.setLevel(level)
    assert any("token=[redacted]" in r for r in records), records
    assert not any("s3cret-token" in r for r in records)


def test_defect_16_healthz_without_auth_shows_no_paths(start_server, tmp_path):
    rules = tmp_path / "house.yaml"
    shutil.copy(ROOT / "rules" / "default.yaml", rules)
    server = start_server(rules=[rules], token="s3cret")
    open_health = httpx.get(server.http_url + "/healthz")
    assert open_health.status_code == 200
    assert open_health.json()["status"] == "ok" and "version" in open_health.json()
    assert str(tmp_path) not in open_health.text and "rules" not in open_health.json()
    full = httpx.get(server.http_url + "/healthz", headers={"Authorization": "Bearer s3cret"})
    assert "capacity" in full.json() and str(tmp_path) not in full.text


def test_defect_16_upload_report_does_not_show_the_model_path(start_server, tmp_path):
    stt = {"engine": "faster-whisper", "model_path": "/srv/secret/models/whisper-base", "device": "cpu"}
    server = start_server(recognizer=FileRecognizer(stt=stt), cache_dir=tmp_path / "cache")
    reply = httpx.post(server.http_url + "/v1/calls?call_id=model-path", content=wav_bytes(), timeout=30)
    assert reply.status_code == 200
    assert "/srv/secret" not in reply.text and reply.json()["provenance"]["stt"]["device"] == "cpu"


def test_defect_16_open_host_without_token_is_refused_unless_insecure():
    with pytest.raises(ValueError, match="no token"):
        ServerConfig(host="0.0.0.0")
    assert ServerConfig(host="0.0.0.0", token="t").host == "0.0.0.0"
    assert ServerConfig(host="0.0.0.0", insecure=True).insecure
    assert ServerConfig(host="::1").host == "::1"
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--no-preload"])
    assert result.exit_code == 1 and "--insecure" in result.output


# -- defect 17: a BOM-prefixed JSON body is accepted (and stays so) ----------------------------------------


def test_defect_17_bom_prefixed_json_body_is_accepted(server):
    body = "\ufeff".encode() + json.dumps(TRANSCRIPT, ensure_ascii=False).encode()
    reply = httpx.post(server.http_url + "/v1/score", content=body, headers={"Content-Type": "application/json"})
    assert reply.status_code == 200 and reply.json()["call_id"] == TRANSCRIPT["call_id"]
