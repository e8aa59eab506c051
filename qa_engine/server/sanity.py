"""Checks on parsed JSON that schema validation does not make: values the engine and the
JSON encoder cannot handle are refused at the door with a located 4xx, not a 500 later.

- numbers must be finite (Python's json reads `NaN` and `Infinity`);
- strings must be valid Unicode (a `\\ud800` escape decodes to a lone surrogate, which
  cannot be written back as UTF-8);
- nesting is bounded (free-form fields such as `stt` take any JSON).
"""

from __future__ import annotations

import json
import math
from typing import Any


class BadInput(ValueError):
    """A located problem with client data: `where` is a dotted path, `problem` the reason."""

    def __init__(self, where: str, problem: str) -> None:
        self.where = where or "body"
        self.problem = problem
        super().__init__(f"{self.where}: {problem}")


def check_json(value: Any, max_depth: int = 32) -> None:
    """Raise `BadInput` for a non-finite number, a lone surrogate or nesting past `max_depth`.

    Iterative, so a deeply nested value cannot exhaust the stack here.
    """
    stack: list[tuple[Any, tuple, int]] = [(value, (), 0)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, bool) or item is None or isinstance(item, int):
            continue
        if isinstance(item, float):
            if not math.isfinite(item):
                raise BadInput(_dotted(where), f"{item} is not a finite number")
        elif isinstance(item, str):
            _check_text(item, where)
        elif isinstance(item, dict | list | tuple):
            if depth >= max_depth:
                raise BadInput(_dotted(where), f"nested deeper than {max_depth} levels")
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in pairs:
                if isinstance(key, str):
                    _check_text(key, where)
                stack.append((child, (*where, key), depth + 1))


def parse_json(text: str | bytes, max_depth: int = 32) -> Any:
    """`json.loads` that refuses NaN/Infinity, lone surrogates and deep nesting (`BadInput`);
    malformed JSON raises `json.JSONDecodeError` as usual."""
    if isinstance(text, bytes | bytearray):
        text = text.decode("utf-8-sig")
    elif text.startswith("\ufeff"):
        text = text[1:]
    _check_depth(text, max_depth)
    data = json.loads(text, parse_constant=_no_constant)
    check_json(data, max_depth)
    return data


def _check_depth(text: str, max_depth: int) -> None:
    """Refuse deep nesting before parsing (the parser itself recurses)."""
    depth = 0
    in_string = escaped = False
    for index, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > max_depth:
                raise BadInput("body", f"nested deeper than {max_depth} levels (at character {index})")
        elif char in "]}":
            depth -= 1


def _no_constant(name: str) -> Any:
    raise BadInput("body", f"{name} is not valid JSON (numbers must be finite)")


def _check_text(text: str, where: tuple) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BadInput(_dotted(where), f"text holds a lone surrogate (\\u{ord(text[exc.start]):04x}), not valid Unicode") from None


def _dotted(where: tuple) -> str:
    return ".".join(str(part) for part in where)
