"""How many live audio calls one server can transcribe in real time, and whether to take one more.

Each call costs the speech-to-text lanes some seconds of work per second of call (its
load: about 0.1–0.5 for Whisper base on two CPU cores, depending on how much is speech).
A new audio call is admitted only while the loads of the calls in progress plus one more
fit in `target_load` of the lanes' time and the queue is not already lagging; otherwise
it gets `busy`, so the calls already running stay in real time instead of everyone falling
behind. Loads are measured per call as it runs; before any measurement `prior_load` is used.
An operator who sets `max_audio_calls` has measured their machine: that number replaces
the computed one (the lag check still applies).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field


class CapacityPolicy(BaseModel):
    """Limits for admitting live audio calls."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_audio_calls: int | None = Field(None, ge=0, description="Fixed limit instead of the computed one")
    target_load: float = Field(0.8, gt=0, le=1, description="Share of the lanes' time live calls may fill")
    max_lag_s: float = Field(2.0, gt=0, description="Refuse new calls while the queue is this far behind")
    prior_load: float = Field(
        0.25,
        gt=0,
        description="Assumed STT seconds per call second until measured (about twice the 0.11-0.12 "
        "measured for Whisper base int8 on 2 cores with short-window turns)",
    )
    min_observe_s: float = Field(10.0, gt=0, description="Call audio needed before its load is trusted")


@dataclass(frozen=True)
class CallLoad:
    """One call in progress: seconds of audio received and seconds of transcription spent on it."""

    seconds: float
    stt_seconds: float

    @property
    def load(self) -> float:
        return self.stt_seconds / self.seconds if self.seconds > 0 else 0.0


class Capacity:
    """Admission control for live audio calls on `lanes` speech-to-text lanes."""

    def __init__(self, policy: CapacityPolicy | None = None, lanes: int = 1) -> None:
        self.policy = policy or CapacityPolicy()
        self.lanes = lanes
        self.estimate = self.policy.prior_load
        self.measured_calls = 0

    def observe(self, call: CallLoad) -> None:
        """Learn from a finished call (calls too short to judge are ignored)."""
        if call.seconds < self.policy.min_observe_s:
            return
        self.measured_calls += 1
        weight = 1.0 if self.measured_calls == 1 else 0.3
        self.estimate += weight * (call.load - self.estimate)

    def per_call(self, active: list[CallLoad]) -> float:
        """Expected load of one call: measured on the calls running now, else learnt."""
        measured = [c.load for c in active if c.seconds >= self.policy.min_observe_s]
        return sum(measured) / len(measured) if measured else self.estimate

    def computed(self, active: list[CallLoad] | None = None) -> int:
        """How many audio calls fit, by the current load estimate (at least one)."""
        if self.policy.max_audio_calls is not None:
            return self.policy.max_audio_calls
        budget = self.policy.target_load * self.lanes
        return max(1, math.floor(budget / max(self.per_call(active or []), 1e-6)))

    def refusal(self, active: list[CallLoad], lag: float) -> str | None:
        """Why one more audio call must be refused, or None to admit it."""
        cap = self.policy.max_audio_calls
        if cap is not None and len(active) >= cap:
            return f"at the limit of {cap} live audio calls"
        if lag > self.policy.max_lag_s:
            return f"speech-to-text is {lag:.1f}s behind real time"
        if cap is not None or not active:
            return None
        each = self.per_call(active)
        projected = sum(c.load if c.seconds >= self.policy.min_observe_s else each for c in active) + each
        budget = self.policy.target_load * self.lanes
        if projected > budget:
            return f"{len(active)} live audio calls already use the transcription capacity ({projected:.2f} > {budget:.2f})"
        return None
