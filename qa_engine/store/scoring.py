"""The score after review: the machine's findings as the reviewers decided them.

A rejected finding (a false alarm, or an appeal overturned) costs nothing; an adjusted
one costs what the reviewer set; a missed finding a reviewer added costs its points; the
rest are charged again under their rule's cap, in the order the run found them. A fatal
finding that was not rejected still zeroes the call. The machine score stays on the run,
so both are always shown.

The cap is read from the run itself: a rule's hits cost its per-hit points (the most any
of them was charged) until the rule's cap; when the run cut a hit short, the cap was
reached and equals what the rule was charged in all. So when a reviewer rejects one of
three capped hits (5 + 5 + 0 under a cap of 10), the third now costs 5 and the score does
not rise, as the engine would have scored the call without the false alarm.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Decided:
    deduction: float
    fatal: bool
    decision: str
    reviewed_deduction: float | None
    rule_id: str = ""
    origin: str = "machine"
    seq: int = 0


@dataclass(frozen=True)
class ReviewedScore:
    score: float
    passed: bool
    fatal: bool


def effective_deduction(finding: Decided) -> float:
    if finding.decision == "rejected":
        return 0.0
    if finding.decision == "adjusted" and finding.reviewed_deduction is not None:
        return finding.reviewed_deduction
    return finding.deduction


def _recharged(findings: list[Decided]) -> float:
    """Points of one rule's machine findings after review, under the rule's cap."""
    charged = [f.deduction for f in findings]
    per_hit = max(charged, default=0.0)
    cap = sum(charged) if any(c < per_hit for c in charged) else None  # cut short: the cap was reached
    spent = 0.0
    points = 0.0
    for finding in sorted(findings, key=lambda f: f.seq):
        if finding.decision == "rejected":
            continue
        if finding.decision == "adjusted" and finding.reviewed_deduction is not None:
            points += finding.reviewed_deduction  # the reviewer's own figure, outside the cap
            continue
        cost = per_hit if cap is None else max(0.0, min(per_hit, cap - spent))
        spent += cost
        points += cost
    return points


def reviewed_score(base_score: float, pass_mark: float, findings: Iterable[Decided]) -> ReviewedScore:
    findings = list(findings)
    fatal = any(f.fatal and f.decision != "rejected" for f in findings)
    by_rule: dict[str, list[Decided]] = {}
    for finding in findings:
        if finding.origin == "machine":
            by_rule.setdefault(finding.rule_id, []).append(finding)
    points = sum(_recharged(group) for group in by_rule.values())
    points += sum(effective_deduction(f) for f in findings if f.origin != "machine")
    score = 0.0 if fatal else round(max(0.0, base_score - points), 2)
    return ReviewedScore(score, not fatal and score >= pass_mark, fatal)
