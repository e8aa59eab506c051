"""Named word lists (lexicons) that every rule kind can use in place of a phrase.

A rule file may start with `lexicons: {承诺词: [保证, 一定, 肯定], 公司名: [中通速递]}`.
Anywhere a rule takes a list of phrases, the item `"@承诺词"` stands for every entry of
that lexicon, and a regex pattern may say `{{承诺词}}` for "any of them". Adapting the
default rule set to another company is then editing one lexicon, not twenty rules.

References are resolved while the rule file is validated (pydantic validation
context), so an unknown name is a located error like any other; each resolved list
remembers which lexicon every phrase came from, for `qa rules explain` and findings.
"""

from __future__ import annotations

import difflib
import re
from typing import Annotated, Any

import re2
from pydantic import AfterValidator, Field, ValidationInfo

LEXICON_NAME = r"^[^\s@{}]+$"
_REFERENCE = re.compile(r"\{\{([^{}\s]+)\}\}")
CONTEXT_KEY = "lexicons"


class LexiconPhrases(list):
    """A phrase list with lexicon references expanded; `origin` maps a phrase to its lexicon."""

    origin: dict[str, str]

    def __init__(self, items=(), origin: dict[str, str] | None = None) -> None:
        super().__init__(items)
        self.origin = dict(origin or {})


def _lexicons(info: ValidationInfo | None) -> dict[str, list[str]]:
    context = info.context if info is not None else None
    if isinstance(context, dict):
        return context.get(CONTEXT_KEY) or {}
    return {}


def _unknown(name: str, lexicons: dict[str, list[str]]) -> ValueError:
    close = difflib.get_close_matches(name, list(lexicons), n=1)
    hint = f"did you mean '@{close[0]}'? " if close else ""
    known = ", ".join(sorted(lexicons)) or "none: add a `lexicons:` section at the top of the rule file"
    return ValueError(f"unknown lexicon '@{name}' ({hint}defined lexicons: {known})")


def expand_phrases(phrases: list[str], lexicons: dict[str, list[str]]) -> LexiconPhrases:
    """Replace each `@name` item with the lexicon's entries, keeping order, dropping repeats."""
    out: list[str] = []
    origin: dict[str, str] = {}
    seen: set[str] = set()
    for item in phrases:
        if item.startswith("@") and len(item) > 1:
            name = item[1:]
            if name not in lexicons:
                raise _unknown(name, lexicons)
            for entry in lexicons[name]:
                if entry not in seen:
                    seen.add(entry)
                    out.append(entry)
                    origin[entry] = name
        elif item not in seen:
            seen.add(item)
            out.append(item)
    return LexiconPhrases(out, origin)


def _resolve_phrases(value: list[str], info: ValidationInfo) -> LexiconPhrases:
    return expand_phrases(value, _lexicons(info))


def expand_pattern(pattern: str, lexicons: dict[str, list[str]]) -> str:
    """`{{name}}` in a regex becomes a non-capturing group of the lexicon's escaped entries."""

    def group(match: re.Match) -> str:
        name = match.group(1)
        if name not in lexicons:
            raise _unknown(name, lexicons)
        entries = sorted(lexicons[name], key=len, reverse=True)  # longest first, as a reader expects
        return "(?:" + "|".join(re2.escape(entry) for entry in entries) + ")"

    return _REFERENCE.sub(group, pattern)


def _resolve_pattern(value: str | None, info: ValidationInfo) -> str | None:
    return None if value is None else expand_pattern(value, _lexicons(info))


def referenced_names(data: Any) -> set[str]:
    """Every lexicon name referenced anywhere in raw rule data (for the unused-lexicon warning)."""
    found: set[str] = set()
    if isinstance(data, str):
        if data.startswith("@") and len(data) > 1:
            found.add(data[1:])
        found.update(_REFERENCE.findall(data))
    elif isinstance(data, dict):
        for value in data.values():
            found |= referenced_names(value)
    elif isinstance(data, list):
        for value in data:
            found |= referenced_names(value)
    return found


Phrases = Annotated[list[str], AfterValidator(_resolve_phrases)]
"""A list of phrases in which `@name` items stand for a lexicon's entries."""

NonEmptyPhrases = Annotated[list[str], Field(min_length=1), AfterValidator(_resolve_phrases)]

Pattern = Annotated[str, AfterValidator(_resolve_pattern)]
"""A regex in which `{{name}}` stands for any entry of a lexicon."""

OptionalPattern = Annotated[str | None, AfterValidator(_resolve_pattern)]

Lexicons = dict[Annotated[str, Field(pattern=LEXICON_NAME)], list[str]]
