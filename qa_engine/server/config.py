"""Everything `qa serve` can be told, in one validated object (tests build it directly).

`qa serve --config FILE` reads the same fields from YAML or JSON (`load_server_config`);
flags given on the command line override the file's values. A wrong key or value is a
`ConfigFileError` naming the file, the line (where the file shows it) and the field.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

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
    max_transcript_bytes: int = Field(8 * MIB, ge=1, description="Largest POST /v1/score body")
    max_utterances: int = Field(20_000, ge=1, description="Most utterances in one POST /v1/score transcript")
    max_utterance_chars: int = Field(5_000, ge=1, description="Longest utterance text in POST /v1/score, in characters")
    max_json_depth: int = Field(32, ge=4, description="Deepest nesting of JSON objects and arrays accepted")
    score_workers: int = Field(2, ge=1, description="Threads scoring POST /v1/score and uploads (off the event loop)")
    max_pending_scores: int = Field(16, ge=1, description="Scoring requests queued or running at once; beyond: 503")
    max_upload_bytes: int = Field(200 * MIB, ge=1, description="Largest POST /v1/calls body")
    max_call_seconds: float = Field(
        4 * 3600.0, gt=0, description="Longest recording POST /v1/calls takes (by its header, and while decoding)"
    )
    max_uploads: int = Field(8, ge=1, description="Uploads queued or being transcribed at once; beyond: 503")
    shutdown_grace_s: float = Field(
        5.0, ge=0, description="On SIGTERM, requests still running after this are cancelled (uploads stop between windows)"
    )
    insecure: bool = Field(False, description="Allow a non-loopback host without a token")
    keep_pii: bool = Field(False, description="Do not redact personal data (`qa serve --keep-pii`); reports' provenance says so")
    idle_timeout_s: float = Field(300.0, gt=0, description="A call silent this long is treated as disconnected")

    @model_validator(mode="after")
    def _not_open_to_the_network(self) -> ServerConfig:
        if not self.token and not self.insecure and not is_loopback(self.host):
            raise ValueError(
                f"host {self.host} is reachable from other machines but no token is set; "
                "set --token (or QA_TOKEN), or pass --insecure if the network is trusted"
            )
        return self

    def endpoint_config(self) -> EndpointConfig:
        return self.endpoint


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class ConfigFileError(ValueError):
    """A server config file that cannot be used; the message locates every problem."""


def _merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """`overrides` on top of `base`; nested settings (stt, capacity, endpoint) merge key by key."""
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _line_of(text: str, loc: tuple) -> int | None:
    """The line of a field in the file (YAML and JSON alike), for the error message."""
    try:
        node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return None
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if found is None:
                break
            line, node = found[0].start_mark.line + 1, found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def load_server_config(path: Path | None = None, overrides: dict[str, Any] | None = None) -> ServerConfig:
    """A `ServerConfig` from a YAML or JSON file (optional) with `overrides` (the flags given) on top."""
    overrides = overrides or {}
    text, data = "", {}
    if path is not None:
        try:
            text = Path(path).read_text(encoding="utf-8")
            data = json.loads(text) if Path(path).suffix.lower() == ".json" else yaml.safe_load(text)
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigFileError(f"{path}: cannot read: {error}") from None
        except (ValueError, yaml.YAMLError) as error:
            raise ConfigFileError(f"{path}: not valid {'JSON' if Path(path).suffix.lower() == '.json' else 'YAML'}: {error}") from None
        data = {} if data is None else data
        if not isinstance(data, dict):
            raise ConfigFileError(f"{path}: expected a mapping of server settings, got {type(data).__name__}")
    try:
        return ServerConfig.model_validate(_merge(data, overrides))
    except ValidationError as error:
        problems = []
        for item in error.errors():
            loc = tuple(item["loc"])
            field = ".".join(map(str, loc)) or "(settings)"
            from_flags = bool(loc) and loc[0] in overrides and (len(loc) == 1 or not isinstance(data.get(loc[0]), dict)
                                                              or loc[1] in overrides[loc[0]])
            if path is None or from_flags:
                where = "command line"
            else:
                line = _line_of(text, loc) if loc else None
                where = f"{path}:{line}" if line else str(path)
            message = item["msg"].removeprefix("Value error, ")
            if item["type"] == "extra_forbidden":
                message = f"unknown key (valid keys: {', '.join(_fields_at(loc[:-1]))})"
            problems.append(f"{where}: {field}: {message}")
        raise ConfigFileError("\n".join(problems)) from None


def _fields_at(loc: tuple) -> list[str]:
    """The valid keys at a place in the settings (for an unknown-key message)."""
    model: type[BaseModel] = ServerConfig
    for part in loc:
        annotation = model.model_fields[str(part)].annotation if str(part) in model.model_fields else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return sorted(model.model_fields)
