"""A generated PII corpus: utterances as people say them and as speech-to-text writes them.

Deterministic (seeded). Spoken forms are drawn independently of the recognisers: ASCII
digits, Chinese numerals with 幺/洞/两, mixed, grouped with spaces, commas, dashes and
fillers (嗯, 呃, 那个), split across two turns with the other side's 嗯 between, and for
phones one misheard digit. Negatives are PII-free utterances full of numbers: prices,
quantities, times, dates, weights, durations, counts, ordinals, work numbers, waybill
and order numbers (not PII by default), hotline numbers (400/95xxx), floors and subway
lines, city and district names without a street (寄到上海市浦东新区: not identifying).

Speech-to-text noise (`asr_items`, its own seeded generator, so the clean corpus stays
as it was): the cue words and address markers written as the homophones Whisper writes
(我兴臣 for 我姓陈, 张江鲁 for 张江路, 收集号 for 手机号, 身份正 for 身份证), a room's 室
dropped, digits lost after 身份证/银行卡 (the value is labelled by the cue), a number split
by a misheard acknowledgement (文章 for 嗯). `HARD_NEGATIVES` are the near misses that must
stay: 路过, 兴趣, 一号线, 我信你, 我行吗, 春节三号, 收集了三百份 …

An item is a list of (speaker, text) turns and its gold spans (turn, start, end, entity).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

CN = {"0": "零", "1": "一", "2": "二", "3": "三", "4": "四", "5": "五", "6": "六", "7": "七", "8": "八", "9": "九"}
SEPARATORS = [" ", " ", "，", "、", "-", " 嗯 ", " 呃 ", "，那个", "…"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玉兰"


@dataclass
class Item:
    turns: list[tuple[str, str]]
    gold: list[tuple[int, int, int, str]] = field(default_factory=list)
    form: str = ""


def say_digit(d: str, rng: random.Random) -> str:
    if d == "1":
        return rng.choice("一一幺幺")
    if d == "0":
        return rng.choice("零零洞〇")
    if d == "2":
        return rng.choice("二二二两")
    if d == "x":
        return rng.choice("XXx")
    return CN[d]


def groups_of(digits: str, rng: random.Random) -> list[str]:
    if len(digits) == 11:
        sizes = rng.choice([[3, 4, 4], [3, 3, 5], [3, 8], [11], [4, 3, 4]])
    else:
        sizes = []
        left = len(digits)
        while left:
            size = min(left, rng.choice([3, 4, 4, 6]))
            sizes.append(size)
            left -= size
    out, pos = [], 0
    for size in sizes:
        out.append(digits[pos : pos + size])
        pos += size
    return out


def spoken(digits: str, rng: random.Random, form: str) -> list[str]:
    """The digit string as a list of groups in one spoken form."""
    groups = groups_of(digits, rng) if form != "plain" else [digits]
    out = []
    for group in groups:
        style = form if form in ("ascii", "chinese") else rng.choice(["ascii", "chinese"])
        out.append(group if style == "ascii" else "".join(say_digit(d, rng) for d in group))
    return out


def join(groups: list[str], rng: random.Random, pause: bool) -> str:
    if not pause:
        return "".join(groups)
    sep = rng.choice(SEPARATORS)
    return sep.join(groups) if sep.strip() or sep == " " else sep.join(groups)


def phone(rng):
    return "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))


def landline(rng):
    area = rng.choice(["010", "021", "020", "022", "023", "0755", "0571", "0512", "028", "027"])
    return area + rng.choice("2345678") + "".join(rng.choice("0123456789") for _ in range(rng.choice([6, 7])))


def id_card(rng):
    from qa_engine.pii.entities.id_card import id_check_char

    region = rng.choice(["110105", "310104", "440304", "330106", "510107", "420106", "320102"])
    birth = f"{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    body = region + birth + f"{rng.randint(0, 999):03d}"
    return body + id_check_char(body)


def bank_card(rng):
    length = rng.choice([16, 19, 19, 18])
    prefix = rng.choice(["62", "62", "4", "5"])
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    for check in "0123456789":
        from qa_engine.pii.entities.bank_card import luhn_ok

        if luhn_ok(body + check):
            return body + check
    raise AssertionError


CUES = {
    "phone": ["我的手机号是{v}", "手机{v}", "电话是{v}，你记一下", "{v}", "打这个{v}就行", "号码{v}对", "联系方式是{v}", "你记一下，{v}"],
    "landline": ["座机是{v}", "我家电话{v}", "打{v}找我", "固话{v}", "{v}"],
    "id_card": ["身份证号是{v}", "我的身份证{v}", "证件号{v}", "{v}"],
    "bank_card": ["卡号是{v}", "银行卡{v}", "退到这张卡上{v}", "{v}"],
    "vcode": ["验证码是{v}", "验证码{v}", "我收到的验证码是{v}", "取件码{v}"],
}


def number_item(entity: str, digits: str, rng: random.Random) -> Item:
    form = rng.choice(["ascii", "chinese", "mixed", "mixed", "plain"])
    pause = form != "plain" and rng.random() < 0.8
    groups = spoken(digits, rng, form)
    template = rng.choice(CUES[entity])
    head, tail = template.split("{v}")
    if len(groups) >= 2 and entity in ("phone", "bank_card", "id_card", "landline") and rng.random() < 0.2:
        cut = rng.randint(1, len(groups) - 1)
        first, second = join(groups[:cut], rng, pause), join(groups[cut:], rng, pause)
        turns = [("customer", head + first), ("agent", rng.choice(["嗯", "嗯嗯", "好的"])), ("customer", second + tail)]
        gold = [(0, len(head), len(head) + len(first), entity), (2, 0, len(second), entity)]
        return Item(turns, gold, form + "+split")
    value = join(groups, rng, pause)
    return Item([("customer", head + value + tail)], [(0, len(head), len(head) + len(value), entity)], form)


def email_item(rng):
    name = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 8)))
    if rng.random() < 0.3:
        name = "".join(rng.choice("0123456789") for _ in range(rng.randint(6, 10)))
    domain = rng.choice(["qq", "163", "126", "gmail", "sina", "foxmail"])
    written = rng.random() < 0.6
    value = f"{name}@{domain}.com" if written else f"{name} 艾特 {domain} 点 com"
    head = rng.choice(["我的邮箱是", "邮箱", "发到", "发我邮箱吧，"])
    return Item([("customer", head + value)], [(0, len(head), len(head) + len(value), "email")], "written" if written else "spoken")


def plate_item(rng):
    province = rng.choice("京沪浙粤苏川鄂鲁")
    letter = rng.choice("ABCDEFGHJK")
    tail = "".join(rng.choice("0123456789ABCDEFGHJKLMN" if i < 1 else "0123456789") for i in range(5))
    spoken_form = rng.random() < 0.4
    tail_text = "".join(say_digit(c, rng) if c.isdigit() else c for c in tail) if spoken_form else tail
    value = province + letter + tail_text
    head = rng.choice(["车牌号是", "我的车是", "车牌", "送货的车"])
    return Item([("customer", head + value)], [(0, len(head), len(head) + len(value), "plate")], "spoken" if spoken_form else "written")


def num_cn(n: int, rng) -> str:
    import cn2an

    return str(n) if rng.random() < 0.3 else cn2an.an2cn(str(n))


def address_item(rng):
    city = rng.choice(["上海市浦东新区", "北京市朝阳区", "杭州市西湖区", "广东省深圳市南山区", "成都市武侯区", "", ""])
    road = rng.choice(["张江路", "建国路", "文三路", "科技园南路", "人民路", "解放大街", "中山大道", "幸福巷"])
    number = f"{num_cn(rng.randint(1, 999), rng)}号"
    building = rng.choice(["", f"{num_cn(rng.randint(1, 30), rng)}栋", f"{num_cn(rng.randint(1, 12), rng)}号楼"])
    room = rng.choice(["", f"{''.join(CN[d] for d in str(rng.randint(101, 2505)))}室"])
    if rng.random() < 0.35:
        community = rng.choice(["阳光小区", "金色花园", "翠苑新村", "世纪公寓"])
        value = city + community + f"{num_cn(rng.randint(1, 30), rng)}栋" + f"{num_cn(rng.randint(1, 6), rng)}单元" + "".join(CN[d] for d in str(rng.randint(101, 1805))) + rng.choice(["室", ""])
    else:
        value = city + road + number + building + room
    head = rng.choice(["我住在", "地址是", "寄到", "送到", "我家在"])
    tail = rng.choice(["", "，麻烦快点", "。"])
    return Item([("customer", head + value + tail)], [(0, len(head), len(head) + len(value), "address")], "")


def name_item(rng):
    surname = rng.choice(SURNAMES)
    form = rng.randrange(4)
    if form == 0:
        head = rng.choice(["好的，", "您好，", "谢谢您，", "不好意思，", "", "请问是"])
        honor = rng.choice(["先生", "女士", "小姐", "师傅"])
        text = head + surname + honor + rng.choice(["，我帮您查一下。", "。", "，您稍等。", ""])
        return Item([("agent", text)], [(0, len(head), len(head) + 1, "name")], "honorific")
    if form == 1:
        head = rng.choice(["免贵姓", "我姓", "姓"])
        return Item([("customer", head + surname + rng.choice(["", "。", "，木子李的李"]))], [(0, len(head), len(head) + 1, "name")], "姓")
    if form == 2:
        given = "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))
        head = rng.choice(["我叫", "收件人是", "收件人", "联系人是"])
        return Item([("customer", head + surname + given + rng.choice(["", "。"]))], [(0, len(head), len(head) + 1 + len(given), "name")], "full")
    text = f"是{surname}先生吗"
    return Item([("agent", text)], [(0, 1, 2, "name")], "question")


def wrong_digit(digits: str, rng) -> str:
    i = rng.randint(2, len(digits) - 1)
    return digits[:i] + rng.choice([d for d in "0123456789" if d != digits[i]]) + digits[i + 1 :]


NEGATIVE_TEMPLATES = [
    "首重{n}元，续重{m}元", "一共{n}块{m}毛", "运费是{n}元", "这个包裹{n}公斤", "大概{n}斤重", "{h}点{m}分到",
    "下午{h}点半", "{h}点钟给您送过去", "{mo}月{d}号发的货", "预计{d}号到", "{y}年{mo}月{d}号", "大概{n}天", "已经{n}个小时了",
    "一共{n}个包裹", "第{n}次打电话了", "工号{w}为您服务", "运单号是{waybill}", "单号{waybill}", "订单号{order}",
    "客服热线{hot}", "您可以打{hot}", "我住{n}楼", "坐地铁{h}号线", "退款{n}元{m}角", "优惠{n}折", "打{h}折",
    "包裹长{n}厘米宽{m}厘米", "保价{n}元", "快递柜{n}号柜", "第{h}个格口", "前面还有{n}个人", "{n}件衣服",
    "等了{n}分钟", "{h}点到{hh}点之间", "周{wd}送", "{n}块钱一个月", "我买了{n}份", "五点零公斤", "十二点五元",
    "寄到上海市浦东新区", "发到北京转运中心", "您的件在杭州中转站", "已经派送{n}次了", "评价给{h}星", "排第{n}位",
    "两个人", "三五天", "一下", "一起寄", "统一下午送", "万一丢了怎么办", "这位先生", "先生您好", "好的先生", "谢谢先生",
    "女士您稍等", "请问您贵姓", "请问您的姓名", "快递师傅", "各位老师", "我们经理", "老百姓", "姓名是多少",
]


def negative(rng) -> str:
    template = rng.choice(NEGATIVE_TEMPLATES)
    values = {
        "n": num_cn(rng.randint(1, 3000), rng),
        "m": num_cn(rng.randint(0, 59), rng),
        "h": num_cn(rng.randint(1, 12), rng),
        "hh": num_cn(rng.randint(1, 12), rng),
        "mo": num_cn(rng.randint(1, 12), rng),
        "d": num_cn(rng.randint(1, 31), rng),
        "y": "".join(CN[c] for c in str(rng.randint(2019, 2025))) if rng.random() < 0.5 else str(rng.randint(2019, 2025)),
        "w": "".join(CN[c] for c in str(rng.randint(100, 999))),
        "wd": rng.choice("一二三四五六日"),
        "waybill": "".join(say_digit(c, rng) if rng.random() < 0.5 else c for c in "7" + "".join(rng.choice("0123456789") for _ in range(rng.choice([11, 12, 13, 14])))),
        "order": str(rng.randint(2019, 2025)) + "".join(rng.choice("0123456789") for _ in range(rng.choice([8, 10, 12]))),
        "hot": rng.choice(["四零零八二零八八二零", "95311", "九五三一一", "400-820-8820", "一零零八六", "95588"]),
    }
    return template.format(**values)


# Homophones as speech-to-text writes them (hand-written, not taken from the recognisers).
SURNAME_HOMOPHONES = {
    "陈": "臣晨沉", "张": "章仗掌", "王": "网往旺", "李": "里理礼", "刘": "留流", "杨": "阳洋羊", "黄": "皇慌",
    "赵": "照找", "周": "州洲", "徐": "需虚", "朱": "猪珠", "胡": "湖壶", "郭": "锅国", "林": "临淋", "何": "河合",
}
NAME_CUE_HOMOPHONES = ["我兴", "我性", "我行", "我星", "免规信", "免贵性", "免桂姓", "免贵星", "他性"]
ROAD_HOMOPHONES = {"路": "鲁录陆露", "街": "接阶", "巷": "向项"}
BUILDING_HOMOPHONES = {"栋": "东动冻"}
ROOM_HOMOPHONES = ["是", "事", ""]  # 室 heard as 是/事, or lost
NUMBER_CUE_HOMOPHONES = {
    "phone": ["收集号是{v}", "首级{v}", "我的收集号码{v}"],
    "landline": ["坐机是{v}", "做机{v}"],
    "id_card": ["身份正号是{v}", "深份证{v}", "身分证号码{v}"],
    "bank_card": ["营行卡{v}", "卡好是{v}", "银行卡号码是{v}"],
    "vcode": ["验正码是{v}", "验证马{v}"],
}
MISHEARD_ACKS = ["文章", "恩恩", "嗯哼", "问", "en"]
HARD_NEGATIVES = [
    "路过三号门口", "我兴趣不大", "坐一号线到三号口", "我信你。", "我行吗？", "我姓名写错了", "他性子急", "我星期三在家",
    "春节三号发货", "记录一下，三号来取", "好吗？三点到", "手机没电了，三点再打", "收集了三百份问卷", "收集了3500份",
    "银行卡里还有三千五百元", "身份证过期两年了", "卡好了吗", "三毫米", "五号楼两千零五年建的", "第三单元测试",
    "您好先生", "一位先生", "这位先森", "谢谢先森", "我行，没问题", "兴趣班三百元", "星期五下午三点", "电话里说三点到",
    "号码是多少", "我较真。", "身份正确吗", "卡号对不上", "我行李丢了三件", "陆续送了五单", "接3号的单", "东3门",
    "三楼东边", "鲁A的车", "一路顺风", "第一路公交", "三路车坐五站", "我姓名栏写错了", "行，三点", "免费送三次",
]


def _noisy_digits(digits: str, rng: random.Random) -> str:
    return join(spoken(digits, rng, rng.choice(["ascii", "chinese", "mixed"])), rng, True)


def asr_items(seed: int, per_entity: int) -> list[Item]:
    """Utterances as Whisper writes them: homophone cues and markers, lost digits."""
    rng = random.Random(seed * 7919 + 1)
    items: list[Item] = []
    for _ in range(per_entity):
        # Names: 我兴臣，/ 免规信仗 / 陈先森.
        surname = rng.choice(list(SURNAME_HOMOPHONES))
        heard = rng.choice(SURNAME_HOMOPHONES[surname] + surname)
        head = rng.choice(NAME_CUE_HOMOPHONES)
        if rng.random() < 0.25:
            text = rng.choice(["好的，", "", "是"]) + surname + "先森" + rng.choice(["，您稍等。", "。", ""])
            at = text.index(surname)
            items.append(Item([("agent", text)], [(0, at, at + 1, "name")], "asr:honorific"))
        else:
            text = head + heard + rng.choice(["", "。", "，", "，耳东陈的陈"[:1]])
            items.append(Item([("customer", text)], [(0, len(head), len(head) + 1, "name")], "asr:姓"))
        # Addresses: road, building and room markers misheard, a room's 室 lost, a unit alone.
        road = rng.choice(["张江", "建国", "人民", "中山", "文三", "幸福"])
        suffix = rng.choice(list(ROAD_HOMOPHONES))
        road += rng.choice(ROAD_HOMOPHONES[suffix] + suffix)
        number = f"{num_cn(rng.randint(1, 999), rng)}号"
        building = rng.choice([f"{num_cn(rng.randint(1, 30), rng)}{rng.choice(BUILDING_HOMOPHONES['栋'])}",
                               f"{num_cn(rng.randint(1, 12), rng)}号楼"])
        room = "".join(rng.choice([CN[d], d]) for d in str(rng.randint(101, 2505))) + rng.choice(ROOM_HOMOPHONES)
        form = rng.randrange(3)
        if form == 0:
            value = road + number
        elif form == 1:
            value = road + number + building + room
        else:
            value = f"{num_cn(rng.randint(1, 6), rng)}单元" + "".join(CN[d] for d in str(rng.randint(101, 1805)))
        head = rng.choice(["我住在", "地址是", "寄到", "送到"])
        tail = rng.choice(["", "，麻烦快点", "。"])
        gold_end = len(head) + len(value) - (1 if value.endswith(("是", "事")) else 0)
        items.append(Item([("customer", head + value + tail)], [(0, len(head), gold_end, "address")], f"asr:address{form}"))
        # Numbers: cue homophones; digits lost after 身份证/银行卡; split by a misheard 嗯.
        for entity, make in (("phone", phone), ("landline", landline), ("id_card", id_card), ("bank_card", bank_card)):
            digits = make(rng)
            template = rng.choice(NUMBER_CUE_HOMOPHONES[entity])
            form = "asr:cue"
            if entity in ("id_card", "bank_card") and rng.random() < 0.5:
                for _ in range(rng.choice([1, 1, 2, 3] if entity == "id_card" else [1])):
                    cut = rng.randrange(len(digits) - 1)
                    digits = digits[:cut] + digits[cut + 1 :]
                template = rng.choice(CUES[entity][:-1])  # the cue, as said: it tells what the digits are
                form = "asr:lost"
            head, tail = template.split("{v}")
            if entity == "phone" and rng.random() < 0.5:
                first, second = _noisy_digits(digits[:7], rng), _noisy_digits(digits[7:], rng)
                turns = [("agent", "请问您的手机号是多少？"), ("customer", first), ("agent", rng.choice(MISHEARD_ACKS)), ("customer", second)]
                items.append(Item(turns, [(1, 0, len(first), entity), (3, 0, len(second), entity)], "asr:split"))
                continue
            value = _noisy_digits(digits, rng)
            items.append(Item([("customer", head + value + tail)], [(0, len(head), len(head) + len(value), entity)], form))
        digits = "".join(rng.choice("0123456789") for _ in range(rng.choice([4, 6])))
        head, tail = rng.choice(NUMBER_CUE_HOMOPHONES["vcode"]).split("{v}")
        value = _noisy_digits(digits, rng)
        items.append(Item([("customer", head + value + tail)], [(0, len(head), len(head) + len(value), "vcode")], "asr:cue"))
    return items


def generate(seed: int = 11, per_entity: int = 80, negatives: int = 1000) -> tuple[list[Item], list[str]]:
    rng = random.Random(seed)
    items: list[Item] = []
    for _ in range(per_entity):
        digits = phone(rng)
        if rng.random() < 0.15:
            items.append(number_item("phone", wrong_digit(digits, rng), rng))
            items[-1].form += "+wrong"
        else:
            items.append(number_item("phone", digits, rng))
        items.append(number_item("landline", landline(rng), rng))
        items.append(number_item("id_card", id_card(rng), rng))
        items.append(number_item("bank_card", bank_card(rng), rng))
        items.append(number_item("vcode", "".join(rng.choice("0123456789") for _ in range(rng.choice([4, 6]))), rng))
        items.append(email_item(rng))
        items.append(plate_item(rng))
        items.append(address_item(rng))
        items.append(name_item(rng))
    return items + asr_items(seed, per_entity // 2), [negative(rng) for _ in range(negatives)] + HARD_NEGATIVES


FILLER_CHARS = set(" ，、-…嗯呃那个。")


def _joined(item: Item) -> tuple[str, list[int]]:
    offsets, pos = [], 0
    for _, text in item.turns:
        offsets.append(pos)
        pos += len(text) + 1
    return "\n".join(t for _, t in item.turns), offsets


def evaluate(redactor, items: list[Item], negatives: list[str]) -> dict:
    """Per entity: recall (gold value fully covered by a span of its type) and precision
    (found spans overlapping a gold span of their type); false redactions per 1,000 negatives."""
    from qa_engine.pii.base import Doc

    stats: dict[str, dict[str, int]] = {}
    misses: list[tuple[str, list]] = []
    for item in items:
        text, offsets = _joined(item)
        found = redactor.find(Doc(text))
        golds = [(offsets[t] + s, offsets[t] + e, ent) for t, s, e, ent in item.gold]
        entity = golds[0][2]
        row = stats.setdefault(entity, {"gold": 0, "recalled": 0})
        row["gold"] += 1
        covered = set()
        for f in found:
            if f.entity == entity:
                covered.update(range(f.start, f.end))
        need = {i for s, e, _ in golds for i in range(s, e) if text[i] not in FILLER_CHARS}
        if need <= covered:
            row["recalled"] += 1
        else:
            misses.append((entity, item.turns))
        for f in found:
            prow = stats.setdefault(f.entity, {"gold": 0, "recalled": 0})
            prow["found"] = prow.get("found", 0) + 1
            if any(f.start < e and s < f.end and ent == f.entity for s, e, ent in golds):
                prow["true"] = prow.get("true", 0) + 1
    false_redactions = []
    for sentence in negatives:
        found = redactor.find(Doc(sentence))
        if found:
            false_redactions.append((sentence, [(f.entity, sentence[f.start : f.end]) for f in found]))
    table = {}
    for entity, row in sorted(stats.items()):
        table[entity] = {
            "n": row["gold"],
            "recall": row["recalled"] / row["gold"] if row["gold"] else None,
            "precision": row.get("true", 0) / row["found"] if row.get("found") else None,
        }
    return {
        "entities": table,
        "false_per_1000": 1000 * len(false_redactions) / len(negatives),
        "false_redactions": false_redactions,
        "misses": misses,
    }
