"""The score after review: the machine's findings as the reviewers decided them.

A rejected finding (a false alarm, or an appeal overturned) costs nothing; an adjusted
one costs what the reviewer set; a missed finding a reviewer added costs its points; the
rest cost what the run charged. A fatal finding that was not rejected still zeroes the
call. The machine score stays on the run, so both are always shown.
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


def reviewed_score(base_score: float, pass_mark: float, findings: Iterable[Decided]) -> ReviewedScore:
    findings = list(findings)
    fatal = any(f.fatal and f.decision != "rejected" for f in findings)
    points = sum(effective_deduction(f) for f in findings)
    score = 0.0 if fatal else round(max(0.0, base_score - points), 2)
    return ReviewedScore(score, not fatal and score >= pass_mark, fatal)
