"""Person names said with an honorific or 姓: 张先生, 王女士, 免贵姓王, 我姓李, 我叫张伟,
收件人是王小明. Only the name is masked, so 「[姓名]先生」 still reads as a polite address.
这位先生 / 那位女士 are not names (这, 那 are no surnames).

Speech-to-text writes homophones (我姓陈 → 我兴臣, 免贵姓张 → 免规信仗), so the cues are
also matched by sound: 免贵姓 by folded pinyin (mian gui xing), 我姓/他姓 and 我叫 by
toneless pinyin (wo xing, wo jiao: 我信 is no cue), the surname by the sound of one (臣
sounds like 陈), and 先生/女士/小姐 after a real surname by folded pinyin (陈先森). A
name found only by sound must end its clause (我兴臣，), so 我兴趣很广, 我行吗, 我姓名写错了
stay as they are."""

from __future__ import annotations

import re
from functools import lru_cache

from qa_engine.pii.base import CJK, Doc, Found
from qa_engine.pii.entities.base import TextEntity
from qa_engine.pii.sound import chars_sounding, is_cjk, syllables
from qa_engine.text import char_pinyin

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
    "常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
COMPOUND = ("欧阳", "司马", "诸葛", "上官", "东方", "慕容", "令狐", "皇甫", "尉迟", "公孙", "夏侯", "长孙")
_SUR = "(?:" + "|".join(COMPOUND) + f"|[{SURNAMES}])"
_HONORIFIC = "先生|女士|小姐|太太|老师|经理|师傅|阿姨|大哥|大姐|老板|总"
_GIVEN_STOP = "的是了吧呢啊吗呀嗯我你他她您在就也都和跟"
_GIVEN = rf"(?:(?![{_GIVEN_STOP}])[{CJK}])"
_NAME = re.compile(
    rf"(?<![这那哪各每该某位个老小])(?P<a>{_SUR})(?:{_HONORIFIC})"
    rf"|(?:贵姓|免贵姓|我姓|他姓|她姓|姓)是?(?P<b>{_SUR})"
    rf"|(?:我叫|名字是|名字叫|收件人是|收件人叫|寄件人是|联系人是|姓名是|收件人|寄件人|联系人)(?P<c>{_SUR}{_GIVEN}{{1,2}})"
)


_SURNAME_SOUNDS = frozenset(char_pinyin(c) for c in SURNAMES)
# Characters that sound like a surname but end or carry a sentence (吗 like 马, 了 like 乐).
_NOT_SURNAME = set("吗嘛么呢吧啊呀哦哈了的得地着过也都就还又很太不没是在有和跟我你他她您它这那哪个些么")
# Cue syllables said before the surname: (syllables, folded?).
_SOUND_CUES = ((("mian", "gui", "xin"), True), (("wo", "xing"), False), (("ta", "xing"), False))
_SOUND_CALL = (("wo", "jiao"), False)
_SOUND_HONORIFIC = (("xian", "sen"), ("nv", "si"), ("xiao", "jie"))
_END = set("，,。.!！?？、；;：: \n…")


def _sounds_like_surname(char: str) -> bool:
    return is_cjk(char) and char not in _NOT_SURNAME and (char in SURNAMES or char_pinyin(char) in _SURNAME_SOUNDS)


def _ends_clause(text: str, at: int) -> bool:
    return at >= len(text) or text[at] in _END


@lru_cache(maxsize=1)
def _candidates() -> re.Pattern:
    """Where a name by sound may be: after a 姓-like or 叫-like syllable, or a surname
    before a 先生/女士/小姐-like one (character classes built once from pypinyin)."""
    xing = chars_sounding("xin", folded=True)
    jiao = chars_sounding("jiao")
    honour = chars_sounding("xian", "nv", "xiao", folded=True)
    return re.compile(rf"(?<=[{xing}{jiao}])[{CJK}]|[{SURNAMES}](?=[{honour}])")


def sound_names(text: str) -> list[tuple[int, int, str]]:
    """(start, end, reason) of names whose cue or surname was heard as a homophone."""

    def cue_before(at: int, cue: tuple[str, ...], fold: bool) -> bool:
        k = len(cue)
        return at >= k and syllables(text[at - k : at], fold) == cue

    out: list[tuple[int, int, str]] = []
    for m in _candidates().finditer(text):
        at = m.start()
        char = text[at]
        # 我兴臣 / 免规信仗: a cue that sounds like 姓, then one surname-sounding character.
        if any(cue_before(at, cue, fold) for cue, fold in _SOUND_CUES):
            surname = at + 1 if char == "是" else at
            if _sounds_like_surname(text[surname : surname + 1]) and _ends_clause(text, surname + 1):
                out.append((surname, surname + 1, "surname after a cue heard as 姓 (by sound)"))
                continue
        # 我较陈伟: a cue that sounds like 我叫, a surname and one or two given characters.
        if cue_before(at, *_SOUND_CALL) and _sounds_like_surname(char):
            for size in (3, 2):
                given = text[at + 1 : at + size]
                if len(given) == size - 1 and all(is_cjk(c) and c not in _GIVEN_STOP for c in given) and _ends_clause(text, at + size):
                    out.append((at, at + size, "name after a cue heard as 我叫 (by sound)"))
                    break
            continue
        # 陈先森: a real surname before an honorific heard as a homophone.
        before = text[at - 1] if at else ""
        if (
            char in SURNAMES
            and syllables(text[at + 1 : at + 3], True) in _SOUND_HONORIFIC
            and (not before or before not in "这那哪各每该某位个老小" and before != char)
        ):
            out.append((at, at + 1, "surname before an honorific (by sound)"))
    return out


class PersonName(TextEntity):
    name = "name"
    label = "姓名"

    def find(self, doc: Doc) -> list[Found]:
        found = []
        for m in _NAME.finditer(doc.plain):
            group = next(g for g in "abc" if m.group(g))
            start = m.start(group)
            if group == "a" and start > 0 and doc.plain[start - 1] == doc.plain[start]:
                continue  # 谢谢先生: a doubled word, not a surname
            reason = {"a": "surname before an honorific", "b": "surname after 姓", "c": "name after 我叫/收件人"}[group]
            found.append(Found(self.name, m.start(group), m.end(group), reason, "name"))
        for start, end, reason in sound_names(doc.plain):
            if not any(f.start < end and start < f.end for f in found):
                found.append(Found(self.name, start, end, reason, "name"))
        return found
