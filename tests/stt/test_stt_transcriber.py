"""The transcription pipeline with a fake model: channels, times, merge, text clean-up."""

from __future__ import annotations

import numpy as np
import pytest
from stt_helpers import FakeWhisper, place, write_wav
from stt_helpers import fake_vad as stand_in_vad

from qa_engine.stt import AudioError, STTOptions, Transcriber
from qa_engine.stt import transcriber as transcriber_module

SR = 8000


@pytest.fixture
def fake_model() -> FakeWhisper:
    return FakeWhisper()


@pytest.fixture
def fake_vad(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replace Silero VAD (which ignores pure tones) with the burst detector."""
    monkeypatch.setattr(transcriber_module, "find_speech", stand_in_vad)


def _stereo_call(tmp_path, name="call.wav"):
    """Agent greets, customer talks over the agent's question, agent says goodbye."""
    agent = place(12.0, SR, [(0.5, 0.6, 300), (1.4, 0.5, 300),  # one turn, 0.3 s pause
                             (4.0, 1.5, 500), (9.0, 0.6, 900)])
    customer = place(12.0, SR, [(5.0, 1.5, 500),  # starts before the agent stops
                                (7.0, 0.5, 700)])  # a hallucination on this channel
    return write_wav(tmp_path / name, np.stack([agent, customer]), SR)


def test_stereo_channels_become_agent_and_customer_in_time_order(
    tmp_path, fake_model, fake_vad
):
    path = _stereo_call(tmp_path)
    transcript = Transcriber(STTOptions(), model=fake_model).transcribe(path)

    got = [(u.speaker, round(u.start, 1), round(u.end, 1), u.text)
           for u in transcript.utterances]
    assert got == [
        ("agent", 0.5, 1.9, "您好您好"),  # 0.3 s pause < 0.8 s: the same turn
        ("agent", 4.0, 5.5, "请问有什么可以帮您"),  # simplified from traditional
        ("customer", 5.0, 6.5, "请问有什么可以帮您"),  # overlap kept as recognised
        ("agent", 9.0, 9.6, "再见"),  # the customer's hallucination (7.0 s) is gone
    ]
    assert transcript.call_id == "call"
    assert transcript.audio == str(path)
    assert transcript.stt.mode == "stereo"
    assert transcript.stt.dropped_segments == 1
    assert transcript.stt.options["channel_roles"] == ["agent", "customer"]
    assert len(transcript.stt.audio_sha256) == 64
    # Each channel went to the model on its own, with the options the brief asks for.
    assert len(fake_model.calls) == 2
    for call in fake_model.calls:
        assert call["language"] == "zh"
        assert call["word_timestamps"] is True
        assert call["condition_on_previous_text"] is False


def test_speech_whisper_skipped_is_transcribed_again(tmp_path, fake_model, fake_vad):
    mono = place(12.0, SR, [(0.5, 0.6, 300), (3.0, 2.0, 500), (8.0, 0.6, 900)])
    path = write_wav(tmp_path / "skippy.wav", mono[None], SR)
    fake_model.skip_once = True
    transcript = Transcriber(model=fake_model).transcribe(path)
    assert [u.text for u in transcript.utterances] == ["您好", "请问有什么可以帮您", "再见"]
    assert transcript.stt.recovered_spans == 2  # both skipped turns, in one more pass
    assert len(fake_model.calls) == 2


def test_swapped_roles(tmp_path, fake_model, fake_vad):
    path = _stereo_call(tmp_path)
    options = STTOptions(channel_roles=("customer", "agent"))
    transcript = Transcriber(options, model=fake_model).transcribe(path)
    assert transcript.utterances[0].speaker == "customer"


def test_pause_split_threshold(tmp_path, fake_model, fake_vad):
    path = _stereo_call(tmp_path)
    transcript = Transcriber(STTOptions(pause_split=0.2), model=fake_model).transcribe(path)
    assert [u.text for u in transcript.utterances][:2] == ["您好", "您好"]


def test_mono_is_transcribed_once_as_unknown(tmp_path, fake_model, fake_vad):
    mono = place(6.0, SR, [(0.5, 0.6, 300), (3.0, 0.6, 900)])
    path = write_wav(tmp_path / "mono.wav", mono[None], SR)
    transcript = Transcriber(model=fake_model).transcribe(path)
    assert [(u.speaker, u.text) for u in transcript.utterances] == [
        ("unknown", "您好"), ("unknown", "再见"),
    ]
    assert len(fake_model.calls) == 1
    assert transcript.stt.mode == "mono"


def test_identical_channels_are_treated_as_mono(tmp_path, fake_model, fake_vad):
    mono = place(6.0, SR, [(0.5, 0.6, 300)])
    path = write_wav(tmp_path / "dup.wav", np.stack([mono, mono]), SR)
    transcript = Transcriber(model=fake_model).transcribe(path)
    assert [(u.speaker, u.text) for u in transcript.utterances] == [("unknown", "您好")]
    assert len(fake_model.calls) == 1


def test_silent_call_gives_no_utterances_without_asking_the_model(
    tmp_path, fake_model
):
    path = write_wav(tmp_path / "quiet.wav", np.zeros((2, SR * 5), np.float32), SR)
    transcript = Transcriber(model=fake_model).transcribe(path)
    assert transcript.utterances == []
    assert fake_model.calls == []
    assert transcript.stt.duration == pytest.approx(5.0)


def test_windows_keep_call_time(tmp_path, fake_model, fake_vad):
    """Words in later windows get the window's offset; no window exceeds the limit."""
    agent = place(150.0, SR, [(10.0, 0.6, 300), (70.0, 0.6, 500), (140.0, 0.6, 900)])
    customer = place(150.0, SR, [(100.0, 0.6, 300)])
    path = write_wav(tmp_path / "long.wav", np.stack([agent, customer]), SR)
    options = STTOptions(window_seconds=60.0)
    transcript = Transcriber(options, model=fake_model).transcribe(path)
    assert [(u.speaker, round(u.start, 1)) for u in transcript.utterances] == [
        ("agent", 10.0), ("agent", 70.0), ("customer", 100.0), ("agent", 140.0),
    ]
    assert fake_model.max_seconds <= 60.0


def test_more_than_two_channels_is_an_error(tmp_path, fake_model):
    path = write_wav(tmp_path / "conf.wav", np.zeros((3, SR), np.float32) + 0.1, SR)
    with pytest.raises(AudioError, match="3 channels"):
        Transcriber(model=fake_model).transcribe(path)


def test_bad_audio_fails_before_the_model_loads(tmp_path):
    path = tmp_path / "bad.wav"
    path.write_text("not audio")
    transcriber = Transcriber(STTOptions(model="/nonexistent/model"))
    with pytest.raises(AudioError):
        transcriber.transcribe(path)
    assert transcriber._model is None


def test_transcribe_samples_for_streaming(fake_model, fake_vad):
    chunk = place(3.0, 16_000, [(0.2, 0.5, 300), (2.0, 0.5, 900)])
    pieces = Transcriber(model=fake_model).transcribe_samples(chunk, offset=100.0)
    # A live turn is one piece spanning the chunk the endpointer cut, in call time.
    assert [(round(s, 1), round(e, 1), t) for s, e, t in pieces] == [(100.0, 103.0, "您好再见")]
    assert fake_model.calls[-1]["without_timestamps"] is True
    assert Transcriber(model=fake_model).transcribe_samples(np.zeros(16_000), offset=5.0) == []
    with pytest.raises(ValueError, match="1-D"):
        Transcriber(model=fake_model).transcribe_samples(np.zeros((2, 100)))


def test_options_resolution_and_validation():
    opts = STTOptions(device="cpu")
    assert opts.resolved_compute_type("cpu") == "int8"
    assert opts.resolved_compute_type("cuda") == "float16"
    assert STTOptions(compute_type="float32").resolved_compute_type("cpu") == "float32"
    assert opts.resolved_cpu_threads() >= 1
    with pytest.raises(ValueError, match="must differ"):
        STTOptions(channel_roles=("agent", "agent"))
    with pytest.raises(ValueError):
        STTOptions(vad_filter=False)  # unknown keys are rejected, not ignored
