"""The transcript samples' reports, byte for byte, against committed golden files.

A change that alters any report (a finding, a detail sentence, a score, a field's order)
fails here. When a change is meant to alter reports, regenerate the files with
`QA_UPDATE_GOLDEN=1 pytest tests/test_report_snapshot.py` and review the diff.
The full check, audio included, is `tools/report_snapshot.py` (see its docstring).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qa_engine import Engine
from qa_engine.batch import CallScorer
from qa_engine.inputs import iter_calls

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"


def _sources() -> list:
    """The samples as `qa score samples/transcripts` run from the checkout sees them."""
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        return sorted(iter_calls([Path("samples/transcripts")]), key=lambda s: s.key)
    finally:
        os.chdir(cwd)


SOURCES = _sources()


def report_json(engine: Engine, source) -> str:
    """The report exactly as `qa score` writes it, minus the checkout's absolute path."""
    report = CallScorer(engine)(source).report
    return report.model_dump_json(indent=2).replace(str(ROOT), "<ROOT>") + "\n"


@pytest.fixture(autouse=True)
def _from_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def test_every_transcript_sample_has_a_golden_report():
    assert SOURCES, "no samples found"
    golden = {p.stem for p in GOLDEN.glob("*.json")}
    assert golden == {s.key for s in SOURCES}


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.key)
def test_report_matches_golden(engine, source):
    text = report_json(engine, source)
    path = GOLDEN / f"{source.key}.json"
    if os.environ.get("QA_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")
