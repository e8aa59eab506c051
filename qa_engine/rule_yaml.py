"""Rule-file YAML read safely and located: the part of loading that knows YAML, not rules.

A rule file is untrusted text (QA leads edit it, the server reloads it), so it is read with
bounds on depth, aliases and expanded size before anything is built (`read_yaml`), and
every value's line and column is indexed (`index_locations`, `locate`) so each problem
`qa_engine.rulefile` finds can say where it is (`Problem`, `RuleFileError`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import yaml


@dataclass
class Problem:
    """One thing wrong with a rule file, located as precisely as the YAML allows."""

    path: str
    message: str
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based
    rule_id: str | None = None
    hint: str | None = None
    severity: str = "error"

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}:{self.column or 1}"
        rule = f" [rule {self.rule_id}]" if self.rule_id else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{where}:{rule} {self.severity}: {self.message}{hint}"


class RuleFileError(Exception):
    """A rule file that cannot be used; `problems` says where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


Location = tuple[int, int]


def index_locations(node: yaml.Node, path: tuple, out: dict[tuple, Location], dupes: list) -> None:
    out[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                dupes.append((path + (key,), key_node.start_mark))
            seen.add(key)
            out[path + (key, "<key>")] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            index_locations(value_node, path + (key,), out, dupes)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            index_locations(item, path + (index,), out, dupes)


def locate(locations: dict[tuple, Location], path: tuple, key: bool = False) -> Location | None:
    """The line and column of `path`, or of its nearest ancestor that has one."""
    if key and path + ("<key>",) in locations:
        return locations[path + ("<key>",)]
    for cut in range(len(path), -1, -1):
        if path[:cut] in locations:
            return locations[path[:cut]]
    return None


def _limit(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


MAX_DEPTH = _limit("QA_RULES_MAX_DEPTH", 50)
"""Deepest nesting of mappings and lists a rule file may have (the default set uses 7)."""
MAX_NODES = _limit("QA_RULES_MAX_NODES", 500_000)
"""Most YAML values a rule file may hold once its aliases are expanded (billion laughs)."""
MAX_ALIASES = _limit("QA_RULES_MAX_ALIASES", 1_000)
"""Most alias uses (`*name`) in one rule file."""


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml when PyYAML has it: the same documents and marks, about ten times faster."""


def _yaml_problem(path: str, message: str, mark, hint: str) -> RuleFileError:
    return RuleFileError(
        [Problem(path, message, line=mark.line + 1 if mark else None, column=mark.column + 1 if mark else None, hint=hint)]
    )


def _check_bounds(text: str, path: str) -> None:
    """Reject, before anything is built, YAML too deep or with too many aliases.

    The event stream is read iteratively, so even 100,000 nested brackets cost no recursion.
    """
    depth = aliases = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _yaml_problem(
                    path, f"nested more than {MAX_DEPTH} levels deep", event.start_mark,
                    "a rule file needs only a few levels; set QA_RULES_MAX_DEPTH to allow more",
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise _yaml_problem(
                    path, f"more than {MAX_ALIASES} aliases", event.start_mark,
                    "set QA_RULES_MAX_ALIASES to allow more",
                )


def _check_size(node: yaml.Node, path: str) -> None:
    """Count the values the document would have with every alias expanded, without expanding it."""
    sizes: dict[int, int] = {}

    def size(item: yaml.Node) -> int:
        key = id(item)
        if key not in sizes:
            sizes[key] = 0  # a recursive alias counts once
            if isinstance(item, yaml.MappingNode):
                total = 1 + sum(size(k) + size(v) for k, v in item.value)
            elif isinstance(item, yaml.SequenceNode):
                total = 1 + sum(size(v) for v in item.value)
            else:
                total = 1
            sizes[key] = total
            if total > MAX_NODES:
                raise _yaml_problem(
                    path, f"expands to more than {MAX_NODES} values (aliases of aliases?)", item.start_mark,
                    "rule files do not need nested aliases; set QA_RULES_MAX_NODES to allow more",
                )
        return sizes[key]

    size(node)


def read_yaml(text: str, path: str) -> tuple[Any, yaml.Node | None]:
    """The document's data and its node tree, within the bounds; `RuleFileError` otherwise."""
    try:
        _check_bounds(text, path)
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is not None:
                _check_size(node, path)
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        raise _yaml_problem(path, f"not valid YAML: {problem}", mark, "check indentation and quoting near this line") from None
    return data, node
