"""Fuzzing (bounded): the transcript reader, the JSONL reader and the rule-file loader never
crash, locate every failure, and never lose a call."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa_engine.inputs import iter_calls
from qa_engine.rulefile import RuleFileError, load_rules_text

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
utterance = st.fixed_dictionaries(
    {"speaker": st.sampled_from(["agent", "customer", "unknown", "x"]),
     "start": st.floats(allow_nan=True) | st.integers(), "end": st.floats() | st.integers(), "text": st.text(max_size=30)}
)
call = st.fixed_dictionaries({"call_id": st.text(max_size=30) | st.integers(), "utterances": st.lists(utterance, max_size=3)}) | json_values


@FUZZ
@given(st.binary(max_size=300) | st.builds(lambda v: json.dumps(v).encode(), call))
def test_fuzz_transcript_reader_never_crashes(tmp_path, data):
    path = tmp_path / "call.json"
    path.write_bytes(data)
    for source in iter_calls([path]):
        assert (source.error is None) != (source.transcript is None)
        if source.error:
            assert source.error.startswith(str(path))


@FUZZ
@given(st.lists(st.binary(max_size=80) | st.builds(lambda v: json.dumps(v).encode(), call), min_size=1, max_size=8))
def test_fuzz_jsonl_reader_loses_no_call(tmp_path, lines):
    lines = [line.replace(b"\n", b" ").replace(b"\r", b" ") for line in lines]
    path = tmp_path / "calls.jsonl"
    path.write_bytes(b"\n".join(lines))
    sources = list(iter_calls([path]))
    expected = set()
    for number, line in enumerate(lines, start=1):
        try:
            blank = not line.decode("utf-8-sig" if number == 1 else "utf-8").strip()
        except UnicodeDecodeError:
            blank = False
        if not blank:
            expected.add(f"{path}:{number}")
    assert [s.origin for s in sources] == sorted(expected, key=lambda o: int(o.rsplit(":", 1)[1]))
    for source in sources:
        assert (source.error is None) != (source.transcript is None)
        if source.error:
            assert source.error.startswith(source.origin)


yaml_text = st.text(alphabet=st.sampled_from(list("abkindrules:- []{}&*'\"\n #id.:0123456789")), max_size=200)


@FUZZ
@given(yaml_text | st.builds(lambda v: json.dumps(v), json_values))
def test_fuzz_rule_loader_gives_located_errors(text):
    try:
        load_rules_text(text, "fuzz.yaml")
    except RuleFileError as error:
        assert error.problems and all(p.path == "fuzz.yaml" for p in error.problems)
