"""What a rule change will do to real calls: hits per rule before and after, and flips.

A QA lead edits a rule file; before it goes live, `qa rules diff OLD NEW CORPUS` scores
last week's transcripts with both and shows each rule's hit count, the calls whose
pass/fail verdict changes, and a few concrete new and lost hits to read.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from qa_engine.engine import Engine
from qa_engine.models import CallReport, CallTranscript, Finding
from qa_engine.report.labels import WHOLE_CALL, evidence_words
from qa_engine.rulefile import RuleSet

HitKey = tuple[str, str, int | None, int | None]


def _key(call_id: str, finding: Finding) -> HitKey:
    start = finding.evidence.start_char if finding.evidence else None
    return (call_id, finding.rule_id, finding.utterance_index, start)


@dataclass
class RuleDelta:
    rule_id: str
    before: int
    after: int
    new_examples: list[str] = field(default_factory=list)
    lost_examples: list[str] = field(default_factory=list)


@dataclass
class Flip:
    call_id: str
    before_score: float
    after_score: float
    before_passed: bool
    after_passed: bool


@dataclass
class RuleSetDiff:
    calls: int
    rules: list[RuleDelta]
    flips: list[Flip]
    mean_before: float
    mean_after: float


def _hit_line(call: CallTranscript, finding: Finding) -> str:
    when = f"{finding.start:.1f}s" if finding.start is not None else WHOLE_CALL
    return f"{call.call_id} {when} {evidence_words(finding)} {finding.match.detail}".strip()


def diff_rule_sets(old: RuleSet, new: RuleSet, calls: list[CallTranscript], examples: int = 3) -> RuleSetDiff:
    """Score `calls` with both rule sets and compare."""
    old_engine, new_engine = Engine(old), Engine(new)
    counts_before: Counter[str] = Counter()
    counts_after: Counter[str] = Counter()
    new_hits: dict[str, list[str]] = {}
    lost_hits: dict[str, list[str]] = {}
    flips: list[Flip] = []
    scores_before, scores_after = [], []
    for call in calls:
        before: CallReport = old_engine.score(call)
        after: CallReport = new_engine.score(call)
        scores_before.append(before.score or 0.0)
        scores_after.append(after.score or 0.0)
        counts_before.update(f.rule_id for f in before.findings)
        counts_after.update(f.rule_id for f in after.findings)
        before_keys = {_key(call.call_id, f) for f in before.findings}
        after_keys = {_key(call.call_id, f) for f in after.findings}
        for finding in after.findings:
            if _key(call.call_id, finding) not in before_keys:
                new_hits.setdefault(finding.rule_id, []).append(_hit_line(call, finding))
        for finding in before.findings:
            if _key(call.call_id, finding) not in after_keys:
                lost_hits.setdefault(finding.rule_id, []).append(_hit_line(call, finding))
        if before.passed != after.passed:
            flips.append(Flip(call.call_id, before.score, after.score, bool(before.passed), bool(after.passed)))
    rule_ids = list(dict.fromkeys([c.spec.id for c in old.checks] + [c.spec.id for c in new.checks]))
    deltas = [
        RuleDelta(
            rule_id,
            counts_before[rule_id],
            counts_after[rule_id],
            new_hits.get(rule_id, [])[:examples],
            lost_hits.get(rule_id, [])[:examples],
        )
        for rule_id in rule_ids
    ]
    count = max(1, len(calls))
    return RuleSetDiff(len(calls), deltas, flips, sum(scores_before) / count, sum(scores_after) / count)
