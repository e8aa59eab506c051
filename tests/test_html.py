"""HTML reports: pages written, self-contained, evidence highlighted, user data escaped, sums right."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest

from qa_engine.models import CallReport, CallTranscript, Evidence, Finding, MatchInfo, Utterance
from qa_engine.report.html import HtmlReportWriter, highlight, speech_gaps
from qa_engine.report.writer import CSV_COLUMNS, csv_row

ROOT = Path(__file__).resolve().parent.parent
TRANSCRIPTS = ROOT / "samples" / "transcripts"
AUDIO = ROOT / "samples" / "audio"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


# ---------------------------------------------------------------- a tiny DOM over html.parser


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    parent: Node | None = None
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self):
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Node]:
        """Descendants by tag and attribute values (`class_` matches one class; `_` for `-`)."""
        wanted = {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()}

        def ok(node: Node) -> bool:
            for key, value in wanted.items():
                if key == "class":
                    if value not in node.attrs.get("class", "").split():
                        return False
                elif node.attrs.get(key) != value:
                    return False
            return tag is None or node.tag == tag

        return [n for n in self.iter() if ok(n)]

    def by_id(self, ident: str) -> Node:
        found = self.find_all(id=ident)
        assert found, f"no element with id {ident!r}"
        return found[0]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, {k: v or "" for k, v in attrs}, self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node.parent is not None and node.tag != tag:
            node = node.parent
        if node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse(path: Path) -> Node:
    builder = _Builder()
    builder.feed(path.read_text(encoding="utf-8"))
    return builder.root


def marked_text(dom: Node) -> dict[int, str]:
    """Each finding's highlighted text: its <mark> pieces joined (overlaps nest marks)."""
    pieces: dict[int, str] = defaultdict(str)
    for mark in dom.find_all("mark"):
        pieces[int(mark.attrs["data-finding"])] += mark.text()
    return dict(pieces)


def bubble_text(dom: Node, index: int) -> str:
    return dom.by_id(f"u{index}").find_all(class_="bubble")[0].text()


# ---------------------------------------------------------------- fixtures


def _finding(
    rule_id: str, start: int, end: int, text: str, severity: str = "major", index: int = 0
) -> Finding:
    return Finding(
        rule_id=rule_id,
        category="nonstandard",
        severity=severity,
        message=f"{rule_id} 的说明",
        deduction=3,
        speaker="agent",
        utterance_index=index,
        start=0.0,
        end=3.0,
        evidence=Evidence(text=text[start:end], start_char=start, end_char=end),
        match=MatchInfo(mode="exact", detail="原文包含"),
    )


OVERLAP_TEXT = "这个不归我们管你找领导去吧"
XSS_TEXT = "您好<script>alert('x')</script>你问我，我问谁 & \"再见\""


@dataclass
class Built:
    out: Path
    index: Path
    pages: dict[str, Path]
    reports: dict[str, CallReport]
    transcripts: dict[str, CallTranscript]


