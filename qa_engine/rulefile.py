"""Load and validate a YAML rule file; every problem names the file, line, column and rule.

The library raises `RuleFileError` holding structured `Problem`s; the CLI renders them
with a code frame (as vale does). Validation is pydantic's: the rule list is a
discriminated union on `kind` and every spec forbids unknown keys.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from qa_engine.emotion import EmotionConfig
from qa_engine.kinds import KINDS, Check, SpecError, rule_union
from qa_engine.lexicons import CONTEXT_KEY, Lexicons
from qa_engine.metrics import MetricsConfig
from qa_engine.nlp import NlpResources
from qa_engine.pii.config import RedactConfig
from qa_engine.rule_yaml import (
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_NODES,
    Location,
    Problem,
    RuleFileError,
    index_locations,
    locate,
    read_yaml,
)

__all__ = [
    "MAX_ALIASES", "MAX_DEPTH", "MAX_NODES", "Location", "Problem", "RuleFileError", "RuleFileModel", "RuleSet",
    "load_rules", "load_rules_text", "locate", "parse_rule_file", "rule_file_model",
]


class Scorecard(BaseModel):
    """How deductions become a score: base, pass mark."""

    model_config = ConfigDict(extra="forbid")

    base_score: float = Field(default=100.0, gt=0)
    pass_mark: float = Field(default=80.0, ge=0)


class RuleFileBase(BaseModel):
    """The whole rule file but its rules (whose union depends on the kinds registered)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Shown in reports")
    version: str | int = 1
    description: str | None = None
    scorecard: Scorecard = Field(default_factory=Scorecard)
    categories: dict[str, str] = Field(default_factory=dict, description="Category id -> label shown in reports")
    lexicons: Lexicons = Field(
        default_factory=dict, description="Named word lists; `@name` in a phrase list, `{{name}}` in a regex"
    )
    redact: RedactConfig = Field(default_factory=RedactConfig, description="Personal-data redaction (qa_engine.pii)")
    emotion: EmotionConfig = Field(
        default_factory=EmotionConfig, description="Customer emotion: words added to the built-in lexicon, thresholds"
    )
    metrics: MetricsConfig = Field(default_factory=MetricsConfig, description="How the conversation metrics are measured")


_MODELS: dict[tuple[type, ...], type[RuleFileBase]] = {}


def rule_file_model() -> type[RuleFileBase]:
    """The whole rule file, its `rules` a discriminated union of every registered kind's spec."""
    key = tuple(KINDS.values())
    if key not in _MODELS:
        _MODELS[key] = create_model(
            "RuleFileModel",
            __base__=RuleFileBase,
            __doc__="The whole rule file.",
            rules=(list[rule_union()], Field(min_length=1)),  # type: ignore[valid-type]
        )
    return _MODELS[key]


RuleFileModel = rule_file_model()


