"""Where the sample calls are, for the server tests (kept apart from the fixtures in serverkit)."""

from __future__ import annotations

from pathlib import Path

from qa_engine.models import CallTranscript

ROOT = Path(__file__).resolve().parents[2]
AUDIO = ROOT / "samples" / "audio"
TRANSCRIPTS = ROOT / "samples" / "transcripts"
FORBIDDEN = "audio_forbidden_02"


def reference(call_id: str = FORBIDDEN) -> CallTranscript:
    """The reference transcript of a sample recording."""
    return CallTranscript.model_validate_json((AUDIO / f"{call_id}.ref.json").read_text(encoding="utf-8"))
