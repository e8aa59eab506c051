"""Engine behaviour: batch equals streaming, scoring arithmetic, session guards."""

from __future__ import annotations

import random

import pytest

from qa_engine.engine import SessionClosedError
from qa_engine.models import CallTranscript, Utterance
from qa_engine.workbench.examples import example_transcript

from helpers import SAMPLES, findings, one_rule


def sample_calls():
    return [CallTranscript.model_validate_json(p.read_text()) for p in sorted(SAMPLES.glob("*.json"))]


def test_batch_and_streaming_give_identical_reports(engine):
    for call in sample_calls():
        batch = engine.score(call)
        session = engine.session(call.call_id, call.agent_id, source=call.source, stt=call.stt)
        live = []
        for utterance in sorted(call.utterances, key=lambda u: (u.start, u.end)):
            live.extend(session.feed(utterance))
        streamed = session.close()
        assert streamed.model_dump() == batch.model_dump(), call.call_id
        # what was announced live is a subset of the final report
        final = {(f.rule_id, f.utterance_index, f.start) for f in streamed.findings}
        assert {(f.rule_id, f.utterance_index, f.start) for f in live} <= final


def test_live_session_reports_forbidden_phrase_at_once(engine):
    session = engine.session("live")
    session.feed(Utterance(speaker="agent", start=0, end=3, text="您好，中通速递，工号一为您服务"))
    found = session.feed(Utterance(speaker="agent", start=4, end=6, text="你找领导去"))
    assert [f.rule_id for f in found] == ["forbidden.taboo"] and found[0].fatal


def test_report_is_independent_of_input_order_of_transcript(engine):
    call = sample_calls()[0]
    shuffled = call.model_copy(update={"utterances": random.Random(1).sample(call.utterances, len(call.utterances))})
    assert engine.score(shuffled).model_dump() == engine.score(call).model_dump()


CAPPED = """
- id: cap
  kind: phrases
  category: filler
  message: m
  deduction: 3
  max_deduction: 5
  phrases: [嘛]
"""


def test_deductions_are_capped_per_rule():
    engine = one_rule(CAPPED)
    report = engine.score(example_transcript(["A: 嘛嘛嘛"], "agent"))
    assert [f.deduction for f in report.findings] == [3, 2, 0]
    assert report.score == 95 and report.category_deductions == {"filler": 5}


def test_fatal_rule_zeroes_score_and_fails():
    engine = one_rule(CAPPED.replace("max_deduction: 5", "fatal: true"))
    [finding] = findings(engine, "好嘛")
    report = engine.score(example_transcript("好嘛", "agent"))
    assert report.fatal and report.score == 0 and report.passed is False and finding.fatal


def test_pass_mark_from_scorecard(default_rules):
    assert default_rules.model.scorecard.pass_mark == 80


def test_session_refuses_feed_after_close(engine):
    session = engine.session("c")
    session.close()
    with pytest.raises(SessionClosedError):
        session.feed(Utterance(speaker="agent", start=0, end=1, text="x"))


def test_every_finding_is_explainable(engine):
    for call in sample_calls():
        for f in engine.score(call).findings:
            assert f.rule_id and f.category and f.message and f.match.mode and f.match.detail
            if f.utterance_index is not None:
                assert f.evidence is not None and f.start is not None and f.end is not None
                assert f.evidence.end_char > f.evidence.start_char


def test_utterance_validation():
    with pytest.raises(ValueError, match="before start"):
        Utterance(speaker="agent", start=3, end=1, text="x")


def test_checks_not_fed_another_speakers_turn_would_have_found_nothing(engine):
    """The session skips checks that do not listen to a turn's speaker: feeding them must give nothing."""
    skipped = 0
    for path in sorted(SAMPLES.glob("*.json")):
        transcript = CallTranscript.model_validate_json(path.read_text(encoding="utf-8"))
        session = engine.session(transcript.call_id, transcript.agent_id)
        for utterance in sorted(transcript.utterances, key=lambda u: (u.start, u.end)):
            session.feed(utterance)
            index = len(session.call.utterances) - 1
            for check in session.checks:
                if not check.listens_to(utterance.speaker):
                    skipped += 1
                    assert check.feed(session.call, index) == [], (path.name, check.spec.id, index)
    assert skipped > 100
