"""The command line's shared pieces: serve's config file, STT options declared once, batch verbosity."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa_engine.cli import app
from qa_engine.server.config import ConfigFileError, load_server_config

SAMPLES = Path(__file__).parent.parent / "samples" / "transcripts"


def test_server_config_file_with_flags_on_top(tmp_path):
    path = tmp_path / "server.yaml"
    path.write_text("port: 9001\nstt:\n  beam_size: 2\n  device: cpu\ncapacity:\n  max_lag_s: 4\n", encoding="utf-8")
    config = load_server_config(path, {"stt": {"beam_size": 3}, "host": "127.0.0.2"})
    assert (config.port, config.host, config.stt.beam_size, config.stt.device) == (9001, "127.0.0.2", 3, "cpu")
    assert config.capacity.max_lag_s == 4
    as_json = tmp_path / "server.json"
    as_json.write_text(json.dumps({"max_uploads": 3}), encoding="utf-8")
    assert load_server_config(as_json).max_uploads == 3


def test_server_config_errors_name_the_file_line_and_field(tmp_path):
    path = tmp_path / "server.yaml"
    path.write_text("port: 9001\nstt:\n  device: gpu\nbogus: 1\n", encoding="utf-8")
    with pytest.raises(ConfigFileError) as error:
        load_server_config(path)
    message = str(error.value)
    assert f"{path}:3: stt.device:" in message
    assert f"{path}:4: bogus: unknown key" in message and "max_uploads" in message


def test_serve_reports_a_bad_config_file(tmp_path):
    path = tmp_path / "server.json"
    path.write_text('{"port": "many"}', encoding="utf-8")
    result = CliRunner().invoke(app, ["serve", "--config", str(path), "--no-preload"])
    assert result.exit_code == 1 and "server.json:1: port:" in result.output


@pytest.mark.parametrize("command", ["score", "transcribe", "serve"])
def test_stt_options_are_the_same_everywhere(command):
    result = CliRunner().invoke(app, [command, "--help"], terminal_width=200)
    for flag in ("--model", "--device", "--compute-type", "--threads", "--beam-size"):
        assert flag in result.output, (command, flag)
    assert ("--channels" in result.output) == (command != "serve")


def _batch(tmp_path: Path, copies: int) -> Path:
    calls = tmp_path / "calls"
    calls.mkdir()
    source = json.loads((SAMPLES / "forbidden_03.json").read_text(encoding="utf-8"))
    for n in range(copies):
        (calls / f"c{n:02d}.json").write_text(json.dumps(source | {"call_id": f"c{n:02d}"}), encoding="utf-8")
    return calls


def test_large_batch_prints_findings_only_when_verbose(tmp_path):
    calls = _batch(tmp_path, 21)
    quiet = CliRunner().invoke(app, ["score", str(calls), "--out", str(tmp_path / "a")])
    assert quiet.exit_code == 0 and "客服 [" not in quiet.output
    assert "c20\n" not in quiet.output
    loud = CliRunner().invoke(app, ["score", str(calls), "--out", str(tmp_path / "b"), "-v"])
    assert loud.exit_code == 0 and all(f"c{n:02d}\n" in loud.output for n in range(21))
    alias = CliRunner().invoke(app, ["score", str(calls), "--out", str(tmp_path / "c"), "--details"])
    assert all(f"c{n:02d}\n" in alias.output for n in range(21))


def test_small_batch_prints_findings_unless_no_details(tmp_path):
    calls = _batch(tmp_path, 2)
    shown = CliRunner().invoke(app, ["score", str(calls), "--out", str(tmp_path / "a")])
    assert "c01\n" in shown.output and "客服 [" in shown.output
    hidden = CliRunner().invoke(app, ["score", str(calls), "--out", str(tmp_path / "b"), "--no-details"])
    assert "客服 [" not in hidden.output
