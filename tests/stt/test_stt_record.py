"""The STT record is a named model that writes back exactly what it was given."""

import json

from qa_engine.models import CallTranscript, Provenance, SttRecord


def test_stt_record_names_fields_keeps_extras_and_writes_keys_in_given_order():
    given = {"mode": "mono", "duration": 3, "live": {"endpointing": {"max_utterance_s": 15.0}},
             "engine": "faster-whisper", "options": {"channel_roles": ["agent", "customer"]}, "dropped_segments": 0}
    transcript = CallTranscript(call_id="c", utterances=[], stt=given)
    assert transcript.stt.mode == "mono" and transcript.stt.duration == 3 and transcript.stt.live["endpointing"]
    assert json.loads(transcript.model_dump_json())["stt"] == given
    assert transcript.model_dump_json().split('"stt":')[1].startswith(json.dumps(given, separators=(",", ":")))
    again = CallTranscript.model_validate_json(transcript.model_dump_json(indent=1))
    assert again.model_dump_json(indent=1) == transcript.model_dump_json(indent=1)
    assert Provenance(engine_version="x", stt=transcript.stt).model_dump()["stt"] == given


def test_stt_record_built_from_fields_writes_only_those_given():
    assert SttRecord(engine="reference transcript", utterances=3).model_dump() == {"engine": "reference transcript", "utterances": 3}
