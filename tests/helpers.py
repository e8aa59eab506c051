"""Small helpers for writing rule tests in a few lines."""

from __future__ import annotations

from pathlib import Path

from qa_engine import Engine, load_rules_text
from qa_engine.workbench.examples import example_transcript

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples" / "transcripts"


def one_rule(yaml_rule: str) -> Engine:
    """An engine with the rules given as YAML list items."""
    text = "name: test\nrules:\n" + "\n".join("  " + line for line in yaml_rule.strip("\n").splitlines())
    return Engine(load_rules_text(text, "test.yaml"))


def findings(engine: Engine, dialogue, speaker: str = "agent"):
    """Findings of `engine` on a dialogue in the examples' notation ("A: …", "0-3 C: …")."""
    return engine.score(example_transcript(dialogue, speaker)).findings


def evidence(engine: Engine, dialogue, speaker: str = "agent") -> list[str]:
    """The evidence text of each finding (the whole utterance's words, or '' for a call-level one)."""
    return [f.evidence.text if f.evidence else "" for f in findings(engine, dialogue, speaker)]


def run_table(rule: str, cases) -> None:
    """A fixture table (as presidio's and ruff's): each (dialogue, expected evidence) row must hold."""
    engine = one_rule(rule)
    for dialogue, expected in cases:
        assert evidence(engine, dialogue) == expected, dialogue


def rules_with_lexicons(lexicons: str, rules: str) -> Engine:
    """An engine with a `lexicons:` section and the rules given as YAML list items."""
    text = "name: t\nlexicons:\n" + "\n".join("  " + line for line in lexicons.strip("\n").splitlines())
    text += "\nrules:\n" + "\n".join("  " + line for line in rules.strip("\n").splitlines())
    return Engine(load_rules_text(text, "t.yaml"))
