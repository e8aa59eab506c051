"""Back to the rules: review decisions as calibration labels, and rule suggestions.

Labels: on every fully reviewed call, each confirmed or adjusted machine finding and each
missed finding a reviewer added is a label (call id, utterance, category); a rejected
finding is a false alarm (no label). `qa calibrate --db` scores the current rule file
against them, with no hand-made CSV.

Suggestions (`qa rules suggest --db`): rules ranked by their reviewed false-alarm rate;
the words behind repeated false alarms as candidate `allow` / `unless` entries (the rule
kind decides which it takes); missed findings grouped by rule with the utterances they
were added on, as candidate phrases. Each comes with its evidence (calls, reasons), for
the QA lead to accept by editing the rule file. A rule the DB knows but the rule file no
longer has is reported as deleted, never crashed on.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from qa_engine.rulefile import RuleSet
from qa_engine.store.repo import Store

Label = tuple[str, int | None, str]


def review_labels(store: Store) -> tuple[list, set[Label]]:
    """(transcripts of fully reviewed calls, labels from their decisions)."""
    calls = store.reviewed_calls()
    reviewed = {c.call_id for c in calls}
    labels: set[Label] = set()
    for row in store.reviewed_findings():
        if row["call_id"] in reviewed and row["decision"] in ("confirmed", "adjusted"):
            labels.add((row["call_id"], row["utterance_index"], row["category"]))
    return calls, labels


@dataclass
class RuleAdvice:
    rule_id: str
    reviewed: int = 0
    rejected: int = 0
    added: int = 0
    status: str = "active"
    """active | deleted (in the database, not in the rule file) | unknown (no rule file given)."""
    field_name: str | None = None
    """The rule's exception field (`allow` / `unless`), when its kind has one."""
    false_alarm_phrases: list[tuple[str, int, list[str]]] = field(default_factory=list)
    """(words, times rejected, reasons and calls)."""
    missed_phrases: list[tuple[str, int, list[str]]] = field(default_factory=list)

    @property
    def false_alarm_rate(self) -> float | None:
        return self.rejected / self.reviewed if self.reviewed else None


def suggest(store: Store, rules: RuleSet | None = None, min_repeats: int = 2) -> list[RuleAdvice]:
    by_rule: dict[str, RuleAdvice] = {}
    rejected: dict[str, Counter] = defaultdict(Counter)
    missed: dict[str, Counter] = defaultdict(Counter)
    evidence: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for row in store.reviewed_findings():
        advice = by_rule.setdefault(row["rule_id"], RuleAdvice(row["rule_id"]))
        words = (row["evidence_text"] or "").strip()
        where = f"{row['call_id']}#{(row['utterance_index'] or 0) + 1}: {row['review_reason'] or ''}".strip()
        if row["origin"] == "reviewer":
            advice.added += 1
            if words:
                missed[row["rule_id"]][words] += 1
                evidence[("m", row["rule_id"], words)].append(where)
            continue
        advice.reviewed += 1
        if row["decision"] == "rejected":
            advice.rejected += 1
            if words:
                rejected[row["rule_id"]][words] += 1
                evidence[("r", row["rule_id"], words)].append(where)
    specs = {c.spec.id: c.spec for c in rules.checks} if rules else {}
    for rule_id, advice in by_rule.items():
        if rules is None:
            advice.status = "unknown"
        elif rule_id not in specs:
            advice.status = "deleted"
        else:
            fields = type(specs[rule_id]).model_fields
            advice.field_name = next((name for name in ("allow", "unless") if name in fields), None)
        advice.false_alarm_phrases = [
            (w, n, evidence[("r", rule_id, w)][:5]) for w, n in rejected[rule_id].most_common() if n >= min_repeats
        ]
        advice.missed_phrases = [(w, n, evidence[("m", rule_id, w)][:5]) for w, n in missed[rule_id].most_common()]
    return sorted(by_rule.values(), key=lambda a: (-(a.false_alarm_rate or 0), -a.rejected, -a.added, a.rule_id))
