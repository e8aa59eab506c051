"""Warnings for rule files that load but probably do not do what their author meant.

`qa rules check` prints these after the hard errors of `load_rules` (which cover bad
YAML, unknown kinds and keys, broken regexes and token patterns, duplicate ids and
references to missing rules).
"""

from __future__ import annotations

from qa_engine.lexicons import referenced_names
from qa_engine.rule_yaml import read_yaml
from qa_engine.rulefile import Problem, RuleSet, locate
from qa_engine.text import compact_form

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
        for field in rule.phrase_fields:
            for position, phrase in enumerate(getattr(rule, field)):
                compact = compact_form(phrase)
                where = base + (field, position)
                if not compact:
                    warnings.append(_warning(rules, where, rule.id, f"phrase {phrase!r} normalises to nothing", "it can never match; remove it"))
                    continue
                if rule.forbids_phrases:
                    other = seen_phrase.get(compact)
                    if other and other != rule.id:
                        warnings.append(
                            _warning(rules, where, rule.id, f"phrase {phrase!r} is also in rule '{other}'",
                                     "one utterance will be charged twice; keep it in one rule")
                        )
                    seen_phrase.setdefault(compact, rule.id)
        for warning in rule.lint(COMMON_SENTENCES):
            warnings.append(_warning(rules, base + warning.loc, rule.id, warning.message, warning.hint))
        for side, refs in rule.rule_references().items():
            for ref in refs:
                if ref not in enabled:
                    warnings.append(
                        _warning(rules, base + (side,), rule.id, f"{side} refers to disabled rule '{ref}'", "the condition can never hold")
                    )
    warnings.extend(_lexicon_warnings(rules))
    warnings.extend(_emotion_warnings(rules))
    return warnings


def _emotion_warnings(rules: RuleSet) -> list[Problem]:
    """Levels must rise with the score: an `angry_at` below `upset_at` makes some turns angry
    that are not upset (raising `upset_at` alone past 2.5 does exactly this)."""
    emotion = rules.model.emotion
    if emotion.angry_at >= emotion.upset_at:
        return []
    written = ("emotion", "angry_at") if locate(rules.locations, ("emotion", "angry_at")) else ("emotion", "upset_at")
    return [
        _warning(
            rules,
            written,
            None,
            f"angry_at ({emotion.angry_at:g}) is below upset_at ({emotion.upset_at:g}): a score between them is angry but not upset",
            f"raise angry_at to at least {emotion.upset_at:g}",
        )
    ]


def _lexicon_warnings(rules: RuleSet) -> list[Problem]:
    """An empty lexicon matches nothing; an unused one was probably meant to be referenced."""
    if not rules.model.lexicons:
        return []
    data, _ = read_yaml(rules.text, rules.path)  # the bounded loader the rule file was read with
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
