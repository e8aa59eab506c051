"""Speech-to-text settings, validated once and recorded in every transcript.

Everything that changes the words that come out is an option here, so a transcript's
``stt`` record (and the transcript cache key) says exactly how it was made.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from qa_engine.models import Speaker


class VadParams(BaseModel):
    """Silero VAD settings (faster-whisper's ``VadOptions``), tuned for phone turns.

    faster-whisper ends a speech region after 2 s of silence, which suits lectures; one
    party's channel is mostly silence between short turns, so regions end after 1 s.
    The 400 ms padding is faster-whisper's: less clipped first syllables (on the sample
    calls 200 ms cost about 2 points of customer-channel CER).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold: float = Field(0.5, gt=0, lt=1)
    min_speech_duration_ms: int = Field(0, ge=0)
    min_silence_duration_ms: int = Field(1000, ge=0)
    speech_pad_ms: int = Field(400, ge=0)

    def as_faster_whisper(self) -> dict[str, Any]:
        return self.model_dump()


class STTOptions(BaseModel):
    """How to turn a call recording into utterances."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(
        "default",
        description="'default' (bundled offline Whisper base), a faster-whisper size name, "
        "a hub id, or a local CTranslate2 model directory.",
    )
    device: Literal["auto", "cpu", "cuda"] = "auto"
    compute_type: str = Field("auto", description="'auto': int8 on CPU, float16 on GPU.")
    cpu_threads: int = Field(0, ge=0, description="0: one per CPU core.")
    beam_size: int = Field(5, ge=1)
    language: str = "zh"
    vad: VadParams = VadParams()
    pause_split: float = Field(
        0.8, gt=0, description="Seconds between words that start a new utterance."
    )
    channel_roles: tuple[Speaker, Speaker] = ("agent", "customer")
    speech_gap: float = Field(
        1.0, ge=0, description="Silence (s) put between speech regions given to Whisper."
    )
    hotwords: str | None = Field(
        None, description="Words/phrases Whisper is nudged towards in every 30 s window."
    )
    initial_prompt: str | None = Field(
        None, description="Text Whisper sees before each window (can bias script/style)."
    )
    batch_size: int = Field(
        0, ge=0, le=64,
        description="0: decode each channel's speech window by window; N: faster-whisper's "
        "batched pipeline, N windows (cut at the VAD's speech regions) at once (GPU actors).",
    )
    turn_window_seconds: float = Field(
        10.0, ge=1, le=30, description="Encoder window for a live turn (short: fast; see stt.short_window)."
    )
    window_seconds: float = Field(
        600.0, ge=30, description="Audio decoded and transcribed at a time (bounds memory)."
    )

    @model_validator(mode="after")
    def _distinct_roles(self) -> STTOptions:
        if self.channel_roles[0] == self.channel_roles[1]:
            raise ValueError(f"channel_roles must differ, got {self.channel_roles}")
        return self

    def resolved_device(self) -> str:
        """'auto' becomes 'cuda' when CTranslate2 sees a GPU, else 'cpu'."""
        if self.device != "auto":
            return self.device
        import ctranslate2

        return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"

    def resolved_compute_type(self, device: str) -> str:
        """'auto' picks int8 on CPU (fast, small) and float16 on GPU."""
        if self.compute_type != "auto":
            return self.compute_type
        return "float16" if device == "cuda" else "int8"

    def resolved_cpu_threads(self) -> int:
        return self.cpu_threads or os.cpu_count() or 1
