"""Street-level addresses: a road and house number (南京路一百二十号), or a building and
room (三栋二单元五零一室, 阳光小区五号楼), with the province/city/district before them.

A city or district alone (寄到上海, 浦东新区) identifies no one and is kept; so are
numbers with 号 that are dates (十一月九号), subway lines (三号线) or work numbers.

Speech-to-text writes homophones of the markers (张江鲁八十八号 for 张江路, 五东 for 五栋)
and drops some (三号楼二零一五 for 三号楼二零一室), so the markers next to a number are
read by sound: a character that sounds like 路/街/巷/弄/小区 just before a number, or like
号/栋/幢/楼/室/户/层/座/单元 just after one, counts as that marker (not a numeral, a unit
or a word that often stands there: 洞, 十, 时, 市, 节, 毫 …). After a building or a unit,
a bare 3-4 digit room number counts (its 室 lost), and a unit with its room is an
address without the building (二单元五零一).
"""

from __future__ import annotations

import re

from qa_engine.pii.base import CJK, Doc, Found
from qa_engine.pii.entities.base import TextEntity
from qa_engine.pii.sound import syllables

# Characters that end a place name on the left (verbs, pronouns, particles, fillers).
_STOP = "在住是到的了我你他她您家寄送址就那这个嗯啊呃吧呢吗和跟给往从把要想请帮收件地发货号楼室栋单元层"
_C = rf"(?:(?![{_STOP}])[{CJK}])"
_NUM = r"[0-9零〇一二三四五六七八九十百千幺两洞]+"
_ADMIN = rf"(?:{_C}{{2,6}}?(?:省|自治区))?(?:{_C}{{1,6}}?市)?(?:{_C}{{1,6}}?(?:区|县))?(?:{_C}{{1,6}}?(?:街道|镇|乡))?"
_ROAD = rf"{_C}{{1,6}}?(?:路|大街|街|大道|巷|弄|胡同)"
_COMMUNITY = rf"{_C}{{2,6}}?(?:小区|花园|公寓|大厦|新村|家园|苑|广场|村)"
_BUILDING = rf"{_NUM}(?:栋|幢|号楼|座)"
_UNIT = rf"\s?{_NUM}单元(?:\s?{_NUM}(?:室|号|户)?)?"
# A room number whose 室 was lost: 3-4 digits after a building or unit, not a quantity.
_BARE_ROOM = r"[0-9零〇一二三四五六七八九幺两洞]{3,4}(?![0-9零〇一二三四五六七八九幺两洞十百千万年月日号元块个点分岁斤米])"
_ROOM = rf"(?:{_NUM}(?:室|号|户)|{_BARE_ROOM})"
_FLOOR = rf"(?:\s?{_NUM}(?:楼|层))?"
_TAIL = (
    rf"(?:\s?{_BUILDING}(?:\s?{_NUM}单元)?{_FLOOR}(?:\s?{_ROOM})?"
    rf"|\s?{_NUM}单元{_FLOOR}(?:\s?{_ROOM})?"
    rf"|{_FLOOR}(?:\s?{_NUM}(?:室|号|户))?)"
)
_ADDRESS = re.compile(
    rf"{_ADMIN}{_ROAD}\s?{_NUM}(?:号院|号){_TAIL}"
    rf"|{_ADMIN}(?:{_COMMUNITY}\s?)?{_BUILDING}(?:\s?{_NUM}单元)?(?:\s?{_NUM}(?:楼|层))?\s?{_ROOM}"
    rf"|{_ADMIN}(?:{_COMMUNITY}\s?)?{_BUILDING}{_UNIT}"
    rf"|{_ADMIN}(?:{_COMMUNITY}\s?)?{_NUM}单元\s?{_ROOM}"
    rf"|{_ADMIN}{_COMMUNITY}\s?{_BUILDING}"
)


_NUMERAL = set("0123456789零〇一二三四五六七八九十百千幺两洞")
_NUMBER_RUN = re.compile("[0-9零〇一二三四五六七八九十百千幺两洞]+")
# Markers by sound: (syllables, the marker). Before a number: the road or community;
# after one: the house, building, room.
_BEFORE = ((("xiao", "qu"), "小区"), (("lu",), "路"), (("jie",), "街"), (("xiang",), "巷"), (("nong",), "弄"), (("long",), "弄"))
_AFTER = (
    (("dan", "yuan"), "单元"), (("hao",), "号"), (("dong",), "栋"), (("zhuang",), "幢"), (("lou",), "楼"),
    (("shi",), "室"), (("hu",), "户"), (("ceng",), "层"), (("zuo",), "座"),
)
# The markers by the syllable next to the number (the last of a _BEFORE, the first of an
# _AFTER): most runs (一下, 两个) have none, and are then passed over in one lookup.
_BEFORE_BY_LAST = {last: [m for m in _BEFORE if m[0][-1] == last] for last in {m[0][-1] for m in _BEFORE}}
_AFTER_BY_FIRST = {first: [m for m in _AFTER if m[0][0] == first] for first in {m[0][0] for m in _AFTER}}
# Homophones that are numerals, units, place names or words often said next to a number.
_NOT_MARKER = set("零〇一二三四五六七八九十百千幺两洞时市节结姐解界届借毫乡省区县镇村第次个是")


def heard_markers(text: str) -> str:
    """`text` with each homophone of an address marker next to a number written as the
    marker (张江鲁88号 → 张江路88号); same length, so spans map back one to one."""
    out: list[str] | None = None
    for run in _NUMBER_RUN.finditer(text):
        i, j = run.span()
        left = i - 1 if i and text[i - 1] != " " else i - 2
        if left >= 0:
            for sound, marker in _BEFORE_BY_LAST.get(syllables(text[left])[0], ()):
                a = left - len(sound) + 1
                if a >= 0 and syllables(text[a : left + 1]) == sound and not set(text[a : left + 1]) & _NOT_MARKER:
                    out = out or list(text)
                    out[a : left + 1] = marker
                    break
        right = j if j < len(text) and text[j] != " " else j + 1
        if right < len(text):
            for sound, marker in _AFTER_BY_FIRST.get(syllables(text[right])[0], ()):
                b = right + len(sound)
                if syllables(text[right:b]) == sound and not set(text[right:b]) & _NOT_MARKER:
                    out = out or list(text)
                    out[right:b] = marker
                    if marker == "号" and syllables(text[b : b + 1]) == ("lou",) and text[b] not in _NOT_MARKER:
                        out[b] = "楼"  # 三号搂 → 三号楼
                    break
    return text if out is None else "".join(out)


_ANCHOR = re.compile(r"[0-9零〇一二三四五六七八九十百千幺两洞](?=号|栋|幢|座|室|户|单元)")


class Address(TextEntity):
    name = "address"
    label = "地址"

    def find(self, doc: Doc) -> list[Found]:
        # The pattern is slow on long text; run it only around a number said before an
        # anchor (号, 栋, 室, 单元 …), which every address here ends with.
        text = heard_markers(doc.plain)
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
