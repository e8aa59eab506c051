"""Small helpers for writing rule tests in a few lines."""

from __future__ import annotations

from qa_engine import Engine, load_rules_text
from qa_engine.examples import example_transcript


def one_rule(yaml_rule: str) -> Engine:
    """An engine with the rules given as YAML list items."""
    text = "name: test\nrules:\n" + "\n".join("  " + line for line in yaml_rule.strip("\n").splitlines())
    return Engine(load_rules_text(text, "test.yaml"))


def findings(engine: Engine, dialogue, speaker: str = "agent"):
    """Findings of `engine` on a dialogue in the examples' notation ("A: …", "0-3 C: …")."""
    return engine.score(example_transcript(dialogue, speaker)).findings
