"""Spoken numbers to digits, with an offset map back to the original text.

People read numbers out in Chinese numerals (一三八, 幺 for 一, 两 for 二, 洞 for 零),
mixed with digits, and speech-to-text writes them either way. Recognisers work on a
normalised copy where every digit is ASCII; `NormText.span` maps a span of that copy
back to the original characters so a mask lands exactly on what was said.

Conversion is cn2an's (``cn2an.cn2an(..., "smart")``), not a hand table: a run of digit
numerals (一三八零) becomes one digit per character (so the map stays per character), a
run with place values (十一, 一百二十) becomes its value as a block. The only alias
cn2an lacks is 洞 (radio/phone-reading 零), replaced before conversion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import cn2an

from qa_engine.text import normalize

DIGIT_NUMERALS = "零〇一二三四五六七八九幺两洞"
PLACE_NUMERALS = "十百千万"
_ALIASES = str.maketrans({"洞": "零", "〇": "零"})
_RUN = re.compile(f"[{DIGIT_NUMERALS}{PLACE_NUMERALS}]+")


@lru_cache(maxsize=64)
def _digit(char: str) -> str:
    return str(cn2an.cn2an(char.translate(_ALIASES), "smart"))


@lru_cache(maxsize=4096)
def _value(run: str) -> str | None:
    try:
        value = cn2an.cn2an(run.translate(_ALIASES), "smart")
    except (ValueError, KeyError, TypeError):
        return None
    return str(int(value)) if float(value).is_integer() else None


@dataclass
class NormText:
    """`text` normalised (simplified, half-width, lower-case, numerals as digits).

    `starts[i]`/`ends[i]` give the original span of `text[i]`.
    """

    original: str
    text: str
    starts: list[int]
    ends: list[int]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original [start, end) of normalised [start, end)."""
        return self.starts[start], self.ends[end - 1]


def normalize_numerals(original: str, base: str | None = None) -> NormText:
    """`base` is `qa_engine.text.normalize(original)` when the caller has it already."""
    if base is None:
        base = normalize(original)  # same length as original, char for char
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    pos = 0
    for match in _RUN.finditer(base):
        a, b = match.span()
        out.append(base[pos:a])
        starts.extend(range(pos, a))
        ends.extend(range(pos + 1, a + 1))
        run = match.group()
        pos = b
        if any(c in PLACE_NUMERALS for c in run):
            value = _value(run) if len(run) > 1 or run in "十" else None
            if value is not None:
                out.append(value)
                starts.extend([a] * len(value))
                ends.extend([b] * len(value))
                continue
        out.append("".join(_digit(c) if c in DIGIT_NUMERALS else c for c in run))
        starts.extend(range(a, b))
        ends.extend(range(a + 1, b + 1))
    out.append(base[pos:])
    starts.extend(range(pos, len(base)))
    ends.extend(range(pos + 1, len(base) + 1))
    return NormText(original, "".join(out), starts, ends)
