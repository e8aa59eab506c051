"""HTTP: score a transcript, score an uploaded recording, reload rules, health, OpenAPI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
from callsamples import AUDIO, FORBIDDEN, ROOT, TRANSCRIPTS, reference
from websockets.sync.client import connect

from qa_engine.live.reference import ReferenceRecognizer
from qa_engine.models import CallTranscript
from qa_engine.stt import STTOptions

pytest_plugins = ["serverkit"]  # its fixtures (not a conftest.py: see tests/server/serverkit.py)


def test_score_transcript_matches_engine(server, engine):
    transcript = CallTranscript.model_validate_json((TRANSCRIPTS / "forbidden_03.json").read_text(encoding="utf-8"))
    body = {"content": transcript.model_dump_json(), "headers": {"Content-Type": "application/json"}}
    reply = httpx.post(server.http_url + "/v1/score", **body)
    assert reply.status_code == 200
    assert reply.json()["findings"] == [f.model_dump(mode="json") for f in engine.score(transcript).findings]
    invalid = httpx.post(server.http_url + "/v1/score", json={"call_id": "x"})
    assert invalid.status_code == 422
    unknown = httpx.post(server.http_url + "/v1/score?rules=nope", **body)
    assert unknown.status_code == 404 and "default" in unknown.json()["detail"]


def test_body_limits(start_server):
    server = start_server(max_transcript_bytes=1000)
    big = {"call_id": "x", "utterances": [{"speaker": "agent", "start": 0, "end": 1, "text": "您好" * 400}]}
    assert httpx.post(server.http_url + "/v1/score", json=big).status_code == 413

    def chunked():
        yield b'{"call_id": "x", "utterances": []}'

    assert httpx.post(server.http_url + "/v1/score", content=chunked()).status_code == 411


class UploadRecognizer(ReferenceRecognizer):
    """Also 'transcribes' whole files (the batch path), from the reference transcript."""

    options = STTOptions()

    def transcribe(self, path, *, call_id=None, agent_id=None, audio_sha256=None) -> CallTranscript:
        self.files = getattr(self, "files", 0) + 1
        return reference().model_copy(update={"call_id": call_id, "agent_id": agent_id, "source": "stt"})


def test_upload_recording_uses_batch_path_and_cache(start_server, tmp_path, engine):
    recognizer = UploadRecognizer(reference())
    server = start_server(recognizer=recognizer, cache_dir=tmp_path / "cache")
    audio = (AUDIO / f"{FORBIDDEN}.flac").read_bytes()
    url = server.http_url + "/v1/calls?call_id=up-1&agent_id=A215&filename=call.flac"
    for _ in range(2):
        reply = httpx.post(url, content=audio, headers={"Content-Type": "audio/flac"}, timeout=30)
        assert reply.status_code == 200, reply.text
    assert recognizer.files == 1  # the second upload came from the transcript cache
    report = reply.json()
    assert report["call_id"] == "up-1" and report["agent_id"] == "A215"
    assert report["findings"] == [f.model_dump(mode="json") for f in engine.score(reference()).findings]
    assert (server.out_dir / "up-1.report.json").exists()
    assert not list((server.out_dir / ".uploads").iterdir())  # uploads are not kept


def test_reload_with_broken_rules_keeps_the_old_ones(start_server, tmp_path):
    rules = tmp_path / "house.yaml"
    shutil.copy(ROOT / "rules" / "default.yaml", rules)
    server = start_server(rules=[rules])
    http = httpx.Client(base_url=server.http_url)
    before = http.get("/v1/rules").json()["rules"]["house"]["sha256"]
    rules.write_text(rules.read_text(encoding="utf-8").replace("kind: phrases", "kind: phrase", 1), encoding="utf-8")
    broken = http.post("/v1/rules/reload")
    assert broken.status_code == 422
    problem = broken.json()["problems"][0]
    assert problem["path"] == str(rules) and problem["line"] and "phrase" in problem["message"]
    assert broken.json()["rules"]["house"]["sha256"] == before
    with connect(server.ws_url) as ws:  # calls still run on the old rules
        ws.send(json.dumps({"type": "start", "call_id": "r1", "rules": "house"}))
        assert json.loads(ws.recv(timeout=10))["rules_sha256"] == before
    fixed = Path(rules)
    fixed.write_text((ROOT / "rules" / "default.yaml").read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    reloaded = http.post("/v1/rules/reload")
    assert reloaded.status_code == 200 and reloaded.json()["rules"]["house"]["sha256"] != before


def test_health_and_openapi(server):
    health = httpx.get(server.http_url + "/healthz").json()
    assert health["status"] == "ok" and health["default_rules"] == "default"
    assert health["capacity"]["audio_calls"] >= 1
    paths = httpx.get(server.http_url + "/openapi.json").json()["paths"]
    assert {"/v1/score", "/v1/calls", "/v1/rules/reload", "/healthz"} <= set(paths)
