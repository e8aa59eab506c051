"""Bank cards: 16–19 digits passing the Luhn check, with a card-scheme prefix (62
UnionPay, 4, 5, 35/37) or a cue word; after a cue, a failed Luhn (one misheard digit);
after a card cue any 15-19 digits (one lost)."""

from __future__ import annotations

from qa_engine.pii.entities.base import NumberEntity


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


class BankCard(NumberEntity):
    name = "bank_card"
    label = "银行卡号"
    cues = ("卡号", "银行卡", "储蓄卡", "信用卡", "借记卡", "账号", "帐号", "卡")
    sound_cues = ("卡号", "银行卡", "储蓄卡", "信用卡", "借记卡")
    asks = ("卡号", "银行卡", "储蓄卡", "信用卡", "借记卡", "账号", "帐号", "张卡", "卡上")

    def judge(self, digits: str, cue: str | None) -> str | None:
        if not digits.isdigit() or not 16 <= len(digits) <= 19:
            return None
        if luhn_ok(digits):
            if digits.startswith(("62", "4", "5", "35", "37")):
                return f"{len(digits)} digits, card prefix, Luhn check passes"
            if cue:
                return f"{len(digits)} digits after '{cue}', Luhn check passes"
        elif cue:
            return f"{len(digits)} digits after '{cue}' (Luhn fails: a misheard digit)"
        return None

    by_cue_from = 15

    def by_cue(self, digits: str, cue: str) -> str | None:
        if digits.isdigit() and 15 <= len(digits) <= 19:
            return f"{len(digits)} digits after '{cue}' (a card number with a digit lost or misheard)"
        return None
