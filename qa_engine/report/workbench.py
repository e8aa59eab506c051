"""What the QA leads' tools print: rule examples, lint, explain, redaction, diff, calibration.

The tools (`qa_engine.workbench`) compute; these functions only render their results on a
`rich` console, so `cli.py` stays wiring and every label comes from `report.labels`.
"""

from __future__ import annotations

import json
import sys

from rich.console import Console
from rich.table import Table

from qa_engine.report.labels import evidence_words, pass_label
from qa_engine.rulefile import RuleSet


def _plain(console: Console, text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def print_example_results(console: Console, results) -> int:
    """`qa rules test`: the examples that did not behave as declared; returns how many."""
    failures = [r for r in results if not r.ok]
    for result in failures:
        shown = result.example if isinstance(result.example, str) else " / ".join(result.example)
        wanted = "should fire but did not" if result.expected == "hit" else "should not fire but did"
        console.print(f"[red]FAIL[/red] {result.rule_id}: {wanted}: {shown}", highlight=False)
        for finding in result.findings:
            console.print(f"     matched: {finding.match.detail}", highlight=False, markup=False)
    console.print(f"{len(results) - len(failures)} passed, {len(failures)} failed", highlight=False)
    return len(failures)


def print_spec(console: Console, spec) -> None:
    """`qa rules explain RULE_ID` without a sentence: the rule as written, defaults left out."""
    console.print(spec.model_dump_json(indent=2, exclude_defaults=True), markup=False, highlight=False)
    console.print(f"\n(kind '{spec.kind}': `qa rules explain {spec.kind}`; try a sentence with --text)", markup=False)


def _row(console: Console, label: str, value: str) -> None:
    _plain(console, f"{label:<14}{value}")


def print_explanation(console: Console, result) -> None:
    """`qa rules explain RULE_ID --text`: every analysis step and whether the rule fires."""
    _row(console, "rule", f"{result.rule_id} ({result.kind}, speaker {result.speaker})")
    _row(console, "original", result.original)
    _row(console, "normalised", result.normalized)
    _row(console, "compact", result.compact)
    _row(console, "pinyin", result.pinyin)
    _row(console, "folded pinyin", result.folded_pinyin)
    _row(console, "clauses", " | ".join(result.clauses))
    _row(console, "speech clause", " | ".join(result.speech_clauses))
    _row(console, "tokens", " / ".join(result.tokens))
    for phrase in result.phrases:
        verdict = f"match: {phrase.hit_mode}" if phrase.hit_mode else "no match"
        lexicon = f"  (@{phrase.lexicon})" if phrase.lexicon else ""
        _row(console, "  phrase", f"{phrase.phrase}{lexicon}  fuzzy {phrase.fuzzy:g}  {verdict}")
    if result.fires:
        for finding in result.findings:
            words = evidence_words(finding)
            _row(console, "FIRES", f"{finding.message} {words} ({finding.match.mode}: {finding.match.detail})")
    else:
        _row(console, "verdict", "does not fire")


def print_redaction(console: Console, config, text: str | None) -> None:
    """`qa rules explain redact`: the redaction settings, or what a sentence would have masked."""
    from qa_engine.pii import Redactor
    from qa_engine.pii.config import RedactConfig

    if text is None:
        console.print(config.model_dump_json(indent=2), markup=False, highlight=False)
        console.print("\n(try a sentence with --text)", markup=False)
        return
    redactor = Redactor(config.model_copy(update={"enabled": True}) if isinstance(config, RedactConfig) else config)
    redacted, found = redactor.redact_text(text)
    _row(console, "original", text)
    _row(console, "redacted", redacted)
    for item in found:
        _row(console, "  MASK", f"{item.entity} 「{text[item.start:item.end]}」 ({item.reason})")
    if not found:
        _row(console, "verdict", "nothing to mask")
    if not config.enabled:
        _row(console, "note", "redact.enabled is false in this rule file: calls are not redacted")


def print_diff(console: Console, result, calls: int) -> None:
    """`qa rules diff`: hits per rule before and after, verdict flips, example hits."""
    table = Table(title=f"规则变更影响 · {calls} 通通话")
    for column in ("规则", "变更前", "变更后", "变化"):
        table.add_column(column)
    for delta in result.rules:
        change = delta.after - delta.before
        table.add_row(delta.rule_id, str(delta.before), str(delta.after), f"{change:+d}" if change else "0")
    console.print(table)
    console.print(f"平均分 {result.mean_before:.1f} → {result.mean_after:.1f}", highlight=False)
    for flip in result.flips:
        console.print(
            f"判定变化 {flip.call_id}: {pass_label(flip.before_passed)} {flip.before_score:g} → "
            f"{pass_label(flip.after_passed)} {flip.after_score:g}",
            highlight=False,
        )
    for delta in result.rules:
        for line in delta.new_examples:
            _plain(console, f"  + {delta.rule_id}: {line}")
        for line in delta.lost_examples:
            _plain(console, f"  - {delta.rule_id}: {line}")


def print_calibration(console: Console, result, rules: RuleSet, calls: int, labels: int, markdown: bool) -> None:
    """`qa calibrate`: precision/recall/F1 per category and rule, thresholds, errors."""
    fmt = lambda value: "-" if value is None else f"{value:.2f}"  # noqa: E731

    def rows(scores, label):
        return [
            (label(s.name), str(s.labels), str(s.predicted), str(s.true_positives), fmt(s.precision), fmt(s.recall), fmt(s.f1))
            for s in scores
        ]

    headers = ("", "标注数", "命中数", "正确命中", "精确率", "召回率", "F1")
    category_rows = rows(result.categories, lambda name: f"{rules.category_label(name)} ({name})")
    rule_rows = rows([s for s in result.rules if s.predicted or s.labels], lambda name: name)
    print_table(console, f"按类别 · {calls} 通通话 · {labels} 条标注", ("类别",) + headers[1:], category_rows, markdown)
    print_table(console, "按规则(召回率按该规则所属类别的全部标注计算)", ("规则",) + headers[1:], rule_rows, markdown)
    if result.thresholds:
        threshold_rows = [
            (t.rule_id, f"{t.current:g}", fmt(t.current_f1), f"{t.best:g}", fmt(t.best_f1)) for t in result.thresholds
        ]
        print_table(console, "模糊匹配阈值", ("规则", "当前阈值", "当前F1", "最佳阈值", "最佳F1"), threshold_rows, markdown)
    console.print(f"误报 (false positives): {len(result.false_positives)}", highlight=False)
    for line in result.false_positives:
        _plain(console, "  " + line)
    console.print(f"漏报 (misses): {len(result.misses)}", highlight=False)
    for line in result.misses:
        _plain(console, "  " + line)


def print_table(console: Console, title: str, headers: tuple[str, ...], rows: list[tuple[str, ...]], markdown: bool) -> None:
    """A rich table, or the same rows as a Markdown table (for a README)."""
    if markdown:
        console.print(f"\n**{title}**\n", highlight=False)
        _plain(console, "| " + " | ".join(headers) + " |")
        console.print("|" + "---|" * len(headers), markup=False, highlight=False)
        for row in rows:
            _plain(console, "| " + " | ".join(row) + " |")
        return
    table = Table(title=title)
    for header in headers:
        table.add_column(header)
    for row in rows:
        table.add_row(*row)
    console.print(table)


def print_rule_schema() -> None:
    """The JSON Schema of rule files on stdout, unstyled (it is redirected into a file)."""
    from qa_engine.rulefile import rule_file_model

    sys.stdout.write(json.dumps(rule_file_model().model_json_schema(), ensure_ascii=False, indent=2) + "\n")
