"""Defects 1, 2, 6 (server half) and 11: body limits, scoring off the event loop, uploads."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import httpx
from callsamples import TRANSCRIPTS
from websockets.sync.client import connect

from hardening_server.kit import FileRecognizer, SlowFileRecognizer, chunk, raw_http, wav_bytes
from qa_engine.models import CallTranscript
from qa_engine.server import ServerConfig
from qa_engine.server.limits import BodyLimit

pytest_plugins = ["serverkit"]

TRANSCRIPT = (TRANSCRIPTS / "forbidden_03.json").read_bytes()


# -- defect 1: Content-Length plus Transfer-Encoding bypassed the body limits ------------------------------


def test_defect_01_chunked_body_over_limit_is_rejected(start_server):
    server = start_server(max_transcript_bytes=4096)
    body = json.dumps({"call_id": "big", "utterances": [
        {"speaker": "agent", "start": i, "end": i + 0.5, "text": "您好"} for i in range(2000)]}).encode()
    assert len(body) > 4096
    head = ("POST /v1/score HTTP/1.1\nHost: 127.0.0.1\nContent-Type: application/json\n"
            "Content-Length: 10\nTransfer-Encoding: chunked\n")
    parts = [chunk(body[i:i + 8192]) for i in range(0, len(body), 8192)] + [b"0\r\n\r\n"]
    status, answer = raw_http(server.port, head, parts)
    assert status == 400, answer[:300]
    assert b"Content-Length and Transfer-Encoding" in answer


def test_defect_01_chunked_upload_with_content_length_writes_nothing(start_server, tmp_path):
    server = start_server(recognizer=FileRecognizer(), cache_dir=tmp_path / "cache", max_upload_bytes=64 * 1024)
    head = ("POST /v1/calls?call_id=smuggled HTTP/1.1\nHost: 127.0.0.1\nContent-Type: audio/wav\n"
            "Content-Length: 10\nTransfer-Encoding: chunked\n")
    audio = wav_bytes(data_bytes=512 * 1024)
    parts = [chunk(audio[i:i + 65536]) for i in range(0, len(audio), 65536)] + [b"0\r\n\r\n"]
    status, _ = raw_http(server.port, head, parts)
    assert status == 400
    uploads = server.out_dir / ".uploads"
    assert not uploads.exists() or not list(uploads.iterdir())
    assert not list(server.out_dir.glob("smuggled*"))


def test_defect_01_body_bytes_are_counted_whatever_the_headers():
    """The bytes received are counted even when the declared length is small (defence in depth
    for any HTTP layer that lets a longer body through)."""
    answered: list[dict] = []

    async def app(scope, receive, send):
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def run() -> None:
        pieces = [{"type": "http.request", "body": b"x" * 1000, "more_body": True} for _ in range(50)]
        pieces.append({"type": "http.request", "body": b"", "more_body": False})

        async def receive():
            return pieces.pop(0)

        async def send(message):
            answered.append(message)

        scope = {"type": "http", "method": "POST", "path": "/v1/score", "headers": [(b"content-length", b"10")]}
        await BodyLimit(app, {"/v1/score": 4096})(scope, receive, send)

    asyncio.run(run())
    assert answered[0]["status"] == 413


# -- defect 2: scoring on the event loop froze the server --------------------------------------------------


def test_defect_02_scoring_runs_off_the_event_loop(start_server, monkeypatch):
    server = start_server()
    engine = server.state.rules.get().engine
    real = engine.score

    def slow_score(transcript):
        time.sleep(3.0)  # a transcript that takes long to score (blocking, as the engine is)
        return real(transcript)

    monkeypatch.setattr(engine, "score", slow_score)
    scoring = threading.Thread(
        target=httpx.post,
        args=(server.http_url + "/v1/score",),
        kwargs={"content": TRANSCRIPT, "headers": {"Content-Type": "application/json"}, "timeout": 30},
    )
    scoring.start()
    time.sleep(0.5)  # the score request is in
    started = time.monotonic()
    assert httpx.get(server.http_url + "/healthz", timeout=10).status_code == 200
    waited = time.monotonic() - started
    with connect(server.ws_url) as ws:  # a live call is answered at once too
        ws.send(json.dumps({"type": "start", "call_id": "live-during-score"}))
        assert json.loads(ws.recv(timeout=1.5))["type"] == "started"
    scoring.join(30)
    assert waited < 1.0, f"/healthz waited {waited:.1f}s behind a transcript being scored"


def test_defect_02_transcript_size_is_bounded_by_config(start_server):
    server = start_server(max_utterances=50, max_utterance_chars=200)
    many = {"call_id": "many", "utterances": [
        {"speaker": "agent", "start": i, "end": i + 0.5, "text": "您好"} for i in range(51)]}
    reply = httpx.post(server.http_url + "/v1/score", json=many)
    assert reply.status_code == 413 and "at most 50" in reply.json()["detail"]
    long = {"call_id": "long", "utterances": [{"speaker": "agent", "start": 0, "end": 1, "text": "好" * 201}]}
    reply = httpx.post(server.http_url + "/v1/score", json=long)
    assert reply.status_code == 413 and "utterances.0.text" in reply.json()["detail"]
    ok = CallTranscript.model_validate_json(TRANSCRIPT)
    assert len(ok.utterances) <= 50
    assert httpx.post(server.http_url + "/v1/score", content=TRANSCRIPT,
                      headers={"Content-Type": "application/json"}).status_code == 200


# -- defect 6: a WAV header claiming 1 Hz, uploads invisible to admission control, SIGTERM ---------------


def test_defect_06_wav_header_claiming_1hz_is_refused_before_transcription(start_server, tmp_path):
    recognizer = FileRecognizer()
    server = start_server(recognizer=recognizer, cache_dir=tmp_path / "cache", max_call_seconds=4 * 3600)
    lying = wav_bytes(sample_rate=1, data_bytes=1_700_000)  # 1.7 MB "of 850,000 s" (236 h)
    started = time.monotonic()
    reply = httpx.post(server.http_url + "/v1/calls?call_id=hz1&filename=call.wav", content=lying, timeout=30)
    assert reply.status_code == 422, reply.text  # the shared audio check: a damaged header, located
    assert "implausible sample rate 1 Hz" in reply.json()["detail"]
    assert time.monotonic() - started < 5 and recognizer.files == 0
    short_limit = start_server(recognizer=recognizer, cache_dir=tmp_path / "cache2", max_call_seconds=60)
    two_minutes = wav_bytes(sample_rate=8000, data_bytes=8000 * 2 * 120)  # plausible header, over the limit
    reply = httpx.post(short_limit.http_url + "/v1/calls?call_id=long&filename=call.wav", content=two_minutes, timeout=30)
    assert reply.status_code == 413, reply.text
    assert "max_call_seconds" in reply.json()["detail"] and recognizer.files == 0
    fine = httpx.post(server.http_url + "/v1/calls?call_id=ok&filename=call.wav", content=wav_bytes(), timeout=30)
    assert fine.status_code == 200, fine.text


def test_defect_06_admission_control_counts_upload_work(start_server, tmp_path):
    recognizer = SlowFileRecognizer(seconds=20)
    server = start_server(recognizer=recognizer, cache_dir=tmp_path / "cache")
    minute = wav_bytes(sample_rate=8000, data_bytes=8000 * 2 * 60)  # 60 s: ~15 s of transcription expected
    upload = threading.Thread(target=httpx.post, args=(server.http_url + "/v1/calls?call_id=long-up",),
                              kwargs={"content": minute, "timeout": 60})
    upload.start()
    try:
        assert recognizer.started.wait(10)
        health = httpx.get(server.http_url + "/healthz").json()
        assert health["stt"]["uploads"]["running"] == 1
        assert health["stt"]["lag_s"] > server.state.config.capacity.max_lag_s
        with connect(server.ws_url) as ws:
            ws.send(json.dumps({"type": "start", "call_id": "live-audio", "mode": "audio"}))
            answer = json.loads(ws.recv(timeout=10))
        assert answer["type"] == "busy" and "behind" in answer["message"]
    finally:
        recognizer.release.set()
        upload.join(30)
    assert httpx.get(server.http_url + "/healthz").json()["stt"]["uploads"] == {"running": 0, "queued": 0, "backlog_s": 0.0}


def test_defect_06_shutdown_cancels_a_running_upload(tmp_path):
    from serverkit import _Running

    recognizer = SlowFileRecognizer(seconds=120)
    config = ServerConfig(out_dir=tmp_path / "out", cache_dir=tmp_path / "cache", preload_model=False, shutdown_grace_s=0.5)
    running = _Running(config, recognizer)
    answers: list = []

    def post() -> None:
        try:
            answers.append(httpx.post(running.live.http_url + "/v1/calls?call_id=stop-me", content=wav_bytes(), timeout=60))
        except httpx.HTTPError as exc:
            answers.append(exc)

    upload = threading.Thread(target=post)
    upload.start()
    assert recognizer.started.wait(10)
    started = time.monotonic()
    running.server.should_exit = True  # what uvicorn's SIGTERM handler does
    running.thread.join(30)
    assert not running.thread.is_alive()
    assert time.monotonic() - started < 10, "the server waited for the upload to finish"
    assert type(recognizer.stopped_by).__name__ == "UploadCancelled"
    upload.join(10)
    assert not list((tmp_path / "out" / ".uploads").iterdir())


# -- defect 11: an upload aborted mid-body left its temp file ----------------------------------------------


def test_defect_11_aborted_upload_leaves_no_temp_file(start_server, tmp_path):
    import socket

    server = start_server(recognizer=FileRecognizer(), cache_dir=tmp_path / "cache")
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        head = "POST /v1/calls?call_id=aborted HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n"
        sock.sendall(head.encode() + b"\0" * 200_000)
        uploads = server.out_dir / ".uploads"
        deadline = time.monotonic() + 5
        while not (uploads.exists() and list(uploads.iterdir())) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert list(uploads.iterdir()), "the upload never started"
    deadline = time.monotonic() + 10
    while list(uploads.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not list(uploads.iterdir())
