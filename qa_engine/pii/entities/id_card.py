"""Resident ID numbers: 18 characters — region (first digit 1–8), birth date, sequence,
and a check character (ISO 7064 MOD 11-2, 0–9 or X). A wrong check character is
accepted when 身份证 is said nearby (one misheard digit); after 身份证 any 15-19
characters are labelled an ID number (15: first-generation; else digits lost or added)."""

from __future__ import annotations

import re

from qa_engine.pii.entities.base import NumberEntity

_SHAPE = re.compile(r"[1-8]\d{5}(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\d{3}[\dx]")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10x98765432"


def id_check_char(first17: str) -> str:
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


class IdCard(NumberEntity):
    name = "id_card"
    label = "身份证号"
    cues = ("身份证", "证件号", "身份号")
    sound_cues = ("身份证", "证件号", "身份号")
    asks = ("身份证", "证件号", "身份号")

    def judge(self, digits: str, cue: str | None) -> str | None:
        if len(digits) != 18 or not _SHAPE.fullmatch(digits):
            return None
        if id_check_char(digits[:17]) == digits[17]:
            return "18 characters: region, birth date, valid check character"
        if cue:
            return f"18 characters with a birth date after '{cue}' (check character wrong)"
        return None

    by_cue_from = 15

    def by_cue(self, digits: str, cue: str) -> str | None:
        # 15: a first-generation number (no century, no check character); 16-19: one
        # to three characters lost or added by speech-to-text.
        if 15 <= len(digits) <= 19 and digits[:-1].isdigit():
            return f"{len(digits)} characters after '{cue}' (an ID number with digits lost or misheard)"
        return None
