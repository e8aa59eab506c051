"""Landlines: 0 + area code + 7–8 digits (10–12 digits); 7–8 digits alone after a
landline cue. Service numbers (400/800…) do not start with 0 and are not matched."""

from __future__ import annotations

import re

from qa_engine.pii.entities.base import NumberEntity

_WITH_AREA = re.compile(r"0[1-9]\d{8,10}")
_LOCAL = re.compile(r"[2-8]\d{6,7}")


class Landline(NumberEntity):
    name = "landline"
    label = "固话"
    cues = ("座机", "固话", "固定电话", "电话", "区号", "号码")
    sound_cues = ("座机", "固话", "固定电话", "电话")
    asks = ("座机", "固话", "固定电话", "区号")

    def judge(self, digits: str, cue: str | None) -> str | None:
        if not digits.isdigit():
            return None
        if _WITH_AREA.fullmatch(digits):
            return "0, an area code and 7-8 digits"
        if cue and _LOCAL.fullmatch(digits):
            return f"7-8 digits after '{cue}'"
        return None

    by_cue_from = 7

    def by_cue(self, digits: str, cue: str) -> str | None:
        if digits.isdigit() and 7 <= len(digits) <= 12:
            return f"{len(digits)} digits after '{cue}' (a landline, digits lost or misheard)"
        return None
