"""Shared fixtures: the default rule set (compiled once) and the sample transcripts."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa_engine import Engine, load_rules

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples" / "transcripts"


@pytest.fixture(scope="session")
def default_rules():
    return load_rules()


@pytest.fixture(scope="session")
def engine(default_rules):
    return Engine(default_rules)
