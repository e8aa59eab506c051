"""Street-level addresses: a road and house number (南京路一百二十号), or a building and
room (三栋二单元五零一室, 阳光小区五号楼), with the province/city/district before them.

A city or district alone (寄到上海, 浦东新区) identifies no one and is kept; so are
numbers with 号 that are dates (十一月九号), subway lines (三号线) or work numbers.
"""

from __future__ import annotations

import re

from qa_engine.pii.base import CJK, Doc, Found
from qa_engine.pii.entities.base import TextEntity

# Characters that end a place name on the left (verbs, pronouns, particles, fillers).
_STOP = "在住是到的了我你他她您家寄送址就那这个嗯啊呃吧呢吗和跟给往从把要想请帮收件地发货号楼室栋单元层"
_C = rf"(?:(?![{_STOP}])[{CJK}])"
_NUM = r"[0-9零〇一二三四五六七八九十百千幺两洞]+"
_ADMIN = rf"(?:{_C}{{2,6}}?(?:省|自治区))?(?:{_C}{{1,6}}?市)?(?:{_C}{{1,6}}?(?:区|县))?(?:{_C}{{1,6}}?(?:街道|镇|乡))?"
_ROAD = rf"{_C}{{1,6}}?(?:路|大街|街|大道|巷|弄|胡同)"
_COMMUNITY = rf"{_C}{{2,6}}?(?:小区|花园|公寓|大厦|新村|家园|苑|广场|村)"
_BUILDING = rf"{_NUM}(?:栋|幢|号楼|座)"
_TAIL = rf"(?:\s?{_BUILDING})?(?:\s?{_NUM}单元)?(?:\s?{_NUM}(?:楼|层))?(?:\s?{_NUM}(?:室|号|户))?"
_UNIT = rf"\s?{_NUM}单元(?:\s?{_NUM}(?:室|号|户)?)?"
_ADDRESS = re.compile(
    rf"{_ADMIN}{_ROAD}\s?{_NUM}(?:号院|号){_TAIL}"
    rf"|{_ADMIN}(?:{_COMMUNITY}\s?)?{_BUILDING}(?:\s?{_NUM}单元)?(?:\s?{_NUM}(?:楼|层))?\s?{_NUM}(?:室|号|户)"
    rf"|{_ADMIN}(?:{_COMMUNITY}\s?)?{_BUILDING}{_UNIT}"
    rf"|{_ADMIN}{_COMMUNITY}\s?{_BUILDING}"
)


_ANCHOR = re.compile(r"[0-9零〇一二三四五六七八九十百千幺两洞](?=号|栋|幢|座|室|户|单元)")


class Address(TextEntity):
    name = "address"
    label = "地址"

    def find(self, doc: Doc) -> list[Found]:
        # The pattern is slow on long text; run it only around a number said before an
        # anchor (号, 栋, 室, 单元 …), which every address here ends with.
        text = doc.plain
        found: list[Found] = []
        for anchor in _ANCHOR.finditer(text):
            at = anchor.start()
            if found and at < found[-1].end:
                continue
            lo = max(0, at - 40)
            for m in _ADDRESS.finditer(text, lo, min(len(text), at + 30)):
                if m.start() <= at < m.end() and not (found and m.start() < found[-1].end):
                    found.append(Found(self.name, m.start(), m.end(), "road and house number, or building and room", "address"))
                    break
        return found
