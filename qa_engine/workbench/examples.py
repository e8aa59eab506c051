"""Run each rule's own `examples` (hit: must fire, miss: must not), as tests do.

An example is one utterance (a string, said by the rule's speaker) or a dialogue of
lines "A: …" (agent) / "C: …" (customer), each optionally prefixed with its time span
in seconds, "3-5.5 C: …". Lines without times follow each other at 0.25 s a character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa_engine.engine import Engine
from qa_engine.kinds.base import Example, RuleSpec
from qa_engine.models import CallTranscript, Finding, Utterance
from qa_engine.rulefile import RuleSet

_LINE = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\s+)?(?:([ACU])\s*[:：]\s*)?(.*)$", re.S)
_ROLES = {"A": "agent", "C": "customer", "U": "unknown"}
SECONDS_PER_CHAR = 0.25
PAUSE = 0.5


class ExampleFormatError(ValueError):
    """An example line that cannot be read."""


def example_transcript(example: Example, default_speaker: str, call_id: str = "example") -> CallTranscript:
    """Turn an example into a transcript."""
    lines = [example] if isinstance(example, str) else list(example)
    utterances = []
    clock = 0.0
    for line in lines:
        match = _LINE.match(line)
        if not match:  # pragma: no cover - the pattern accepts any text
            raise ExampleFormatError(f"cannot read example line {line!r}")
        start, end, role, text = match.groups()
        speaker = _ROLES[role] if role else default_speaker
        if start is not None:
            begin, finish = float(start), float(end)
        else:
            begin = clock + (PAUSE if utterances else 0.0)
            finish = begin + max(1, len(text.strip())) * SECONDS_PER_CHAR
        utterances.append(Utterance(speaker=speaker, start=begin, end=finish, text=text.strip()))
        clock = max(clock, finish)
    return CallTranscript(call_id=call_id, utterances=utterances)


@dataclass
class ExampleResult:
    rule_id: str
    expected: str  # "hit" or "miss"
    example: Example
    fired: bool
    findings: list[Finding]

    @property
    def ok(self) -> bool:
        return self.fired == (self.expected == "hit")


def rule_subset(rules: RuleSet, spec: RuleSpec) -> RuleSet:
    """The rule alone, plus the rules it refers to."""
    wanted = {spec.id} | {ref for refs in spec.rule_references().values() for ref in refs}
    checks = [c for c in rules.checks if c.spec.id in wanted]
    return rules.with_checks(checks)


def run_examples(rules: RuleSet, rule_ids: list[str] | None = None) -> list[ExampleResult]:
    """Every example of every enabled rule (or of `rule_ids`), with its verdict."""
    results = []
    for check in rules.checks:
        spec = check.spec
        if rule_ids is not None and spec.id not in rule_ids:
            continue
        engine = Engine(rule_subset(rules, spec))
        speaker = spec.example_speaker()
        for expected in ("hit", "miss"):
            for example in getattr(spec.examples, expected):
                report = engine.score(example_transcript(example, speaker, f"{spec.id}:{expected}"))
                own = [f for f in report.findings if f.rule_id == spec.id]
                results.append(ExampleResult(spec.id, expected, example, bool(own), own))
    results.extend(run_pattern_examples(rules, rule_ids))
    return results


def run_pattern_examples(rules: RuleSet, rule_ids: list[str] | None = None) -> list[ExampleResult]:
    """The examples of the `redact:` section's own patterns, as `redact.<id>`: a hit must be
    masked by that pattern, a miss must not be."""
    from qa_engine.pii import Redactor

    config = rules.model.redact
    patterns = [p for p in config.patterns if rule_ids is None or f"redact.{p.id}" in rule_ids]
    if not patterns:
        return []
    redactor = Redactor(config.model_copy(update={"enabled": True}))
    results = []
    for pattern in patterns:
        for expected in ("hit", "miss"):
            for example in getattr(pattern.examples, expected):
                _, found = redactor.redact_text(example)
                fired = any(f.entity == pattern.id for f in found)
                results.append(ExampleResult(f"redact.{pattern.id}", expected, example, fired, []))
    return results
