"""The transcript cache: re-scoring never re-runs speech-to-text, and never goes stale."""

from __future__ import annotations

import numpy as np
import pytest
from stt_helpers import FakeWhisper, place, write_wav
from stt_helpers import fake_vad as stand_in_vad

from qa_engine.stt import STTOptions, Transcriber, transcribe_cached
from qa_engine.stt import transcriber as transcriber_module

SR = 8000


@pytest.fixture
def fake_model() -> FakeWhisper:
    return FakeWhisper()


@pytest.fixture
def fake_vad(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replace Silero VAD (which ignores pure tones) with the burst detector."""
    monkeypatch.setattr(transcriber_module, "find_speech", stand_in_vad)


def _call(tmp_path, name="a.wav", freq=300):
    agent = place(4.0, SR, [(0.5, 0.6, freq)])
    customer = place(4.0, SR, [(2.0, 0.6, 900)])
    return write_wav(tmp_path / name, np.stack([agent, customer]), SR)


def test_second_call_comes_from_cache(tmp_path, fake_model, fake_vad):
    path = _call(tmp_path)
    cache = tmp_path / "cache"
    transcriber = Transcriber(model=fake_model)

    first = transcribe_cached(path, cache_dir=cache, transcriber=transcriber)
    calls = len(fake_model.calls)
    second = transcribe_cached(path, cache_dir=cache, transcriber=transcriber)

    assert len(fake_model.calls) == calls  # no second transcription
    assert second == first
    files = list(cache.iterdir())
    assert len(files) == 1 and files[0].suffix == ".json"  # no temp files left


def test_same_audio_under_another_name_keeps_its_own_identity(
    tmp_path, fake_model, fake_vad
):
    path = _call(tmp_path)
    copy = tmp_path / "b.wav"
    copy.write_bytes(path.read_bytes())
    transcriber = Transcriber(model=fake_model)
    transcribe_cached(path, cache_dir=tmp_path / "c", transcriber=transcriber)
    other = transcribe_cached(copy, cache_dir=tmp_path / "c", transcriber=transcriber,
                              call_id="B-1", agent_id="A7")
    assert (other.call_id, other.audio, other.agent_id) == ("B-1", str(copy), "A7")


def test_changed_audio_or_options_miss_the_cache(tmp_path, fake_model, fake_vad):
    path = _call(tmp_path)
    cache = tmp_path / "cache"
    transcribe_cached(path, cache_dir=cache, transcriber=Transcriber(model=fake_model))
    transcribe_cached(path, cache_dir=cache,
                      transcriber=Transcriber(STTOptions(beam_size=2), model=fake_model))
    _call(tmp_path, freq=500)  # same name, new content
    changed = transcribe_cached(path, cache_dir=cache,
                                transcriber=Transcriber(model=fake_model))
    assert len(list(cache.iterdir())) == 3
    assert changed.utterances[0].text == "请问有什么可以帮您"


def test_unreadable_entry_is_replaced(tmp_path, fake_model, fake_vad):
    path = _call(tmp_path)
    cache = tmp_path / "cache"
    transcriber = Transcriber(model=fake_model)
    good = transcribe_cached(path, cache_dir=cache, transcriber=transcriber)
    entry = next(cache.iterdir())
    entry.write_text("{ truncated")
    again = transcribe_cached(path, cache_dir=cache, transcriber=transcriber)
    assert again == good
    assert entry.read_text().startswith("{\n")


def test_speed_options_do_not_change_the_cache_key():
    from qa_engine.stt import STTOptions
    from qa_engine.stt.cache import options_hash

    assert options_hash(STTOptions(cpu_threads=2)) == options_hash(STTOptions(cpu_threads=8))
    assert options_hash(STTOptions(beam_size=1)) != options_hash(STTOptions(beam_size=5))
