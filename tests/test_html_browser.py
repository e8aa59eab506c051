"""HTML reports in a real browser: scripts run without errors, marks render, plotly draws, screenshots.

Needs headless Chromium at /usr/bin/chromium (Debian: `apt-get install chromium fonts-noto-cjk`;
the fonts only matter for legible Chinese in the screenshots). Skipped when it is absent.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from qa_engine.models import CallReport, CallTranscript
from qa_engine.report.html import HtmlReportWriter

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SCREENSHOT_COPIES = {"call": Path("/tmp/qa_call_page.png"), "summary": Path("/tmp/qa_summary.png")}

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="headless Chromium not found at /usr/bin/chromium (apt-get install -y chromium fonts-noto-cjk)",
)

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--mute-audio",
    "--enable-logging=stderr",
    "--v=0",
]


def chromium(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium once on a local page; JavaScript errors land in stderr as CONSOLE lines."""
    command = [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def script_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "CONSOLE" in line and re.search(r"Uncaught|Error", line)]


@pytest.fixture(scope="module")
def site(tmp_path_factory, engine, default_rules) -> tuple[Path, dict[str, CallReport]]:
    out = tmp_path_factory.mktemp("browser-html")
    writer = HtmlReportWriter(out, default_rules)
    reports = {}
    for name in ("nonstandard_04", "deadair_09", "forbidden_03", "speechrate_10"):
        transcript = CallTranscript.model_validate_json(
            (SAMPLES / "transcripts" / f"{name}.json").read_text("utf-8")
        )
        reports[name] = engine.score(transcript)
        writer.add(reports[name], transcript)
    ref = CallTranscript.model_validate_json(
        (SAMPLES / "audio" / "audio_deadair_04.ref.json").read_text("utf-8")
    )
    reports[ref.call_id] = engine.score(ref)
    writer.add(reports[ref.call_id], ref, SAMPLES / "audio" / "audio_deadair_04.wav")
    writer.add(CallReport(call_id="broken_99", status="failed", error="bad JSON"), None)
    writer.finish()
    return out, reports


def test_call_page_renders_marks_and_runs_its_script(site, tmp_path):
    out, reports = site
    done = chromium(
        out / "audio_deadair_04.html", tmp_path / "profile", "--virtual-time-budget=3000", "--dump-dom"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert not script_errors(done.stderr), script_errors(done.stderr)
    assert re.search(r'<html[^>]*data-ready="1"', dom), "the page script did not finish"
    marks = re.findall(r'<mark class="hl sev-(\w+)" data-rule-id="([^"]+)" data-finding="(\d+)"', dom)
    report = reports["audio_deadair_04"]
    for index, finding in enumerate(report.findings):
        if finding.evidence and finding.evidence.text:
            assert (finding.severity, finding.rule_id, str(index)) in marks
    assert '<audio id="player"' in dom and 'src="audio/audio_deadair_04.wav"' in dom


def test_summary_page_draws_the_plotly_charts(site, tmp_path):
    out, _ = site
    done = chromium(out / "index.html", tmp_path / "profile", "--virtual-time-budget=5000", "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert not script_errors(done.stderr), script_errors(done.stderr)
    assert re.search(r'<html[^>]*data-ready="1"', dom)
    for chart in ("chart-scores", "chart-categories", "chart-rules"):
        drawn = re.search(rf'id="{chart}"[^>]*>\s*<div class="plot-container', dom)
        assert drawn, f"{chart} was not drawn by plotly"
    assert dom.count('class="main-svg"') >= 3
    assert "服务禁语" in dom and "broken_99" in dom


@pytest.mark.parametrize(
    ("kind", "page", "height"), [("call", "audio_deadair_04.html", 1600), ("summary", "index.html", 2000)]
)
def test_screenshots(site, tmp_path, kind: str, page: str, height: int):
    out, _ = site
    shot = tmp_path / f"{kind}.png"
    done = chromium(
        out / page,
        tmp_path / "profile",
        "--virtual-time-budget=5000",
        f"--window-size=1280,{height}",
        f"--screenshot={shot}",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    with contextlib.suppress(OSError):  # a copy for people to look at; not part of the check
        shutil.copyfile(shot, SCREENSHOT_COPIES[kind])
