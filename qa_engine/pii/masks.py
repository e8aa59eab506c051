"""What a redacted span is replaced with: a typed placeholder, so a reader (and a rule)
still knows what was said: 「我的手机号是[手机号]」, or with `mask: partial` 138****8000."""

from __future__ import annotations

PARTIAL = {"phone": (3, 4), "bank_card": (4, 4), "id_card": (3, 4), "landline": (3, 2)}


def mask_for(entity: str, label: str, style: str, digits: str | None, whole: bool = True) -> str:
    """`whole` is False for the pieces of a number split over turns: those get the label."""
    keep = PARTIAL.get(entity)
    if style == "partial" and whole and keep and digits and len(digits) > sum(keep):
        head, tail = keep
        return digits[:head] + "*" * (len(digits) - head - tail) + digits[len(digits) - tail :]
    return f"[{label}]"
