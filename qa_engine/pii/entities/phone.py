"""Mobile numbers: 11 digits, 1[3-9]…; with a +86 prefix; with one digit dropped, added
or misheard (10/12 digits, or a wrong second digit) when a cue word is said nearby."""

from __future__ import annotations

import re

from qa_engine.pii.entities.base import NumberEntity

_MOBILE = re.compile(r"1[3-9]\d{9}")


class Phone(NumberEntity):
    name = "phone"
    label = "手机号"
    cues = ("手机", "电话", "号码", "联系方式", "打给", "回拨", "打我", "微信")
    sound_cues = ("手机", "电话", "联系方式")
    asks = ("手机",)

    def judge(self, digits: str, cue: str | None) -> str | None:
        if not digits.isdigit():
            return None
        if len(digits) == 13 and digits.startswith("86") and _MOBILE.fullmatch(digits[2:]):
            return "+86 and 11 digits starting 1[3-9]"
        if _MOBILE.fullmatch(digits):
            return "11 digits starting 1[3-9]"
        if len(digits) == 11 and digits[0] == "1" and cue:
            return f"11 digits starting 1 after '{cue}' (a misheard digit)"
        if len(digits) in (10, 12) and re.match(r"1[3-9]", digits) and cue:
            return f"{len(digits)} digits starting 1[3-9] after '{cue}' (a digit dropped or added)"
        return None

    by_cue_from = 10

    def by_cue(self, digits: str, cue: str) -> str | None:
        if digits.isdigit() and 10 <= len(digits) <= 12 and digits[0] == "1":
            return f"{len(digits)} digits starting 1 after '{cue}' (a mobile number, digits lost or misheard)"
        return None
