"""Warnings for rule files that load but probably do not do what their author meant.

`qa rules check` prints these after the hard errors of `load_rules` (which cover bad
YAML, unknown kinds and keys, broken regexes and token patterns, duplicate ids and
references to missing rules).
"""

from __future__ import annotations

from collections import defaultdict

import yaml
from rapidfuzz import fuzz

from .kinds.regex import compile_re2
from .lexicons import referenced_names
from .rulefile import Problem, RuleSet, locate
from .text import compact_form

LOW_FUZZY_THRESHOLD = 80.0

# Ordinary, polite customer-service sentences: no forbidden phrase should fuzzy-match these.
COMMON_SENTENCES = [
    "您好请问有什么可以帮您",
    "好的我帮您查一下",
    "请问您的运单号是多少",
    "麻烦您稍等片刻好吗",
    "谢谢等待您的快递已经在派送中了",
    "非常抱歉给您带来不便",
    "请问还有什么可以帮您",
    "感谢您的来电再见",
    "我的快递到哪了",
    "好的谢谢没有了",
    "您的快递预计明天送达",
    "我们会尽快帮您处理",
]


def _warning(rules: RuleSet, path: tuple, rule_id: str | None, message: str, hint: str | None = None) -> Problem:
    line, column = locate(rules.locations, path) or (None, None)
    return Problem(rules.path, message, line, column, rule_id, hint, severity="warning")


def lint(rules: RuleSet) -> list[Problem]:
    """Likely mistakes in a rule set that loaded without errors."""
    model = rules.model
    warnings: list[Problem] = []
    seen_phrase: dict[str, str] = {}
    enabled = {rule.id for rule in model.rules if rule.enabled}
    by_kind_phrases = defaultdict(list)
    for index, rule in enumerate(model.rules):
        base = ("rules", index)
        if rule.category not in model.categories:
            warnings.append(
                _warning(rules, base + ("category",), rule.id, f"category '{rule.category}' has no label in `categories`",
                         "add it under categories: so reports show a Chinese label")
            )
        if rule.enabled and not rule.examples.hit and not rule.examples.miss:
            warnings.append(
                _warning(rules, base + ("id",), rule.id, "rule has no examples", "add examples: {hit: [...], miss: [...]} so `qa rules test` checks it")
            )
        phrase_fields = [f for f in ("phrases", "together_with", "hold_phrases", "thank_phrases") if hasattr(rule, f)]
        for field in phrase_fields:
            for position, phrase in enumerate(getattr(rule, field)):
                compact = compact_form(phrase)
                where = base + (field, position)
                if not compact:
                    warnings.append(_warning(rules, where, rule.id, f"phrase {phrase!r} normalises to nothing", "it can never match; remove it"))
                    continue
                if rule.kind == "phrases":
                    by_kind_phrases[rule.id].append((phrase, compact, where))
                    other = seen_phrase.get(compact)
                    if other and other != rule.id:
                        warnings.append(
                            _warning(rules, where, rule.id, f"phrase {phrase!r} is also in rule '{other}'",
                                     "one utterance will be charged twice; keep it in one rule")
                        )
                    seen_phrase.setdefault(compact, rule.id)
        if rule.kind == "phrases" and "fuzzy" in rule.match:
            warnings.extend(_fuzzy_warnings(rules, index, rule, by_kind_phrases[rule.id]))
        if rule.kind == "regex":
            pattern = compile_re2(rule.pattern, "pattern")
            if pattern.search("") is not None:
                warnings.append(_warning(rules, base + ("pattern",), rule.id, "pattern matches the empty string", "it is skipped on every utterance"))
        if rule.kind == "opener":
            openers = [compact_form(o) for o in rule.openers]
            for position, allowed in enumerate(rule.allow):
                if not any(compact_form(allowed).startswith(o) for o in openers if o):
                    warnings.append(
                        _warning(rules, base + ("allow", position), rule.id, f"allow entry {allowed!r} starts with none of the openers",
                                 "it has no effect")
                    )
        if rule.kind == "sequence":
            for side in ("trigger", "expect"):
                for ref in getattr(rule, side).referenced_rules():
                    if ref not in enabled:
                        warnings.append(
                            _warning(rules, base + (side,), rule.id, f"{side} refers to disabled rule '{ref}'", "the condition can never hold")
                        )
    warnings.extend(_lexicon_warnings(rules))
    return warnings


def _lexicon_warnings(rules: RuleSet) -> list[Problem]:
    """An empty lexicon matches nothing; an unused one was probably meant to be referenced."""
    if not rules.model.lexicons:
        return []
    data = yaml.safe_load(rules.text)
    used = referenced_names(data.get("rules", []) if isinstance(data, dict) else [])
    warnings = []
    for name, entries in rules.model.lexicons.items():
        where = ("lexicons", name)
        if not [entry for entry in entries if compact_form(entry)]:
            warnings.append(_warning(rules, where, None, f"lexicon '{name}' is empty", "add entries or remove it"))
        elif name not in used:
            warnings.append(
                _warning(rules, where, None, f"lexicon '{name}' is not used by any rule",
                         f"refer to it as \"@{name}\" in a phrase list or {{{{{name}}}}} in a regex, or remove it")
            )
    return warnings


def _fuzzy_warnings(rules: RuleSet, index: int, rule, phrases) -> list[Problem]:
    warnings = []
    where = ("rules", index, "fuzzy_threshold")
    if rule.fuzzy_threshold < LOW_FUZZY_THRESHOLD:
        warnings.append(
            _warning(rules, where, rule.id, f"fuzzy_threshold {rule.fuzzy_threshold:g} is low",
                     f"below {LOW_FUZZY_THRESHOLD:g} short phrases match unrelated words; 90 is the default")
        )
    for phrase, compact, phrase_where in phrases:
        for sentence in COMMON_SENTENCES:
            score = 100.0 if compact in sentence else fuzz.partial_ratio(compact, sentence)
            if score >= rule.fuzzy_threshold and len(compact) >= 2:
                warnings.append(
                    _warning(rules, phrase_where, rule.id,
                             f"phrase {phrase!r} fuzzy-matches the ordinary sentence {sentence!r} (score {score:.0f})",
                             "raise fuzzy_threshold, use match: [exact, pinyin], or make the phrase more specific")
                )
                break
    return warnings
