"""Shared fixtures: the default rule set, compiled once (paths and helpers: helpers.py)."""

from __future__ import annotations

import pytest

from qa_engine import Engine, load_rules


@pytest.fixture(scope="session")
def default_rules():
    return load_rules()


@pytest.fixture(scope="session")
def engine(default_rules):
    return Engine(default_rules)
