"""What every recogniser shares: the text it reads and the spans it returns.

A `Doc` is one speaker's side of a call (or one sentence): the utterances joined by
newlines, so a number read out over two turns is one digit run. Recognisers return
`Found` spans in the doc's original coordinates, each with the reason it matched
(shown by `qa rules explain redact`); they never keep the matched value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from qa_engine.pii.numerals import NormText, normalize_numerals

CJK = "\u4e00-\u9fff"


@dataclass
class Found:
    entity: str
    start: int
    end: int
    reason: str
    recognizer: str = ""
    digits: str | None = None  # the number, only to build a partial mask; never stored
    priority: int = 0


# Digit groups and what may sit between the groups of one spoken number: pauses,
# punctuation, a spoken dash (杠) and fillers.
_GROUP = re.compile(r"[0-9]+x?|(?<![a-z])x(?![a-z])")
# Between turns, the other side's short acknowledgement (好的, 对) does not end a number.
_SEPARATOR = re.compile(r"(?:[\s,，、.。·\-—–_/:：;；…]|杠|嗯|呃|啊|额|哦|唔|呀|那个|就是|然后|\n(?:好的|好|对|是的|请讲|您说|继续)[，,。]?\n)*")
MAX_GAP = 10


@dataclass
class DigitRun:
    """Consecutive digit groups of one spoken number: (start, end) of each in the norm text."""

    groups: list[tuple[int, int]]


@dataclass
class Doc:
    original: str
    context_before: str = ""  # what the other side said just before (e.g. 您的手机号是多少)
    _extra: dict = field(default_factory=dict)

    @cached_property
    def norm(self) -> NormText:
        return normalize_numerals(self.original, self.plain)

    @cached_property
    def plain(self) -> str:
        """Simplified, half-width, lower-case; same length as `original`."""
        from qa_engine.text import normalize

        return normalize(self.original)

    @cached_property
    def digit_runs(self) -> list[DigitRun]:
        text = self.norm.text
        runs: list[DigitRun] = []
        last_end = -1
        for match in _GROUP.finditer(text):
            gap = text[last_end : match.start()] if last_end >= 0 else None
            if runs and gap is not None and len(gap) <= MAX_GAP and _SEPARATOR.fullmatch(gap):
                runs[-1].groups.append(match.span())
            else:
                runs.append(DigitRun([match.span()]))
            last_end = match.end()
        return runs

    def cue_window(self, norm_start: int, norm_end: int, before: int = 24, after: int = 8) -> str:
        text = self.norm.text
        window = text[max(0, norm_start - before) : norm_start] + " " + text[norm_end : norm_end + after]
        if norm_start < before:
            window = normalize_numerals(self.context_before[-before:]).text + " " + window
        return window


def has_cue(window: str, cues: tuple[str, ...], sound: tuple[str, ...] = ()) -> str | None:
    """A cue word said in the window, as written or (for `sound`) by its pinyin: the cue,
    with how it was heard when that differs (手机 heard as 收集: "手机 (heard 收集)")."""
    from qa_engine.pii.sound import find_cue

    hit = find_cue(window, cues, sound)
    if hit is None:
        return None
    cue, _, heard = hit
    return cue if heard == cue else f"{cue} (heard {heard})"
