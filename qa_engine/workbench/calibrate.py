"""Measure a rule set against human QA labels: precision, recall and F1, and fuzzy thresholds.

Labels are a CSV with columns `call_id`, `utterance_index` (blank: anywhere in the call)
and `category`, one row per violation a reviewer found. A finding is correct when a
label of its category names its utterance, or names its call with a blank index; a
label is found when such a finding exists. For each threshold a rule kind declares
tunable (a `phrases` rule's fuzzy threshold), the value that maximises its category's F1
on the corpus is searched.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from qa_engine.engine import Engine
from qa_engine.models import CallTranscript, Finding
from qa_engine.report.labels import WHOLE_CALL, evidence_words
from qa_engine.rulefile import RuleSet

Label = tuple[str, int | None, str]  # call_id, utterance index or None, category
THRESHOLDS = [float(t) for t in range(70, 101, 2)]


class LabelFileError(ValueError):
    """The labels CSV cannot be read; the message names the file and row."""


def read_labels(path: Path) -> set[Label]:
    """The labels CSV; a row that is short, not UTF-8 or has a bad index is a located error."""
    labels: set[Label] = set()
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise LabelFileError(f"{path}: cannot read labels: {error}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise LabelFileError(
            f"{path}:{line}: not valid UTF-8 (byte 0x{raw[error.start]:02x}); save the labels as UTF-8 CSV"
        ) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = {"call_id", "utterance_index", "category"} - set(reader.fieldnames or [])
    if missing:
        raise LabelFileError(f"{path}:1: missing column(s) {', '.join(sorted(missing))}; expected call_id,utterance_index,category")
    for row in reader:
        row_number = reader.line_num
        if row.get("call_id") is None or row.get("category") is None or row.get("utterance_index") is None:
            raise LabelFileError(f"{path}:{row_number}: too few cells; expected call_id,utterance_index,category")
        index = row["utterance_index"].strip()
        try:
            labels.add((row["call_id"].strip(), int(index) if index else None, row["category"].strip()))
        except ValueError:
            raise LabelFileError(f"{path}:{row_number}: utterance_index {index!r} is not a whole number") from None
    return labels


def read_unjudged(path: Path) -> set[tuple[str, str]]:
    """(call_id, category) pairs the labeller could not judge (e.g. the closing of a call cut off).

    A CSV with columns `call_id`, `category` (and any others, such as `reason`).
    """
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as error:
        raise LabelFileError(f"{path}: cannot read: {error}") from None
    pairs: set[tuple[str, str]] = set()
    with handle:
        try:
            reader = csv.DictReader(handle)
            missing = {"call_id", "category"} - set(reader.fieldnames or [])
            if missing:
                raise LabelFileError(f"{path}:1: missing column(s) {', '.join(sorted(missing))}; expected call_id,category")
            for row_number, row in enumerate(reader, start=2):
                call_id, category = (row.get("call_id") or "").strip(), (row.get("category") or "").strip()
                if not call_id or not category:
                    raise LabelFileError(f"{path}:{row_number}: a row needs both call_id and category")
                pairs.add((call_id, category))
        except UnicodeDecodeError as error:
            raise LabelFileError(f"{path}: not UTF-8 text ({error.reason}); save it as UTF-8") from None
    return pairs


@dataclass
class Scores:
    name: str
    true_positives: int = 0
    predicted: int = 0
    labels: int = 0
    found_labels: int = 0

    @property
    def precision(self) -> float | None:
        return self.true_positives / self.predicted if self.predicted else None

    @property
    def recall(self) -> float | None:
        return self.found_labels / self.labels if self.labels else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None or p + r == 0:
            return None if p is None and r is None else 0.0
        return 2 * p * r / (p + r)


@dataclass
class ThresholdAdvice:
    rule_id: str
    current: float
    best: float
    current_f1: float | None
    best_f1: float | None
    field: str = "fuzzy_threshold"


@dataclass
class Calibration:
    categories: list[Scores]
    rules: list[Scores]
    false_positives: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    thresholds: list[ThresholdAdvice] = field(default_factory=list)


Predicted = list[tuple[str, Finding]]


def _predict(rules: RuleSet, calls: list[CallTranscript], unjudged: frozenset[tuple[str, str]] = frozenset()) -> Predicted:
    engine = Engine(rules)
    return [
        (call.call_id, f)
        for call in calls
        for f in engine.score(call).findings
        if (call.call_id, f.category) not in unjudged
    ]


def _is_correct(call_id: str, finding: Finding, labels: set[Label]) -> bool:
    return (call_id, finding.utterance_index, finding.category) in labels or (call_id, None, finding.category) in labels


def _is_found(label: Label, predicted: Predicted) -> bool:
    call_id, index, category = label
    return any(
        c == call_id and f.category == category and (index is None or f.utterance_index == index)
        for c, f in predicted
    )


def _score(name: str, predicted: Predicted, labels: set[Label]) -> Scores:
    scores = Scores(name, predicted=len(predicted), labels=len(labels))
    scores.true_positives = sum(_is_correct(c, f, labels) for c, f in predicted)
    scores.found_labels = sum(_is_found(label, predicted) for label in labels)
    return scores


def _finding_ref(call_id: str, finding: Finding) -> str:
    return f"{call_id} {_where(finding.utterance_index)} {finding.category} {finding.rule_id} {evidence_words(finding)}"


def _where(index: int | None) -> str:
    return f"#{index}" if index is not None else WHOLE_CALL


def _with_threshold(rules: RuleSet, rule_id: str, name: str, threshold: float) -> RuleSet:
    checks = []
    for check in rules.checks:
        if check.spec.id == rule_id:
            spec = check.spec.model_copy(update={name: threshold})
            check = type(check)(spec, rules.nlp)
        checks.append(check)
    return rules.with_checks(checks)


def calibrate(
    rules: RuleSet,
    calls: list[CallTranscript],
    labels: set[Label],
    tune: bool = True,
    unjudged: set[tuple[str, str]] | frozenset[tuple[str, str]] = frozenset(),
) -> Calibration:
    """Compare the rule set's findings on `calls` with the human `labels`.

    `unjudged` (call id, category) pairs were not judged by the labeller (e.g. the closing
    of a transcript cut off mid-call): findings there count neither as right nor as wrong.
    """
    known_calls = {call.call_id for call in calls}
    labels = {label for label in labels if label[0] in known_calls}
    unjudged = frozenset(unjudged)
    predicted = _predict(rules, calls, unjudged)
    categories = sorted({f.category for _, f in predicted} | {label[2] for label in labels})
    result = Calibration(
        categories=[
            _score(
                category,
                [(c, f) for c, f in predicted if f.category == category],
                {label for label in labels if label[2] == category},
            )
            for category in categories
        ],
        rules=[
            _score(
                check.spec.id,
                [(c, f) for c, f in predicted if f.rule_id == check.spec.id],
                {label for label in labels if label[2] == check.spec.category},
            )
            for check in rules.checks
        ],
    )
    result.false_positives = [_finding_ref(c, f) for c, f in predicted if not _is_correct(c, f, labels)]
    result.misses = [
        f"{call_id} {_where(index)} {category}"
        for call_id, index, category in sorted(labels, key=lambda lab: (lab[0], lab[1] if lab[1] is not None else -1, lab[2]))
        if not _is_found((call_id, index, category), predicted)
    ]
    if tune:
        result.thresholds = [
            _tune(rules, check.spec, name, value, calls, labels)
            for check in rules.checks
            for name, value in check.spec.tunable_thresholds().items()
        ]
    return result


def _tune(rules: RuleSet, spec, name: str, value: float, calls: list[CallTranscript], labels: set[Label]) -> ThresholdAdvice:
    """The threshold with the best F1 for the rule's category (ties: nearest the current one)."""
    category_labels = {label for label in labels if label[2] == spec.category}
    results = []
    for threshold in THRESHOLDS:
        predicted = [(c, f) for c, f in _predict(_with_threshold(rules, spec.id, name, threshold), calls) if f.category == spec.category]
        results.append((threshold, _score(spec.id, predicted, category_labels).f1))
    current = next((f1 for t, f1 in results if t == value), None)
    if current is None:
        predicted = [(c, f) for c, f in _predict(rules, calls) if f.category == spec.category]
        current = _score(spec.id, predicted, category_labels).f1
    best_threshold, best_f1 = max(
        results, key=lambda item: ((item[1] or 0.0), -abs(item[0] - value))
    )
    return ThresholdAdvice(spec.id, value, best_threshold, current, best_f1, name)