@pytest.fixture(scope="module")
def built(tmp_path_factory, engine, default_rules) -> Built:
    out = tmp_path_factory.mktemp("html")
    writer = HtmlReportWriter(out, default_rules)
    reports: dict[str, CallReport] = {}
    transcripts: dict[str, CallTranscript] = {}
    pages: dict[str, Path] = {}

    def add(report: CallReport, transcript: CallTranscript | None, audio: Path | None = None) -> None:
        reports[report.call_id] = report
        if transcript is not None:
            transcripts[report.call_id] = transcript
        pages[report.call_id] = writer.add(report, transcript, audio)

    for path in sorted(TRANSCRIPTS.glob("*.json")):
        transcript = engine.redact(CallTranscript.model_validate_json(path.read_text(encoding="utf-8")))
        add(engine.score(transcript), transcript)
    audio_ref = CallTranscript.model_validate_json(
        (AUDIO / "audio_deadair_04.ref.json").read_text(encoding="utf-8")
    )
    add(engine.score(audio_ref), audio_ref, AUDIO / "audio_deadair_04.wav")
    xss = CallTranscript(
        call_id='xss<u>"1"</u>',
        agent_id="<i>A9</i>",
        utterances=[
            Utterance(speaker="agent", start=0, end=4, text=XSS_TEXT),
            Utterance(speaker="customer", start=4.5, end=6, text="</mark><mark>"),
        ],
    )
    add(engine.score(xss), xss)
    mono = CallTranscript(
        call_id="mono_01",
        agent_id="A1001",
        utterances=[
            Utterance(speaker="unknown", start=0, end=2, text="您好，中通速递"),
            Utterance(speaker="unknown", start=2.5, end=4, text="我要查快递"),
        ],
    )
    add(engine.score(mono), mono)
    overlap_t = CallTranscript(
        call_id="overlap_01",
        agent_id="A9999",
        utterances=[Utterance(speaker="agent", start=0, end=3, text=OVERLAP_TEXT)],
    )
    overlap_r = engine.score(overlap_t).model_copy(
        update={
            "findings": [
                _finding("r.outer", 2, 12, OVERLAP_TEXT, "minor"),
                _finding("r.inner", 4, 7, OVERLAP_TEXT, "critical"),
                _finding("r.cross", 9, 13, OVERLAP_TEXT, "info"),
                _finding("r.same", 4, 7, OVERLAP_TEXT, "major"),
                _finding("r.empty", 5, 5, OVERLAP_TEXT, "major"),
            ]
        }
    )
    add(overlap_r, overlap_t)
    failed = CallReport(
        call_id="broken_99",
        agent_id="A1003",
        status="failed",
        error="broken_99.json: utterances[0].end: <script>alert(1)</script>",
    )
    add(failed, None)
    return Built(out, writer.finish(), pages, reports, transcripts)


# ---------------------------------------------------------------- files and self-containment


def test_every_call_gets_a_page_and_the_batch_a_summary(built: Built):
    assert built.index == built.out / "index.html"
    for call_id, page in built.pages.items():
        assert page.parent == built.out and page.exists(), call_id
    assert built.pages["forbidden_03"].name == "forbidden_03.html"
    assert (built.out / "calls.csv").exists()
    assert (built.out / "audio" / "audio_deadair_04.wav").read_bytes() == (
        AUDIO / "audio_deadair_04.wav"
    ).read_bytes()


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self._in_style = tag == "style"
        for key, value in attrs:
            if key in {"src", "href", "xlink:href", "data", "poster", "srcset", "action"}:
                self.refs.append((tag, key, value or ""))

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


@pytest.mark.parametrize(
    "name", ["index.html", "nonstandard_04.html", "audio_deadair_04.html", "broken_99.html"]
)
def test_pages_need_no_network(built: Built, name: str):
    refs = _Refs()
    refs.feed((built.out / name).read_text(encoding="utf-8"))
    external = [r for r in refs.refs if r[2].lower().lstrip().startswith(("http:", "https:", "//", "ftp:"))]
    assert not external, external
    assert not [r for r in refs.refs if r[0] in {"link", "script", "iframe", "img"}], (
        "resources must be inline"
    )
    css = "".join(refs.styles)
    assert "@import" not in css and "url(http" not in css and "@font-face" not in css


def test_summary_embeds_plotly_once(built: Built):
    html = built.index.read_text(encoding="utf-8")
    assert html.count("Plotly.newPlot(") == 3  # three charts drawn
    assert html.count("plotly.js v") == 1  # the library's banner: embedded once


# ---------------------------------------------------------------- call page contents


def test_findings_are_highlighted_with_their_evidence(built: Built):
    report, transcript = built.reports["nonstandard_04"], built.transcripts["nonstandard_04"]
    dom = parse(built.pages["nonstandard_04"])
    texts = marked_text(dom)
    assert len(texts) == len(report.findings) == 5
    for i, finding in enumerate(report.findings):
        original = transcript.utterances[finding.utterance_index].text
        assert (
            texts[i]
            == original[finding.evidence.start_char : finding.evidence.end_char]
            == finding.evidence.text
        )
        mark = dom.find_all("mark", data_finding=str(i))[0]
        assert mark.attrs["data-rule-id"] == finding.rule_id
        assert f"sev-{finding.severity}" in mark.attrs["class"].split()
        assert (
            finding.message in mark.attrs["title"] and f"扣 {finding.deduction:g} 分" in mark.attrs["title"]
        )
        assert dom.by_id(f"u{finding.utterance_index}").find_all("mark", data_finding=str(i))
    # three findings on one turn; marks do not change the words shown
    assert bubble_text(dom, 6) == transcript.utterances[6].text


