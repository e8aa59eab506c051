"""Verification and pick-up codes read out: 4–8 digits after a cue word (验证码 …)."""

from __future__ import annotations

from qa_engine.pii.entities.base import NumberEntity


class VerificationCode(NumberEntity):
    name = "vcode"
    label = "验证码"
    cues = ("验证码", "校验码", "动态码", "动态密码", "短信码", "取件码", "密码")
    sound_cues = ("验证码", "校验码", "动态码", "动态密码", "短信码", "取件码")
    asks = ("验证码", "校验码", "动态码", "动态密码", "短信码", "取件码")

    def judge(self, digits: str, cue: str | None) -> str | None:
        if cue and digits.isdigit() and 4 <= len(digits) <= 8:
            return f"{len(digits)} digits after '{cue}'"
        return None
