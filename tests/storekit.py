"""Reports for the store tests: the sample calls scored with the default rules."""

from __future__ import annotations

from pathlib import Path

from qa_engine import Engine, load_rules
from qa_engine.models import CallTranscript

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples" / "transcripts"
_ENGINE: Engine | None = None


def engine() -> Engine:
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = Engine(load_rules())
    return _ENGINE


def sample_calls() -> list[CallTranscript]:
    return [CallTranscript.model_validate_json(p.read_text(encoding="utf-8")) for p in sorted(SAMPLES.glob("*.json"))]


def scored(agent: str | None = None):
    """(report, transcript) of every sample call, optionally all for one agent."""
    out = []
    for call in sample_calls():
        if agent:
            call = call.model_copy(update={"agent_id": agent})
        out.append((engine().score(call), call))
    return out