def test_overlapping_spans_nest_and_keep_every_finding_whole(built: Built):
    dom = parse(built.pages["overlap_01"])
    texts = marked_text(dom)
    assert texts == {
        0: OVERLAP_TEXT[2:12],
        1: OVERLAP_TEXT[4:7],
        2: OVERLAP_TEXT[9:13],
        3: OVERLAP_TEXT[4:7],
    }  # the empty span (finding 4) is not marked but still listed
    assert bubble_text(dom, 0) == OVERLAP_TEXT
    inner = dom.find_all("mark", data_rule_id="r.inner")[0]
    assert inner.parent.tag == "mark" or any(
        isinstance(c, Node) and c.tag == "mark" for c in inner.children
    ), "overlapping marks nest"
    assert dom.by_id("f4").attrs["data-rule-id"] == "r.empty"
    assert dom.by_id("u0").find_all("a", href="#f4"), "an unmarkable finding gets a tag on its turn"


def test_highlight_escapes_and_clamps():
    from qa_engine.report.html import Span

    html = str(
        highlight("<a>&b", [Span(0, 3, 0, "x", "minor", 'say "hi"'), Span(2, 99, 1, "y", "info", "t")])
    )
    assert "<a>" not in html and "&lt;a" in html and "&amp;b" in html
    assert 'title="say &#34;hi&#34;"' in html
    builder = _Builder()
    builder.feed(html)
    assert marked_text(builder.root) == {0: "<a>", 1: ">&b"}
    assert builder.root.text() == "<a>&b"
    assert str(highlight("abc", [Span(5, 9, 0, "x", "minor", "t")])) == "abc"


def test_user_text_is_escaped(built: Built):
    call_id = 'xss<u>"1"</u>'
    page = built.pages[call_id]
    html = page.read_text(encoding="utf-8")
    assert "<script>alert" not in html and "<u>" not in html and "<i>A9" not in html
    assert "&lt;script&gt;alert" in html
    dom = parse(page)
    assert bubble_text(dom, 0) == XSS_TEXT
    assert bubble_text(dom, 1) == "</mark><mark>"
    assert dom.find_all("h1")[0].text() == call_id
    assert "<i>A9</i>" in dom.by_id("summary").text()
    taboo = [m for m in dom.find_all("mark") if m.attrs["data-rule-id"] == "forbidden.taboo"]
    assert taboo and "".join(m.text() for m in taboo) == "你问我，我问谁"
    assert page.name.startswith("xss_u__1___u_") and "<" not in page.name


def test_header_shows_score_verdict_and_provenance(built: Built, default_rules):
    report = built.reports["forbidden_03"]
    dom = parse(built.pages["forbidden_03"])
    assert dom.by_id("score").text().startswith(f"{report.score:g}")
    assert dom.by_id("verdict").text() == "一票否决"
    summary = dom.by_id("summary").text()
    assert "合格线 80 分" in summary and "A1003" in summary
    assert default_rules.name in summary and report.provenance.rules_sha256[:12] in summary
    assert report.provenance.engine_version in summary
    cats = dom.by_id("categories").text()
    assert "服务禁语" in cats and "-40" in cats and "情绪安抚" in cats
    assert parse(built.pages["clean_01"]).by_id("verdict").text() == "合格"
    assert parse(built.pages["nonstandard_04"]).by_id("verdict").text() == "不合格"


def test_finding_list_explains_each_match(built: Built):
    report = built.reports["overpromise_07"]
    dom = parse(built.pages["overpromise_07"])
    for i, finding in enumerate(report.findings):
        item = dom.by_id(f"f{i}").text()
        assert finding.rule_id in item and finding.message in item and f"-{finding.deduction:g}" in item
        assert finding.match.detail in item and "违规承诺" in item
    assert "精确匹配" in dom.by_id("f0").text() and "00:10.5" in dom.by_id("f0").text()
    assert "近距离组合" in dom.by_id("f1").text()  # overpromise.guarantee: a `near` rule


