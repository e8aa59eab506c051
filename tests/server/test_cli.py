"""`qa stream` against a live server, and `qa serve` refusing a broken rule file."""

from __future__ import annotations

from callsamples import TRANSCRIPTS
from typer.testing import CliRunner

from qa_engine.cli import app

pytest_plugins = ["serverkit"]  # its fixtures (not a conftest.py: see tests/server/serverkit.py)


def test_stream_prints_findings_then_the_score(server):
    transcript = TRANSCRIPTS / "forbidden_03.json"
    result = CliRunner().invoke(app, ["stream", "--transcript", str(transcript), "--url", server.ws_url, "--speed", "0"])
    assert result.exit_code == 0, result.output
    assert "forbidden.taboo" in result.output and "使用服务禁语" in result.output
    assert "得分 0 / 100" in result.output and "一票否决" in result.output


def test_stream_reports_a_server_that_is_not_there():
    result = CliRunner().invoke(app, ["stream", "--transcript", str(TRANSCRIPTS / "clean_01.json"),
                                      "--url", "ws://127.0.0.1:9/v1/stream"])
    assert result.exit_code == 1 and "cannot stream" in result.output


def test_serve_refuses_a_broken_rule_file(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nrules:\n  - id: a\n    kind: phrasez\n    category: c\n    message: m\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["serve", "--rules", str(broken), "--no-preload"])
    assert result.exit_code == 1
    assert f"{broken}:4" in result.output and "phrases" in result.output
