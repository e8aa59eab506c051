"""The scorecard: points off per hit, capped per rule; fatal rules zero the score.

Deductions are charged as findings arrive, so a live session and a batch run over the
same utterances in the same order charge the same points to the same findings.
"""

from __future__ import annotations

from collections import defaultdict

from qa_engine.models import Finding
from qa_engine.rulefile import RuleSet


class Tally:
    """Running deductions for one call."""

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self.specs = {check.spec.id: check.spec for check in rules.checks}
        self.by_rule: dict[str, float] = defaultdict(float)
        self.by_category: dict[str, float] = defaultdict(float)
        self.fatal = False

    def charge(self, finding: Finding) -> None:
        """Set `finding.deduction` to what this hit actually costs under the rule's cap."""
        spec = self.specs[finding.rule_id]
        cost = spec.deduction
        if spec.max_deduction is not None:
            cost = max(0.0, min(cost, spec.max_deduction - self.by_rule[spec.id]))
        finding.deduction = cost
        self.by_rule[spec.id] += cost
        self.by_category[spec.category] += cost
        self.fatal = self.fatal or spec.fatal

    @property
    def score(self) -> float:
        if self.fatal:
            return 0.0
        base = self.rules.model.scorecard.base_score
        return round(max(0.0, base - sum(self.by_rule.values())), 2)

    @property
    def passed(self) -> bool:
        return not self.fatal and self.score >= self.rules.model.scorecard.pass_mark

    def category_deductions(self) -> dict[str, float]:
        return {category: round(points, 2) for category, points in sorted(self.by_category.items())}
