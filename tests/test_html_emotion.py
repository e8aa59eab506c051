"""The call page's emotion curve, loud turns and metrics panel; the summary's per-agent
conversation averages and the share of calls ending upset (parsed like tests/test_html.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qa_engine.models import CallTranscript, Utterance, VoiceMeasure
from qa_engine.report.html import HtmlReportWriter, build_timeline
from qa_engine.report.labels import AGENT_METRIC_LABELS, LEVEL_LABELS, METRIC_LABELS
from tests.test_html import parse

ROOT = Path(__file__).resolve().parent.parent


def _u(speaker: str, start: float, end: float, text: str, db: float | None = None) -> Utterance:
    voice = VoiceMeasure(loudness_db=db, pitch_mean_hz=200.0) if db is not None else None
    return Utterance(speaker=speaker, start=start, end=end, text=text, voice=voice)


def upset_call(call_id: str = "emo_01", agent: str = "A1") -> CallTranscript:
    """A customer who starts calm, then complains loudly (+10 dB) and hangs on upset."""
    return CallTranscript(
        call_id=call_id,
        agent_id=agent,
        utterances=[
            _u("agent", 0.0, 3.0, "您好，很高兴为您服务", -20),
            _u("customer", 3.5, 6.0, "你好我想问一下我的订单", -22),
            _u("agent", 7.0, 9.0, "好的请您稍等", -20),
            _u("customer", 15.0, 18.0, "嗯好的我等一下", -22),
            _u("agent", 19.0, 22.0, "您的订单已经在配送中了", -20),
            _u("customer", 23.0, 27.0, "等了两个小时还没到你们到底管不管", -12),
            _u("agent", 28.0, 31.0, "这个我们也没有办法", -20),
            _u("customer", 31.5, 35.0, "太过分了我要投诉你们凭什么这样", -11),
        ],
    )


def calm_call(call_id: str = "calm_02", agent: str = "A2") -> CallTranscript:
    return CallTranscript(
        call_id=call_id,
        agent_id=agent,
        utterances=[
            _u("agent", 0.0, 2.0, "您好，很高兴为您服务"),
            _u("customer", 2.5, 5.0, "你好我想查一下订单"),
            _u("agent", 6.0, 9.0, "好的已经帮您查到了明天送达"),
            _u("customer", 9.5, 11.0, "好的谢谢再见"),
            _u("agent", 11.5, 13.0, "不客气再见"),
        ],
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory, engine, default_rules):
    out = tmp_path_factory.mktemp("emotion-html")
    writer = HtmlReportWriter(out, default_rules)
    reports = {}
    for transcript in (upset_call(), calm_call(), upset_call("emo_03", "A2")):
        reports[transcript.call_id] = engine.score(transcript)
        writer.add(reports[transcript.call_id], transcript)
    writer.finish()
    return out, reports


def test_emotion_curve_has_one_point_per_customer_turn(site):
    out, reports = site
    dom = parse(out / "emo_01.html")
    curve = dom.by_id("emotion-curve")
    points = curve.find_all("a", class_="emo-point")
    customer = [n for n, u in enumerate(upset_call().utterances) if u.speaker == "customer"]
    assert [p.attrs["href"] for p in points] == [f"#u{n}" for n in customer]
    levels = [p.attrs["data-level"] for p in points]
    assert levels[0] == "calm" and levels[-1] in ("upset", "angry") and levels[-2] in ("upset", "angry")
    # the line goes up as the customer gets upset: SVG y is smaller for a higher score
    ys = [float(p.find_all("circle")[0].attrs["cy"]) for p in points]
    assert ys[-1] < ys[0] and ys[-2] < ys[0]
    xs = [float(p.find_all("circle")[0].attrs["cx"]) for p in points]
    assert xs == sorted(xs)
    assert len(curve.find_all("polyline")) == 1
    assert "客户情绪" in dom.by_id("timeline").text()
    # threshold lines labelled from labels.py
    assert {LEVEL_LABELS["upset"], LEVEL_LABELS["angry"]} <= {t.text() for t in curve.find_all("text")}


def test_loud_turns_are_marked_from_the_rule_files_threshold(site, default_rules):
    out, reports = site
    dom = parse(out / "emo_01.html")
    loud = dom.by_id("timeline").find_all("a", class_="tl-loud")
    # baseline -22 dB (median of the two earlier customer turns): #5 is +10 dB, #7 about +10.5 dB
    assert [a.attrs["href"] for a in loud] == ["#u5", "#u7"]
    assert "dB" in loud[0].find_all("title")[0].text()
    # a threshold above the deltas marks nothing; the same report drawn with it
    config = default_rules.model.emotion.model_copy(
        update={"voice": default_rules.model.emotion.voice.model_copy(update={"loud_db": 15.0})}
    )
    tl = build_timeline(upset_call(), reports["emo_01"], 10.0, config)
    assert tl.loud == []
    assert not parse(out / "calm_02.html").by_id("timeline").find_all("a", class_="tl-loud")


def test_metrics_panel_lists_every_metric_with_labels(site):
    out, reports = site
    dom = parse(out / "emo_01.html")
    panel = dom.by_id("metrics")
    rows = {d.attrs["data-metric"]: d for d in panel.find_all("div") if "data-metric" in d.attrs}
    assert set(rows) == set(METRIC_LABELS)
    for key, row in rows.items():
        assert row.find_all("dt")[0].text() == METRIC_LABELS[key]
    m = reports["emo_01"].metrics
    assert rows["agent_talk_ratio"].find_all("dd")[0].text().startswith(f"{m.agent_talk_ratio * 100:.0f}%")
    assert rows["holds"].find_all("dd")[0].text().startswith(f"{m.hold_count} 次")
    assert m.hold_count == 1
    assert rows["ended_upset"].find_all("dd")[0].text() == "是" and "alert" in rows["ended_upset"].attrs["class"]
    emotion = rows["customer_emotion"].find_all("dd")[0].text()
    assert emotion.startswith(f"{LEVEL_LABELS[m.customer_emotion_start]} → {LEVEL_LABELS[m.customer_emotion_end]}")
    latency = rows["response_latency"].find_all("dd")[0].text()
    assert f"{m.response_latency_max:.1f}" in latency
    calm = {d.attrs["data-metric"]: d for d in parse(out / "calm_02.html").by_id("metrics").find_all("div") if "data-metric" in d.attrs}
    assert calm["ended_upset"].find_all("dd")[0].text() == "否"


def test_page_stays_self_contained(site):
    out, _ = site
    html = (out / "emo_01.html").read_text("utf-8")
    assert not re.search(r'(src|href)="(https?:)?//', html)


def test_summary_has_per_agent_averages_and_the_upset_share(site):
    out, reports = site
    dom = parse(out / "index.html")
    assert dom.by_id("kpi-ended-upset").text() == "67%"  # 2 of 3 calls end upset
    table = dom.by_id("agents").find_all("table")[0]
    heads = [th.text() for th in table.find_all("th")]
    for label in AGENT_METRIC_LABELS.values():
        assert label in heads
    rows = {tr.find_all("td")[0].text(): [td.text() for td in tr.find_all("td")] for tr in table.find_all("tbody")[0].find_all("tr")}
    col = {label: heads.index(label) for label in heads}
    assert rows["A1"][col[AGENT_METRIC_LABELS["ended_upset_rate"]]] == "100%"
    assert rows["A2"][col[AGENT_METRIC_LABELS["ended_upset_rate"]]] == "50%"
    a2 = [reports["calm_02"].metrics, reports["emo_03"].metrics]
    ratio = (a2[0].agent_talk_ratio + a2[1].agent_talk_ratio) / 2
    assert rows["A2"][col[AGENT_METRIC_LABELS["agent_talk_ratio"]]] == f"{ratio * 100:.0f}%"
    latency = (a2[0].response_latency_mean + a2[1].response_latency_mean) / 2
    assert rows["A2"][col[AGENT_METRIC_LABELS["response_latency"]]] == f"{latency:.1f} 秒"
    score = (reports["calm_02"].score + reports["emo_03"].score) / 2
    assert rows["A2"][col["平均分"]] == f"{score:.1f}"


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="headless Chromium not found at /usr/bin/chromium")
def test_call_page_with_curve_renders_in_a_browser(site, tmp_path):
    """The curve, the loud caps and the panel render with no script error; a screenshot for people."""
    import contextlib
    import shutil

    from tests.test_html_browser import chromium, script_errors

    out, _ = site
    done = chromium(out / "emo_01.html", tmp_path / "profile", "--virtual-time-budget=3000", "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    assert not script_errors(done.stderr), script_errors(done.stderr)
    assert re.search(r'<html[^>]*data-ready="1"', done.stdout)
    assert done.stdout.count('class="emo-dot') == 4 and done.stdout.count('class="loud"') == 2
    shot = tmp_path / "emotion.png"
    done = chromium(
        out / "emo_01.html", tmp_path / "profile", "--virtual-time-budget=3000", "--window-size=1280,1100", f"--screenshot={shot}"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    with contextlib.suppress(OSError):
        shutil.copyfile(shot, "/tmp/qa_call_emotion.png")
