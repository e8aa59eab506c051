"""Licence plates: a province abbreviation, a letter and 5 (6 for new-energy) letters or
digits, with at least one digit (浙A12345, 粤B·D12345, 京A一二三四五 said aloud)."""

from __future__ import annotations

import re

from qa_engine.pii.base import Doc, Found
from qa_engine.pii.entities.base import TextEntity

_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE = re.compile(
    rf"[{_PROVINCES}]\s?[a-hj-np-z]\s?[·•\-]?\s?(?=[a-hj-np-z0-9 ]{{5,7}})((?:[a-hj-np-z0-9]\s?){{5,6}})(?![a-z0-9])"
)


class Plate(TextEntity):
    name = "plate"
    label = "车牌号"

    def find(self, doc: Doc) -> list[Found]:
        norm = doc.norm
        found = []
        for m in _PLATE.finditer(norm.text):
            if not any(c.isdigit() for c in m.group(1)):
                continue
            end = m.end() - (1 if m.group().endswith(" ") else 0)
            start, end = norm.span(m.start(), end)
            found.append(Found(self.name, start, end, "province, letter and 5-6 characters", "plate"))
        return found
