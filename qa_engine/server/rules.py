"""The rule sets a server holds, by name, and reloading them without a restart.

A reload is all or nothing: every file is loaded first, and only if all are valid do they
replace the old ones; a broken file keeps the old rules running and its located problems
are returned. Calls in progress keep the engine they started with.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from qa_engine.engine import Engine
from qa_engine.rulefile import Problem, RuleFileError, load_rules

DEFAULT_NAME = "default"


@dataclass(frozen=True)
class NamedRules:
    name: str
    path: Path | None
    engine: Engine

    def summary(self) -> dict:
        """Path, hash, title and rule count: what /v1/rules and a reload answer about this set."""
        rules = self.engine.rules
        return {"path": rules.path, "sha256": rules.sha256, "title": rules.name, "rules": len(rules.checks)}


def rule_set_name(path: Path | None) -> str:
    """A rule set is named by its file's stem (`rules/strict.yaml` is `strict`)."""
    return DEFAULT_NAME if path is None else path.stem


class RuleLibrary:
    """Named, compiled rule sets; the first is the default."""

    def __init__(self, paths: list[Path] | None = None, keep_pii: bool = False) -> None:
        self.paths: list[Path | None] = list(paths) if paths else [None]
        self.keep_pii = keep_pii
        names = [rule_set_name(p) for p in self.paths]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"rule files must have different names, {', '.join(duplicates)} is used twice")
        self._lock = threading.Lock()
        self._sets = self._load_all()
        self.reloads = 0

    @property
    def default(self) -> str:
        return rule_set_name(self.paths[0])

    def get(self, name: str | None = None) -> NamedRules:
        """The rule set called `name` (the default when None); KeyError if there is none."""
        with self._lock:
            return self._sets[name or self.default]

    def names(self) -> list[str]:
        with self._lock:
            return list(self._sets)

    def summaries(self) -> dict[str, dict]:
        """Each rule set's `NamedRules.summary`, by name."""
        with self._lock:
            return {name: named.summary() for name, named in self._sets.items()}

    def reload(self) -> dict[str, dict]:
        """Load every file again; on any problem raise `RuleFileError` and keep the old rules."""
        fresh = self._load_all()
        with self._lock:
            self._sets = fresh
            self.reloads += 1
        return self.summaries()

    def _load_all(self) -> dict[str, NamedRules]:
        loaded: dict[str, NamedRules] = {}
        problems: list[Problem] = []
        for path in self.paths:
            try:
                loaded[rule_set_name(path)] = NamedRules(rule_set_name(path), path, Engine(load_rules(path), keep_pii=self.keep_pii))
            except RuleFileError as error:
                problems.extend(error.problems)
            except (RecursionError, MemoryError, ValueError) as error:  # a pathological file the loader could not place
                problems.append(_unreadable(path, error))
        if problems:
            raise RuleFileError(problems)
        return loaded


def _unreadable(path: Path | None, error: BaseException) -> Problem:
    """A rule file that broke the loader itself (e.g. nesting deep enough to exhaust the stack)."""
    reason = "nested too deeply to read" if isinstance(error, RecursionError) else f"could not be read ({error})"
    return Problem(
        path=str(path) if path else "<bundled rules>",
        message=f"the rule file {reason}",
        hint="rule files are flat lists of rules; look for runaway [ or { nesting or YAML aliases",
    )
