"""Streaming Silero VAD and per-channel endpointing on a sample call."""

from __future__ import annotations

import numpy as np

from qa_engine.live.vad import WINDOW, EndpointConfig, Endpointer, SileroStream

pytest_plugins = ["livekit"]  # its fixtures (not a conftest.py: see tests/server/serverkit.py)


def stream(endpointer: Endpointer, samples: np.ndarray, frame: int = 800) -> list[tuple]:
    """(chunk, stream seconds when it was emitted) for the channel fed frame by frame."""
    out = []
    for start in range(0, len(samples), frame):
        out += [(c, (start + frame) / 16000) for c in endpointer.push(samples[start : start + frame])]
    out += [(c, len(samples) / 16000) for c in endpointer.flush()]
    return out


def test_streaming_state_gives_the_batch_probabilities(forbidden_16k):
    from faster_whisper.vad import get_vad_model

    agent = forbidden_16k[0, : 12 * 16000]
    batch = get_vad_model()(agent)
    vad = SileroStream()
    windows = agent.reshape(-1, WINDOW)
    sizes = [1, 3, 7, 2, 50, 10]  # windows per frame, uneven
    got, at = [], 0
    while at < len(windows):
        step = sizes[len(got) % len(sizes)]
        got.append(vad.probabilities(windows[at : at + step]))
        at += step
    np.testing.assert_allclose(np.concatenate(got), batch, atol=1e-5)


def test_each_turn_is_one_chunk_emitted_soon_after_it_ends(forbidden_16k, forbidden_ref):
    config = EndpointConfig()
    for channel, role in enumerate(("agent", "customer")):
        chunks = stream(Endpointer(channel, config), forbidden_16k[channel])
        turns = [u for u in forbidden_ref.utterances if u.speaker == role]
        assert len(chunks) == len(turns)
        for (chunk, emitted), turn in zip(chunks, turns, strict=True):
            assert chunk.channel == channel and not chunk.cut
            assert chunk.start <= turn.start + 0.1 and chunk.end >= turn.end - 0.1
            assert chunk.start > turn.start - 0.5 and chunk.end < turn.end + 0.5
            assert emitted - turn.end < config.min_silence_s + 0.3  # endpointing delay is bounded


def test_long_turns_are_cut_at_a_bounded_length(forbidden_16k):
    chunks = stream(Endpointer(0, EndpointConfig(max_utterance_s=3)), forbidden_16k[0])
    assert any(c.cut for c, _ in chunks)
    for chunk, emitted in chunks:
        assert chunk.end - chunk.start <= 3.0 + 1e-6
        if chunk.cut:  # no word waits longer than the bound (plus one frame) to be sent on
            assert emitted - chunk.start <= 3.0 + 0.1
        else:
            assert emitted - chunk.end < 0.9
    spans = [(c.start, c.end) for c, _ in chunks]
    assert all(a[1] <= b[0] + 1e-6 for a, b in zip(spans, spans[1:], strict=False))  # no audio heard twice


def test_silence_gives_nothing_and_flush_finishes_a_turn(forbidden_16k, forbidden_ref):
    endpointer = Endpointer()
    assert endpointer.push(np.zeros(16000 * 3, np.float32)) == []
    assert endpointer.flush() == []
    endpointer = Endpointer()
    turn = next(u for u in forbidden_ref.utterances if u.speaker == "agent" and u.end - u.start > 2.5)
    speech = forbidden_16k[0, int((turn.start + 0.3) * 16000) : int((turn.start + 2.3) * 16000)]  # cut mid-turn
    assert endpointer.push(speech) == [] and endpointer.in_speech
    (chunk,) = endpointer.flush()
    assert 1.5 < chunk.end - chunk.start <= 2.0
