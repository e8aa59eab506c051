"""Person names said with an honorific or 姓: 张先生, 王女士, 免贵姓王, 我姓李, 我叫张伟,
收件人是王小明. Only the name is masked, so 「[姓名]先生」 still reads as a polite address.
这位先生 / 那位女士 are not names (这, 那 are no surnames)."""

from __future__ import annotations

import re

from qa_engine.pii.base import CJK, Doc, Found
from qa_engine.pii.entities.base import TextEntity

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
        return found
