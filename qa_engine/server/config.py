"""Everything `qa serve` can be told, in one validated object (tests build it directly)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from qa_engine.live.capacity import CapacityPolicy
from qa_engine.live.vad import EndpointConfig
from qa_engine.stt.options import STTOptions

KIB = 1024
MIB = 1024 * KIB


class ServerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(8600, ge=0, le=65535)
    rules: list[Path] = Field(default_factory=list, description="Rule files; empty: the bundled set. First is the default")
    token: str | None = Field(None, description="Bearer token required on HTTP and WebSocket; None: open")
    out_dir: Path = Field(Path("qa-out/live"), description="Reports of live calls, partial ones included")
    cache_dir: Path | None = Field(None, description="Transcript cache for uploads (default ~/.cache/qa-engine/transcripts)")
    stt: STTOptions = Field(default_factory=STTOptions)
    stt_lanes: int = Field(
        1, ge=1, description="Transcription jobs run at once; above 1 only helps with a model loaded with as many workers"
    )
    endpoint: EndpointConfig = Field(
        default_factory=EndpointConfig,
        description="Live turn endpointing: 0.5 s of silence ends a turn (batch VAD waits 1 s: live wants speed)",
    )
    capacity: CapacityPolicy = Field(default_factory=CapacityPolicy)
    preload_model: bool = Field(True, description="Load the Whisper model at start-up, not on the first audio call")
    max_transcript_calls: int = Field(1000, ge=1)
    max_frame_bytes: int = Field(64 * KIB, ge=1024, description="Largest binary audio frame (1 s of 16 kHz stereo is 62.5 KiB)")
    max_message_bytes: int = Field(16 * KIB, ge=256, description="Largest JSON message")
    ws_max_size: int = Field(1 * MIB, description="Beyond this the WebSocket layer closes the connection (1009)")
    max_transcript_bytes: int = Field(8 * MIB, description="Largest POST /v1/score body")
    max_upload_bytes: int = Field(200 * MIB, description="Largest POST /v1/calls body")
    idle_timeout_s: float = Field(300.0, gt=0, description="A call silent this long is treated as disconnected")

    def endpoint_config(self) -> EndpointConfig:
        return self.endpoint
