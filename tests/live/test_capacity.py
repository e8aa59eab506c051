"""Admission of live audio calls from their measured transcription load."""

from __future__ import annotations

from qa_engine.live.capacity import CallLoad, Capacity, CapacityPolicy


def test_first_call_always_fits_and_prior_sets_capacity():
    capacity = Capacity(CapacityPolicy(prior_load=0.3, target_load=0.9))
    assert capacity.refusal([], lag=0.0) is None
    assert capacity.computed() == 3


def test_measured_loads_decide():
    capacity = Capacity(CapacityPolicy(prior_load=0.1, target_load=0.8))
    light = [CallLoad(seconds=30, stt_seconds=6)] * 2  # 0.2 each
    assert capacity.refusal(light, lag=0.0) is None  # 0.6 projected
    heavy = [CallLoad(seconds=30, stt_seconds=12)] * 2  # 0.4 each
    assert "capacity" in capacity.refusal(heavy, lag=0.0)
    young = [CallLoad(seconds=30, stt_seconds=12), CallLoad(seconds=2, stt_seconds=0)]
    assert capacity.refusal(young, lag=0.0) is not None  # the young call is assumed as heavy
    assert capacity.computed(heavy) == 2


def test_lag_and_fixed_limit_refuse():
    capacity = Capacity(CapacityPolicy(max_audio_calls=2, max_lag_s=1.0))
    assert "behind" in capacity.refusal([], lag=1.5)
    heavy = CallLoad(seconds=30, stt_seconds=15)
    assert capacity.refusal([heavy], lag=0.0) is None  # a fixed limit replaces the computed one
    assert "limit of 2" in capacity.refusal([heavy] * 2, lag=0.0)
    assert capacity.computed([heavy]) == 2


def test_finished_calls_teach_the_estimate():
    capacity = Capacity(CapacityPolicy(prior_load=0.5))
    capacity.observe(CallLoad(seconds=5, stt_seconds=5))  # too short to judge
    assert capacity.estimate == 0.5
    capacity.observe(CallLoad(seconds=50, stt_seconds=10))
    assert capacity.estimate == 0.2 and capacity.computed() == 4