def test_call_level_findings_and_unchecked_rules_are_listed(built: Built):
    dom = parse(built.pages["speechrate_10"])
    call_level = dom.by_id("call-findings")
    assert "speech_rate.fast" in call_level.text() and "全通话" in call_level.text()
    assert len(dom.by_id("turn-findings").find_all("li")) == 2
    mono = parse(built.pages["mono_01"])
    unchecked = mono.by_id("not-checked").text()
    for item in built.reports["mono_01"].not_checked:
        assert item.rule_id in unchecked and item.reason in unchecked
    assert [label for label in ("客服", "客户", "未知") if label in mono.by_id("timeline").text()] == [
        "客服",
        "客户",
        "未知",
    ]


def test_timeline_draws_turns_findings_and_dead_air(built: Built):
    dom = parse(built.pages["deadair_09"])
    timeline = dom.by_id("timeline")
    assert len(timeline.find_all("rect", class_="bar")) == len(built.transcripts["deadair_09"].utterances)
    gaps = timeline.find_all("rect", class_="gap")
    assert len(gaps) == 2  # 12.0–27.0 and 40.0–55.0
    assert "静默 15.0s" in timeline.text()
    marks = timeline.find_all("rect", class_="mark")
    assert len(marks) == len(built.reports["deadair_09"].findings)
    assert speech_gaps(built.transcripts["deadair_09"].utterances, 10) == [(12.0, 27.0), (40.0, 55.0)]


def test_audio_player_and_seekable_turns(built: Built):
    dom = parse(built.pages["audio_deadair_04"])
    (audio,) = dom.find_all("audio")
    assert unquote(audio.attrs["src"]) == "audio/audio_deadair_04.wav"
    assert (built.out / unquote(audio.attrs["src"])).exists()
    transcript = built.transcripts["audio_deadair_04"]
    for n, utterance in enumerate(transcript.utterances):
        row = dom.by_id(f"u{n}")
        assert float(row.attrs["data-start"]) == utterance.start
        assert float(row.find_all("button", class_="seek")[0].attrs["data-seek"]) == utterance.start
    assert not parse(built.pages["clean_01"]).find_all("audio")


def test_failed_call_gets_an_error_page(built: Built):
    dom = parse(built.pages["broken_99"])
    assert dom.by_id("error").text() == built.reports["broken_99"].error
    assert "<script>alert(1)" not in built.pages["broken_99"].read_text(encoding="utf-8")


# ---------------------------------------------------------------- summary page


def _scored(built: Built) -> list[CallReport]:
    return [r for r in built.reports.values() if r.status == "scored"]


def test_summary_numbers(built: Built):
    dom = parse(built.index)
    scored = _scored(built)
    passed = sum(bool(r.passed) for r in scored)
    assert dom.by_id("kpi-calls").text() == str(len(built.reports))
    assert dom.by_id("kpi-scored").text() == str(len(scored))
    assert dom.by_id("kpi-failed").text() == "1"
    assert dom.by_id("kpi-pass-rate").text() == f"{passed / len(scored) * 100:.0f}%"
    assert dom.by_id("kpi-mean").text() == f"{sum(r.score for r in scored) / len(scored):.1f}分"
    assert dom.by_id("kpi-fatal").text() == str(sum(r.fatal for r in scored))
    assert dom.by_id("kpi-findings").text() == str(sum(len(r.findings) for r in scored))


def test_summary_lists_failed_calls_with_their_error(built: Built):
    failed = parse(built.index).by_id("failed")
    assert "broken_99" in failed.text() and built.reports["broken_99"].error in failed.text()
    assert failed.find_all("a", href="broken_99.html")
    assert "<script>alert(1)" not in built.index.read_text(encoding="utf-8")


