"""Audio redaction (a redacted copy of the recording), word-timed spans, and the leaks
closed at `qa transcribe`, `qa serve`, the server's transcript mode and `qa rules test`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from qa_engine.cli import app
from qa_engine.engine import Engine
from qa_engine.models import CallTranscript
from qa_engine.pii import Redactor
from qa_engine.pii.audio import TONE_HZ, read_recording, redact_audio
from qa_engine.report.html import HtmlReportWriter
from qa_engine.rulefile import load_rules, load_rules_text
from qa_engine.stt.utterances import TimedWord, merge_channels, split_at_pauses

PII = Path(__file__).resolve().parents[2] / "samples" / "pii"
CALLS = sorted(p.name.removesuffix(".ref.json") for p in PII.glob("*.ref.json"))
FLOOR_DB = -60.0


def db(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(x.astype(np.float64) ** 2)) + 1e-9))


def reference(call: str) -> CallTranscript:
    return CallTranscript.model_validate_json((PII / f"{call}.ref.json").read_text(encoding="utf-8"))


def whole_pii_turns(redacted: CallTranscript):
    """Customer turns that are nothing but PII (digits, an address): the truth to check."""
    return [u for u in redacted.utterances if u.speaker == "customer" and u.text.strip("，。").replace("，", "")
            .replace("[手机号]", "").replace("[银行卡号]", "").replace("[身份证号]", "").replace("[地址]", "") == ""]


def test_samples_are_short_stereo_8k_with_references():
    assert len(CALLS) >= 2
    for call in CALLS:
        rate, samples = read_recording(PII / f"{call}.flac")
        assert rate == 8000 and samples.shape[0] == 2 and samples.shape[1] / rate <= 40


@pytest.mark.parametrize("call", CALLS)
def test_redacted_recording_is_silent_over_pii_and_unchanged_elsewhere(call, tmp_path):
    redacted = Redactor().redact_transcript(reference(call))
    out = redact_audio(PII / f"{call}.flac", redacted, tmp_path / "r.flac")
    rate, before = read_recording(PII / f"{call}.flac")
    _, after = read_recording(out)
    assert after.shape == before.shape
    pii_turns = whole_pii_turns(redacted)
    assert pii_turns
    for u in pii_turns:
        a, b = int(u.start * rate), int(u.end * rate)
        assert db(before[1, a:b]) > -30 and db(after[1, a:b]) < FLOOR_DB, u
        assert np.allclose(after[0, a:b], before[0, a:b], atol=1e-4)  # the agent's channel is kept
    muted = [(s.start - 0.6, s.end + 0.6) for s in redacted.pii.spans]
    for u in redacted.utterances:
        if not any(a < u.end and u.start < b for a, b in muted):  # turns without PII: as they were
            ch = 0 if u.speaker == "agent" else 1
            a, b = int(u.start * rate), int(u.end * rate)
            assert abs(db(after[ch, a:b]) - db(before[ch, a:b])) < 0.2, u


def test_tone_mode_puts_a_1khz_tone_over_pii(tmp_path):
    call = CALLS[0]
    redacted = Redactor().redact_transcript(reference(call))
    out = redact_audio(PII / f"{call}.flac", redacted, tmp_path / "t.flac", mode="tone")
    rate, after = read_recording(out)
    u = whole_pii_turns(redacted)[0]
    window = after[1, int((u.start + 0.1) * rate) : int((u.end - 0.1) * rate)]
    t = np.arange(window.size) / rate
    basis = np.stack([np.sin(2 * np.pi * TONE_HZ * t), np.cos(2 * np.pi * TONE_HZ * t)])
    fit = np.linalg.lstsq(basis.T, window, rcond=None)[0] @ basis
    assert db(window) > -25 and db(window - fit) < FLOOR_DB  # the tone and nothing else


def test_speech_to_text_spans_are_timed_by_word_timestamps():
    words = [TimedWord(10.0, 10.4, "我的手机"), TimedWord(10.5, 11.0, "幺三九"), TimedWord(11.2, 12.0, " 1234 "),
             TimedWord(12.1, 12.9, "五六七八"), TimedWord(13.0, 14.0, "谢谢")]
    (utterance,) = merge_channels([("customer", split_at_pauses(words, 0.8, timed=True))])
    redacted = Redactor().redact_transcript(CallTranscript(call_id="w", utterances=[utterance]))
    (span,) = redacted.pii.spans
    assert (span.entity, span.start, span.end, span.timing) == ("phone", 10.5, 12.9, "words")
    assert "_char_times" not in redacted.model_dump_json() and "1234" not in redacted.model_dump_json()


def test_html_player_gets_the_redacted_copy_never_the_original(tmp_path):
    call = CALLS[0]
    engine = Engine(load_rules(None))
    transcript = engine.redact(reference(call))
    writer = HtmlReportWriter(tmp_path / "html", engine.rules, audio_redaction="silence")
    page = writer.add(engine.score(transcript), transcript, PII / f"{call}.flac").read_text(encoding="utf-8")
    (copy,) = (tmp_path / "html" / "audio").iterdir()
    assert f'src="audio/{copy.name}"' in page
    assert copy.read_bytes() != (PII / f"{call}.flac").read_bytes()
    # A transcript that was not redacted says nothing of where the PII is: no player at all.
    writer.add(engine.score(transcript).model_copy(update={"call_id": "raw"}), reference(call), PII / f"{call}.flac")
    assert "<audio" not in (tmp_path / "html" / "raw.html").read_text(encoding="utf-8")
    assert len(list((tmp_path / "html" / "audio").iterdir())) == 1


class _FakeTranscriber:
    """Stands in for Whisper: the reference transcript of the file it is given."""

    def __init__(self, options=None, **_):
        from qa_engine.stt import STTOptions

        self.options = options or STTOptions()

    def transcribe(self, path, *, call_id=None, agent_id=None, audio_sha256=None, **_):
        ref = reference(Path(path).stem)
        return ref.model_copy(update={"call_id": call_id or ref.call_id, "source": "stt", "stt": {"mode": "stereo"}})


@pytest.mark.parametrize("keep", [False, True])
def test_qa_transcribe_redacts_outputs_and_cache_unless_keep_pii(keep, tmp_path, monkeypatch):
    import qa_engine.stt as stt

    monkeypatch.setattr(stt, "Transcriber", _FakeTranscriber)
    monkeypatch.setattr("qa_engine.stt.cache.options_hash", lambda options: "0" * 64)
    args = ["transcribe", str(PII / "pii_pickup_01.flac"), "--out", str(tmp_path / "t"), "--cache-dir", str(tmp_path / "c")]
    result = CliRunner().invoke(app, args + (["--keep-pii"] if keep else []))
    assert result.exit_code == 0, result.output
    written = [p.read_text(encoding="utf-8") for p in (tmp_path / "t").iterdir()] + [
        p.read_text(encoding="utf-8") for p in (tmp_path / "c").iterdir()
    ]
    assert len(written) == 2
    for text in written:
        assert ("幺三九" in text) is keep and ("[手机号]" in text) is not keep


def test_serve_keep_pii_reaches_every_rule_set(tmp_path):
    from qa_engine.server import ServerConfig
    from qa_engine.server.state import ServerState

    kept = ServerState(ServerConfig(out_dir=tmp_path, preload_model=False, keep_pii=True))
    assert kept.rules.get().engine.redactor is None
    assert ServerState(ServerConfig(out_dir=tmp_path, preload_model=False)).rules.get().engine.redactor is not None
    result = CliRunner().invoke(app, ["serve", "--help"])
    assert "--keep-pii" in result.output


def test_rules_test_runs_the_redact_pattern_examples(tmp_path):
    base = (Path(__file__).resolve().parents[2] / "rules" / "default.yaml").read_text(encoding="utf-8")
    section = (
        "\nredact:\n  patterns:\n    - id: waybill\n      label: 运单号\n      pattern: '7\\d{11,14}'\n"
        "      context: [单号]\n      examples: {hit: [运单号是七五三一二三四五六七八九零], miss: [HIT]}\n"
    )
    good = tmp_path / "good.yaml"
    good.write_text(base + section.replace("HIT", "首重十二元"), encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(base + section.replace("HIT", "单号七五三一二三四五六七八九零"), encoding="utf-8")
    assert load_rules_text(good.read_text(encoding="utf-8")).model.redact.patterns
    ok = CliRunner().invoke(app, ["rules", "test", str(good)])
    assert ok.exit_code == 0, ok.output
    failed = CliRunner().invoke(app, ["rules", "test", str(bad)])
    assert failed.exit_code == 1 and "redact.waybill: should not fire but did" in failed.output


def test_a_failed_redaction_in_transcript_mode_is_an_error_event_and_the_turn_is_dropped(monkeypatch):
    import asyncio

    from qa_engine.live.call import LiveCall
    from qa_engine.pii.redactor import LiveRedactor, RedactionError
    from qa_engine.server.protocol import UtteranceMessage
    from qa_engine.server.stream import StreamHandler

    original = LiveRedactor._feed

    def flaky(self, utterance):
        if "幺三九" in utterance.text:
            raise ValueError("幺三九幺二三四五六七八")
        return original(self, utterance)

    monkeypatch.setattr(LiveRedactor, "_feed", flaky)
    sent: list = []
    handler = StreamHandler.__new__(StreamHandler)
    handler.audio, handler.call = None, LiveCall(Engine(load_rules(None)), "c")

    async def error(code, message):
        sent.append((code, message))

    handler.error = error
    message = UtteranceMessage.model_validate({"type": "utterance", "speaker": "customer", "start": 0, "end": 2,
                                               "text": "幺三九，幺二三四，五六七八"})
    asyncio.run(handler._on_utterance(message))  # no exception escapes
    assert sent and sent[0][0] == "redaction_failed" and "幺三九" not in json.dumps(sent, ensure_ascii=False)
    assert handler.call.utterances == [] and handler.call.session.call.utterances == []
    assert RedactionError
