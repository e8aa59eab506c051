"""Personal-data redaction: numerals, recognisers on the generated corpus, the engine's
chokepoints, --keep-pii, failing closed, and no raw value anywhere in the outputs."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from pii_corpus import evaluate, generate
from typer.testing import CliRunner

from qa_engine.cli import app
from qa_engine.engine import Engine
from qa_engine.models import CallTranscript, Utterance
from qa_engine.pii import RedactConfig, Redactor
from qa_engine.pii.numerals import normalize_numerals
from qa_engine.rulefile import load_rules, load_rules_text

# Three calls full of spoken PII, and the raw values that must never appear downstream.
PII_CALLS = [
    {
        "call_id": "pii_call_1",
        "agent_id": "A1",
        "utterances": [
            {"speaker": "agent", "start": 0, "end": 3, "text": "您好，中通速递，工号三零八为您服务。"},
            {"speaker": "customer", "start": 3.5, "end": 6, "text": "你好，我姓王，快递一直没到。"},
            {"speaker": "agent", "start": 6.5, "end": 9, "text": "好的，王先生，请问您的手机号是多少？"},
            {"speaker": "customer", "start": 9.5, "end": 12, "text": "一三八 嗯 零零一三"},
            {"speaker": "agent", "start": 12.2, "end": 12.5, "text": "嗯"},
            {"speaker": "customer", "start": 12.8, "end": 15, "text": "八零零零。"},
            {"speaker": "customer", "start": 15.5, "end": 20, "text": "地址是上海市浦东新区张江路一百二十号三栋五零一室。"},
            {"speaker": "agent", "start": 20.5, "end": 24, "text": "好的，感谢您的来电，祝您生活愉快，再见。"},
        ],
    },
    {
        "call_id": "pii_call_2",
        "agent_id": "A2",
        "utterances": [
            {"speaker": "agent", "start": 0, "end": 3, "text": "您好，中通速递，很高兴为您服务。"},
            {"speaker": "customer", "start": 3.5, "end": 8, "text": "我要退款，卡号是六二二二 零二零二 零零零零 一二三四 五六七。"},
            {"speaker": "customer", "start": 8.5, "end": 13, "text": "身份证号 11010519491231002X，验证码是四七二九。"},
            {"speaker": "agent", "start": 13.5, "end": 16, "text": "好的，张女士，邮箱是 zhangsan@qq.com 对吧？"},
            {"speaker": "agent", "start": 16.5, "end": 19, "text": "感谢您的来电，再见。"},
        ],
    },
    {
        "call_id": "pii_call_3",
        "agent_id": "A3",
        "utterances": [
            {"speaker": "agent", "start": 0, "end": 3, "text": "您好，请问有什么可以帮您？"},
            {"speaker": "customer", "start": 3.5, "end": 7, "text": "我叫李建国，车牌浙A一二三四五，座机零二一 六二三四 五六七八。"},
            {"speaker": "customer", "start": 7.5, "end": 10, "text": "你打幺三九洞洞幺三九洞洞洞也行，首重十二元对吧？"},
            {"speaker": "agent", "start": 10.5, "end": 13, "text": "对，首重十二元，三点钟前送到，再见。"},
        ],
    },
]
RAW = [
    "王先生", "我姓王", "一三八", "零零一三", "13800138000", "张江路一百二十号", "五零一室",
    "六二二二", "6222020200001234567", "11010519491231002X", "11010519491231002x", "四七二九",
    "张女士", "zhangsan", "李建国", "浙A一二三四五", "浙A12345", "六二三四", "02162345678",
    "幺三九洞洞", "13900139000",
]  # fmt: skip


def write_calls(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for call in PII_CALLS:
        (folder / f"{call['call_id']}.json").write_text(json.dumps(call, ensure_ascii=False), encoding="utf-8")
    return folder


def leaks(root: Path, extra: list[str] = ()) -> list[tuple[str, str]]:
    found = []
    texts = [(str(p), p.read_text(encoding="utf-8", errors="replace")) for p in root.rglob("*") if p.is_file()]
    texts += [("(extra)", t) for t in extra]
    for where, text in texts:
        compact = "".join(text.split())
        for raw in RAW:
            if raw in text or raw in compact:
                found.append((where, raw))
    return found


def test_numerals_keep_an_offset_map_to_the_original():
    norm = normalize_numerals("电话一三八 嗯 零零幺三 八洞洞洞，首重十二元")
    assert norm.text == "电话138 嗯 0013 8000,首重12元"
    start, end = norm.span(2, len("电话138 嗯 0013 8000"))
    assert norm.original[start:end] == "一三八 嗯 零零幺三 八洞洞洞"
    twelve = norm.text.index("12")
    assert norm.original[slice(*norm.span(twelve, twelve + 2))] == "十二"


def test_generated_corpus_meets_the_figures():
    items, negatives = generate(seed=11, per_entity=80, negatives=1000)
    assert len(items) >= 500 and len(negatives) >= 500
    result = evaluate(Redactor(), items, negatives)
    for entity, row in result["entities"].items():
        assert row["recall"] >= 0.98, (entity, row, result["misses"][:5])
        assert row["precision"] >= 0.95, (entity, row)
    assert result["false_per_1000"] < 1, result["false_redactions"][:5]


def test_engine_redacts_by_default_and_keep_pii_says_so():
    rules = load_rules()
    call = CallTranscript.model_validate(PII_CALLS[0])
    report = Engine(rules).score(call)
    assert report.provenance.redaction["redacted"] is True
    assert not leaks(Path("/nonexistent"), [report.model_dump_json()])
    kept = Engine(rules, keep_pii=True).score(call)
    assert kept.provenance.redaction == {"redacted": False, "reason": "--keep-pii: the operator kept personal data"}


def test_live_turns_are_redacted_and_a_split_number_is_not_leaked():
    session = Engine(load_rules()).session("live")
    for u in PII_CALLS[0]["utterances"]:
        session.feed(Utterance.model_validate(u))
    texts = [u.text for u in session.call.utterances]
    assert texts[3] == "[号码] 嗯 [号码]" or "[" in texts[3]
    assert not leaks(Path("/nonexistent"), texts)


def test_rule_file_redact_section_and_custom_pattern_examples():
    base = Path("rules/default.yaml").read_text(encoding="utf-8")
    text = base + (
        "\nredact:\n  mask: partial\n  entities: {name: false}\n  patterns:\n"
        "    - id: waybill\n      label: 运单号\n      pattern: '7\\d{11,14}'\n      context: [单号]\n"
        "      examples: {hit: [运单号是七五三一二三四五六七八九零], miss: [首重十二元]}\n"
    )
    rules = load_rules_text(text)
    config = rules.model.redact
    redactor = Redactor(config)
    for pattern in config.patterns:
        for hit in pattern.examples.hit:
            assert any(f.entity == pattern.id for f in redactor.redact_text(hit)[1]), hit
        for miss in pattern.examples.miss:
            assert not any(f.entity == pattern.id for f in redactor.redact_text(miss)[1]), miss
    assert redactor.redact_text("手机一三八零零一三八零零零")[0] == "手机138****8000"
    assert redactor.redact_text("好的王先生")[0] == "好的王先生"  # names switched off


def test_a_call_whose_redaction_fails_is_recorded_failed_and_never_written(tmp_path, monkeypatch):
    def boom(self, transcript):
        raise ValueError("一三八零零一三八零零零")

    monkeypatch.setattr(Redactor, "_redact_transcript", boom)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["score", str(write_calls(tmp_path / "in")), "--out", str(out), "--format", "jsonl"])
    assert result.exit_code == 2
    reports = [json.loads(line) for line in (out / "reports.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {r["status"] for r in reports} == {"failed"}
    assert all("redaction failed" in r["error"] for r in reports)
    assert not leaks(out, [result.output])


def test_no_raw_pii_anywhere_in_the_output_tree(tmp_path, caplog):
    calls = write_calls(tmp_path / "in")
    out = tmp_path / "outputs"
    outputs = []
    with caplog.at_level(logging.DEBUG):
        for fmt in ("json", "jsonl", "csv"):
            args = ["score", str(calls), "--out", str(out / fmt), "--format", fmt, "--html", str(out / f"html-{fmt}")]
            result = CliRunner().invoke(app, args)
            assert result.exit_code == 0, result.output
            outputs.append(result.output)
    assert (out / "html-json" / "pii_call_1.html").exists() or list((out / "html-json").glob("*.html"))
    assert not leaks(out, outputs + [caplog.text])
    report = json.loads((out / "json" / "pii_call_1.json").read_text(encoding="utf-8"))
    assert report["provenance"]["redaction"]["redacted"] is True


@pytest.mark.parametrize("mask", ["label", "partial"])
def test_masks_name_what_was_removed(mask):
    redactor = Redactor(RedactConfig(mask=mask))
    text, found = redactor.redact_text("我的手机号是一三八零零一三八零零零")
    assert text == ("我的手机号是[手机号]" if mask == "label" else "我的手机号是138****8000")
    assert found[0].entity == "phone" and "11 digits" in found[0].reason


# Speech-to-text writes homophones and loses digits; each case is a general rule (see
# qa_engine/pii/sound.py), each negative a near miss that must stay as it is.
HEARD = [
    ("我兴臣，", "我兴[姓名]，"),
    ("免规信仗", "免规信[姓名]"),
    ("好的，陈先森。", "好的，[姓名]先森。"),
    ("地址是张江鲁八十八号三号楼二零一五", "地址是[地址]"),
    ("阳光小曲三东二单元五零一是", "[地址]是"),
    ("二单元五零一", "[地址]"),
    ("收集号是幺三八 零零幺三 八零零零", "收集号是[手机号]"),
]
HEARD_LABELS = [
    # The cue says what was asked for: digits lost, the label is the cue's.
    ("好的，还需要您的身份证号码。", "3-1-1-1-5-9-8-0-3-1-2-4-2-1-8", "[身份证号]"),
    ("请告诉我您的银行卡号。", "622-0202-0011-2349", "[银行卡号]"),
]
NEAR_MISSES = [
    "路过三号门口", "我兴趣不大", "坐一号线到三号口", "我信你。", "我行吗？", "我姓名写错了", "他性子急", "春节三号发货",
    "收集了3500份", "您好先生", "这位先森", "谢谢先森", "我行李丢了三件", "三楼东边", "五号楼两千零五年建的",
]


@pytest.mark.parametrize(("text", "expected"), HEARD)
def test_homophones_of_cues_and_markers_are_found(text, expected):
    assert Redactor().redact_text(text)[0] == expected


@pytest.mark.parametrize(("question", "answer", "mask"), HEARD_LABELS)
def test_digits_lost_after_a_cue_are_labelled_by_the_cue(question, answer, mask):
    call = CallTranscript(call_id="c", agent_id="a", utterances=[
        Utterance(speaker="agent", start=0, end=2, text=question),
        Utterance(speaker="customer", start=2.5, end=5, text=answer),
    ])
    assert Redactor().redact_transcript(call).utterances[1].text == mask


def test_a_number_split_by_a_misheard_acknowledgement_keeps_its_label():
    call = CallTranscript(call_id="c", agent_id="a", utterances=[
        Utterance(speaker="agent", start=0, end=2, text="请问新的电话是多少？"),
        Utterance(speaker="customer", start=2.5, end=4, text="186，两两洞洞，"),
        Utterance(speaker="agent", start=4.2, end=4.5, text="文章。"),
        Utterance(speaker="customer", start=4.8, end=6, text="3456，"),
    ])
    texts = [u.text for u in Redactor().redact_transcript(call).utterances]
    assert texts[1] == "[手机号]，[手机号]，" and texts[3] == "[手机号]，"


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses_by_sound_stay(text):
    assert Redactor().redact_text(text)[0] == text