@dataclass
class RuleSet:
    """A validated rule file with its checks compiled, ready for an `Engine`."""

    model: RuleFileModel
    path: str
    sha256: str
    text: str
    checks: list[Check]
    nlp: NlpResources
    locations: dict[tuple, tuple[int, int]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.model.name

    def category_label(self, category: str) -> str:
        return self.model.categories.get(category, category)

    def rule(self, rule_id: str):
        return next(c.spec for c in self.checks if c.spec.id == rule_id)

    def with_checks(self, checks: list[Check]) -> RuleSet:
        """The same rule file with other compiled checks (a subset, or one rule re-tuned)."""
        return replace(self, checks=checks)


def _rule_id(data: Any, index: int) -> str | None:
    try:
        value = data["rules"][index].get("id")
        return str(value) if value is not None else None
    except (KeyError, IndexError, TypeError, AttributeError):
        return None


def _strip_tag(data: Any, loc: tuple) -> tuple:
    """pydantic puts the union tag into the location (rules.3.phrases.x); drop it."""
    if len(loc) >= 3 and loc[0] == "rules" and isinstance(loc[1], int):
        try:
            kind = data["rules"][loc[1]].get("kind")
        except (KeyError, IndexError, TypeError, AttributeError):
            kind = None
        if loc[2] == kind:
            return loc[:2] + loc[3:]
    return loc


def _valid_keys(data: Any, loc: tuple) -> list[str] | None:
    """The keys allowed where an unknown key was found, to suggest the right one."""
    if loc[:1] == ("rules",) and len(loc) == 3:
        try:
            kind = data["rules"][loc[1]].get("kind")
        except (KeyError, IndexError, TypeError, AttributeError):
            return None
        if kind in KINDS:
            return sorted(KINDS[kind].spec_class.model_fields)
    if len(loc) == 1:
        return sorted(rule_file_model().model_fields)
    return None


def _describe_error(data: Any, error: dict) -> tuple[tuple, str, str | None, bool]:
    """(location path, message, hint, points at the key) for one pydantic error."""
    loc = _strip_tag(data, tuple(error["loc"]))
    kind = error["type"]
    if kind == "extra_forbidden":
        name = str(loc[-1])
        valid = _valid_keys(data, loc) or []
        close = difflib.get_close_matches(name, valid, n=1)
        hint = (f"did you mean '{close[0]}'? " if close else "") + (
            f"valid keys: {', '.join(valid)}" if valid else "remove it"
        )
        return loc, f"unknown key '{name}'", hint, True
    if kind == "union_tag_invalid":
        given = error.get("input", {}).get("kind") if isinstance(error.get("input"), dict) else None
        close = difflib.get_close_matches(str(given), list(KINDS), n=1)
        hint = (f"did you mean '{close[0]}'? " if close else "") + "valid kinds: " + ", ".join(sorted(KINDS))
        return loc + ("kind",), f"unknown rule kind '{given}'", hint, False
    if kind == "union_tag_not_found":
        return loc, "rule has no 'kind'", "add kind: one of " + ", ".join(sorted(KINDS)), False
    if kind == "missing":
        return loc, f"missing required key '{loc[-1]}'", None, False
    return loc, error["msg"], None, False


def _validation_problems(path: str, data: Any, error: ValidationError, locations) -> list[Problem]:
    problems = []
    for item in error.errors():
        loc, message, hint, at_key = _describe_error(data, item)
        if item["type"] == "missing":
            position = locate(locations, loc[:-1])
        else:
            position = locate(locations, loc, key=at_key)
        rule_id = _rule_id(data, loc[1]) if len(loc) > 1 and loc[0] == "rules" and isinstance(loc[1], int) else None
        field_path = ".".join(str(p) for p in loc)
        problems.append(
            Problem(
                path=path,
                message=f"{field_path}: {message}",
                line=position[0] if position else None,
                column=position[1] if position else None,
                rule_id=rule_id,
                hint=hint,
            )
        )
    return problems


def _valid_lexicons(value: Any) -> bool:
    """Lexicons well-formed enough to resolve references (their own errors are reported anyway)."""
    return isinstance(value, dict) and all(
        isinstance(entries, list) and all(isinstance(e, str) for e in entries) for entries in value.values()
    )


def parse_rule_file(text: str, path: str = "<rules>") -> tuple[RuleFileModel, dict[tuple, Location]]:
    """YAML text to a validated model, or `RuleFileError` with located problems.

    Depth, aliases and the expanded size are bounded (`MAX_DEPTH`, `MAX_ALIASES`,
    `MAX_NODES`) so a small hostile file cannot take minutes or gigabytes.
    """
    data, node = read_yaml(text, path)
    if not isinstance(data, dict) or node is None:
        raise RuleFileError(
            [Problem(path, "a rule file is a mapping with `name` and `rules`", line=1, column=1)]
        )
    locations: dict[tuple, Location] = {}
    dupes: list = []
    index_locations(node, (), locations, dupes)
    problems = [
        Problem(
            path,
            f"key '{p[-1]}' appears twice",
            line=mark.line + 1,
            column=mark.column + 1,
            rule_id=_rule_id(data, p[1]) if len(p) > 1 and p[0] == "rules" else None,
            hint="YAML keeps only the last one; remove one",
        )
        for p, mark in dupes
    ]
    lexicons = data.get("lexicons")
    context = {CONTEXT_KEY: lexicons if _valid_lexicons(lexicons) else {}}
    try:
        model = rule_file_model().model_validate(data, context=context)
    except ValidationError as error:
        problems.extend(_validation_problems(path, data, error, locations))
        raise RuleFileError(problems) from None
    if problems:
        raise RuleFileError(problems)
    return model, locations


def _semantic_problems(model: RuleFileModel, path: str, locations) -> list[Problem]:
    problems = []
    seen: dict[str, int] = {}
    for index, rule in enumerate(model.rules):
        if rule.id in seen:
            line, column = locate(locations, ("rules", index, "id")) or (None, None)
            problems.append(
                Problem(path, f"rule id '{rule.id}' is used twice", line, column, rule.id, "rule ids must be unique")
            )
        seen[rule.id] = index
    by_id = {rule.id: rule for rule in model.rules}
    for index, rule in enumerate(model.rules):
        for side, refs in rule.rule_references().items():
            for ref in refs:
                if ref not in by_id:
                    message, hint = f"{side} refers to rule '{ref}', which does not exist", None
                    close = difflib.get_close_matches(ref, list(by_id), n=1)
                    hint = f"did you mean '{close[0]}'?" if close else "check the rule id"
                elif by_id[ref].reads_other_rules:
                    kind = by_id[ref].kind
                    message, hint = f"{side} refers to {kind} rule '{ref}'", f"refer to non-{kind} rules only"
                else:
                    continue
                line, column = locate(locations, ("rules", index, side)) or (None, None)
                problems.append(Problem(path, message, line, column, rule.id, hint))
    return problems


def _compile(model: RuleFileModel, path: str, locations, nlp: NlpResources) -> list[Check]:
    checks: list[Check] = []
    problems: list[Problem] = []
    for index, rule in enumerate(model.rules):
        if not rule.enabled:
            continue
        try:
            checks.append(KINDS[rule.kind](rule, nlp))
        except SpecError as error:
            line, column = locate(locations, ("rules", index, *error.loc)) or (None, None)
            problems.append(Problem(path, str(error), line, column, rule.id))
    if problems:
        raise RuleFileError(problems)
    # Rules that read other rules' hits on the same utterance (sequences) run last.
    return [c for c in checks if not c.spec.reads_other_rules] + [c for c in checks if c.spec.reads_other_rules]


def load_rules_text(text: str, path: str = "<rules>") -> RuleSet:
    """Validate and compile rule-file text (`path` only labels the problems)."""
    model, locations = parse_rule_file(text, path)
    problems = _semantic_problems(model, path, locations)
    if problems:
        raise RuleFileError(problems)
    words = [p for rule in model.rules if rule.enabled for p in rule.phrases_used()]
    nlp = NlpResources(words)
    checks = _compile(model, path, locations, nlp)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return RuleSet(model, path, digest, text, checks, nlp, locations)


def default_rules_path() -> Path:
    """The standard rule set: `rules/default.yaml`, packed into the wheel as qa_engine/rules."""
    packaged = Path(__file__).parent / "rules" / "default.yaml"
    return packaged if packaged.exists() else Path(__file__).parent.parent / "rules" / "default.yaml"


def load_rules(path: str | Path | None = None) -> RuleSet:
    """Load a rule file (the default rule set when `path` is None)."""
    file = Path(path) if path is not None else default_rules_path()
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RuleFileError([Problem(str(file), "rule file not found", hint="check the path")]) from None
    except (OSError, UnicodeDecodeError) as error:
        raise RuleFileError([Problem(str(file), f"cannot read rule file: {error}", hint="save it as UTF-8")]) from None
    return load_rules_text(text, str(file))
