"""The explicit registry of rule kinds: `@register` on each check class.

The kind's name is read from its spec's `kind: Literal[...]`, so it is written once.
"""

from __future__ import annotations

from qa_engine.kinds.base import Check

KINDS: dict[str, type[Check]] = {}


def register(cls: type[Check]) -> type[Check]:
    """Add a check class under the kind its spec declares."""
    kind = cls.kind
    if kind in KINDS and KINDS[kind] is not cls:
        raise ValueError(f"rule kind {kind!r} registered twice ({KINDS[kind].__module__} and {cls.__module__})")
    KINDS[kind] = cls
    return cls


def unregister(kind: str) -> None:
    """Remove a kind (tests that register a throwaway kind clean up with this)."""
    KINDS.pop(kind, None)


def match_mode_labels() -> dict[str, str]:
    """Every registered kind's match modes with their Chinese labels."""
    labels: dict[str, str] = {}
    for check in KINDS.values():
        labels.update(check.match_modes)
    return labels
