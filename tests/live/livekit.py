"""Sample audio decoded once for the live tests (imported by them; see tests/server/serverkit.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa_engine.models import CallTranscript

AUDIO = Path(__file__).resolve().parents[2] / "samples" / "audio"
FORBIDDEN = "audio_forbidden_02"


@pytest.fixture(scope="session")
def forbidden_ref() -> CallTranscript:
    return CallTranscript.model_validate_json((AUDIO / f"{FORBIDDEN}.ref.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def forbidden_16k() -> np.ndarray:
    """(2, n) float32 at 16 kHz, as the batch path decodes it."""
    from qa_engine.stt import load_audio

    return load_audio(AUDIO / f"{FORBIDDEN}.flac")


@pytest.fixture(scope="session")
def forbidden_pcm():
    from qa_engine.server.client import read_pcm

    return read_pcm(AUDIO / f"{FORBIDDEN}.flac")