def test_per_agent_table(built: Built):
    rows = parse(built.index).by_id("agents").find_all("tr")[1:]
    table = {r.find_all("td")[0].text(): [td.text() for td in r.find_all("td")[1:]] for r in rows}
    groups: dict[str, list[CallReport]] = defaultdict(list)
    for report in built.reports.values():
        groups[report.agent_id or "未知坐席"].append(report)
    assert list(table) == sorted(groups)
    for agent, reports in groups.items():
        scored = [r for r in reports if r.status == "scored"]
        calls, mean, rate, findings, fatal, failed = table[agent][:6]  # then the conversation averages (tests/test_html_emotion.py)
        assert calls == str(len(scored))
        assert mean == (f"{sum(r.score for r in scored) / len(scored):.1f}" if scored else "-")
        assert rate == (f"{sum(bool(r.passed) for r in scored) / len(scored) * 100:.0f}%" if scored else "-")
        assert findings == str(sum(len(r.findings) for r in scored))
        assert fatal == str(sum(r.fatal for r in scored))
        assert failed == str(len(reports) - len(scored))
    assert table["A1003"][5] == "1"  # forbidden_03 scored, broken_99 failed


def test_worst_calls_link_to_their_pages(built: Built):
    rows = parse(built.index).by_id("worst").find_all("tr")[1:]
    expected = sorted(_scored(built), key=lambda r: (r.score, r.call_id))[:10]
    assert [r.find_all("a")[0].text() for r in rows] == [r.call_id for r in expected]
    for row, report in zip(rows, expected, strict=True):
        assert unquote(row.find_all("a")[0].attrs["href"]) == built.pages[report.call_id].name


def test_every_call_is_linked_from_the_summary(built: Built):
    links = {unquote(a.attrs["href"]) for a in parse(built.index).by_id("calls").find_all("a")}
    assert {p.name for p in built.pages.values()} <= links
    assert "calls.csv" in links


def test_csv_export_matches_the_report_writer(built: Built):
    text = (built.out / "calls.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == CSV_COLUMNS
    expected = sorted((csv_row(r) for r in built.reports.values()), key=lambda r: r["call_id"])
    assert rows == expected
    assert (
        json.loads(next(r for r in rows if r["call_id"] == "forbidden_03")["deductions_by_category"])[
            "forbidden"
        ]
        == 40
    )


def test_ids_that_clean_alike_get_separate_pages(tmp_path, default_rules):
    writer = HtmlReportWriter(tmp_path, default_rules)
    ids = ("a/b", "a_b", "index", "A_B")  # "A_B" vs "a_b": one file on case-insensitive file systems
    pages = [writer.add(CallReport(call_id=i, status="failed", error="x"), None) for i in ids]
    # "a/b" is changed by cleaning, so its name carries a hash of the id (fsutil.safe_name).
    assert [p.name for p in pages] == ["a_b~c14cddc033f6.html", "a_b.html", "index-2.html", "A_B-2.html"]
    assert writer.add(CallReport(call_id="a_b", status="failed", error="y"), None).name == "a_b.html"
    assert writer.finish().name == "index.html"
    assert "<h1>质检汇总</h1>" in (tmp_path / "index.html").read_text(encoding="utf-8")


def test_a_report_without_its_transcript_still_lists_findings(tmp_path, default_rules, built: Built):
    """E.g. reports read back from JSON on --resume: no words to mark, findings still shown."""
    writer = HtmlReportWriter(tmp_path, default_rules)
    report = built.reports["nonstandard_04"]
    dom = parse(writer.add(report, None))
    assert "没有可用的对话原文" in dom.by_id("transcript").text()
    assert len(dom.by_id("turn-findings").find_all("li")) == len(report.findings)
    assert len(dom.by_id("timeline").find_all("rect", class_="mark")) == len(report.findings)
    assert not dom.find_all("mark")


def test_an_empty_batch_still_gets_a_summary(tmp_path, default_rules):
    dom = parse(HtmlReportWriter(tmp_path, default_rules).finish())
    assert dom.by_id("kpi-calls").text() == "0" and dom.by_id("kpi-pass-rate").text() == "-"
    assert (tmp_path / "calls.csv").read_text(encoding="utf-8-sig").strip() == ",".join(CSV_COLUMNS)


def test_every_sample_highlight_is_the_evidence_text(built: Built):
    """The engine's offsets point into the original text (traditional characters in asr_13 included)."""
    for call_id in built.transcripts.keys() - {"overlap_01"}:
        texts = marked_text(parse(built.pages[call_id]))
        for i, finding in enumerate(built.reports[call_id].findings):
            if finding.evidence and finding.evidence.end_char > finding.evidence.start_char:
                assert texts[i] == finding.evidence.text, (call_id, finding.rule_id)
