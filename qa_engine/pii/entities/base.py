"""The two shapes of recogniser."""

from __future__ import annotations

from qa_engine.pii.base import Doc, Found


class NumberEntity:
    """Judges one spoken digit string (ASCII digits, maybe a final x)."""

    name: str = ""
    label: str = ""
    cues: tuple[str, ...] = ()
    # Cues distinctive enough to match by sound too (收集 for 手机, 身份正 for 身份证).
    sound_cues: tuple[str, ...] = ()
    # Cues that say this entity, and no other, was asked for (身份证, 银行卡): the digits
    # after them are labelled by the cue when speech-to-text lost or garbled some.
    asks: tuple[str, ...] = ()
    # The fewest characters `by_cue` can accept (None: it never does); shorter runs skip the
    # search for what was asked.
    by_cue_from: int | None = None

    def judge(self, digits: str, cue: str | None) -> str | None:
        """The reason this is the entity, or None. `cue` is a cue word said nearby."""
        raise NotImplementedError

    def by_cue(self, digits: str, cue: str) -> str | None:
        """The reason a whole digit run after a cue in `asks` is this entity although its
        shape is off (a digit lost, added or misheard), or None when it is too far off."""
        return None


class TextEntity:
    """Finds its own spans in a doc."""

    name: str = ""
    label: str = ""

    def find(self, doc: Doc) -> list[Found]:
        raise NotImplementedError
