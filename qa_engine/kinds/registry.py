"""The explicit registry of rule kinds: `@register` on each check class."""

from __future__ import annotations

from .base import Check

KINDS: dict[str, type[Check]] = {}


def register(kind: str):
    """Add a check class under `kind`; its spec's `kind` field must say the same."""

    def add(cls: type[Check]) -> type[Check]:
        if kind in KINDS:
            raise ValueError(f"rule kind {kind!r} registered twice")
        KINDS[kind] = cls
        return cls

    return add
