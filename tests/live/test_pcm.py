"""Raw PCM frames of any size decode to the same samples as one big frame."""

from __future__ import annotations

import numpy as np
import pytest

from qa_engine.live.pcm import PcmDecoder


def stereo_s16(seconds: float, rate: int) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    left = (0.3 * np.sin(2 * np.pi * 300 * t) * 32767).astype("<i2")
    right = (0.2 * np.sin(2 * np.pi * 500 * t) * 32767).astype("<i2")
    return np.stack([left, right], axis=1).tobytes()


@pytest.mark.parametrize("rate", [8000, 16000])
def test_odd_sized_frames_decode_like_one_frame(rate):
    data = stereo_s16(1.0, rate)
    whole = PcmDecoder(rate, 2)
    expected = [np.concatenate([a, b]) for a, b in zip(whole.interleaved(data), whole.flush(), strict=True)]
    pieces = PcmDecoder(rate, 2)
    got: list[list[np.ndarray]] = [[], []]
    for start in range(0, len(data), 333):  # splits samples and channels mid-way
        for channel, samples in enumerate(pieces.interleaved(data[start : start + 333])):
            got[channel].append(samples)
    for channel, tail in enumerate(pieces.flush()):
        got[channel].append(tail)
    for channel in range(2):
        joined = np.concatenate(got[channel])
        assert len(joined) == len(expected[channel]) == 16000
        np.testing.assert_allclose(joined, expected[channel], atol=1e-4)
    assert abs(float(np.max(expected[0])) - 0.3) < 0.02 and abs(float(np.max(expected[1])) - 0.2) < 0.02


def test_channels_may_arrive_separately():
    data = np.frombuffer(stereo_s16(0.5, 8000), "<i2").reshape(-1, 2)
    decoder = PcmDecoder(8000, 2)
    left = decoder.channel(0, data[:, 0].tobytes()[:-1]) , decoder.channel(0, data[:, 0].tobytes()[-1:])
    right = decoder.channel(1, data[:, 1].tobytes())
    tails = decoder.flush()
    assert len(np.concatenate([*left, tails[0]])) == len(np.concatenate([right, tails[1]])) == 8000


def test_unsupported_rate_is_refused():
    with pytest.raises(ValueError, match="44100"):
        PcmDecoder(44100, 2)
