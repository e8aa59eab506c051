"""E-mail addresses, as written (name@qq.com) and as spoken (幺二三 艾特 qq 点 com)."""

from __future__ import annotations

import re

from qa_engine.pii.base import Doc, Found
from qa_engine.pii.entities.base import TextEntity

_EMAIL = re.compile(
    r"[a-z0-9][a-z0-9._%+\-]*\s*(?:@|艾特|at)\s*[a-z0-9][a-z0-9\-]*"
    r"(?:\s*(?:\.|点)\s*[a-z0-9\-]+)*\s*(?:\.|点)\s*(?:com|cn|net|org|edu|gov)\b"
)


class Email(TextEntity):
    name = "email"
    label = "邮箱"

    def find(self, doc: Doc) -> list[Found]:
        norm = doc.norm
        found = []
        for m in _EMAIL.finditer(norm.text):
            start, end = norm.span(*m.span())
            found.append(Found(self.name, start, end, "name, @ (艾特) and a domain", "email"))
        return found
