"""The two shapes of recogniser."""

from __future__ import annotations

from qa_engine.pii.base import Doc, Found


class NumberEntity:
    """Judges one spoken digit string (ASCII digits, maybe a final x)."""

    name: str = ""
    label: str = ""
    cues: tuple[str, ...] = ()

    def judge(self, digits: str, cue: str | None) -> str | None:
        """The reason this is the entity, or None. `cue` is a cue word said nearby."""
        raise NotImplementedError


class TextEntity:
    """Finds its own spans in a doc."""

    name: str = ""
    label: str = ""

    def find(self, doc: Doc) -> list[Found]:
        raise NotImplementedError
