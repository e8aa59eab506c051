"""`qa stream`: replay a recorded call to a live server, as a telephony platform would.

Audio is sent as interleaved s16le frames paced by the clock (real time, or `speed`×; 0:
as fast as possible); a transcript is sent as `utterance` events, each at its end time,
as a platform's own speech-to-text emits them. Every message the server sends back is
kept with its arrival time, so the same code prints a live call and measures latency
for the benchmark (bench/stream_bench.py runs many of these at once). Both directions are
the `server/protocol.py` models: what is sent is built from them, what comes back is
parsed into them. Printing is `report.console.stream_line` / `stream_summary`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import av
import numpy as np
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from qa_engine.models import CallTranscript
from qa_engine.server.protocol import (
    BusyMessage,
    EndMessage,
    ErrorMessage,
    ReportMessage,
    ServerMessage,
    StartMessage,
    UtteranceMessage,
    server_message,
)

STREAM_RATES = (8000, 16000)


@dataclass
class Received:
    """A server message and when it arrived, in seconds since the replay began."""

    at: float
    message: ServerMessage

    @property
    def type(self) -> str:
        return self.message.type


@dataclass
class ReplayResult:
    call_id: str
    mode: str
    received: list[Received] = field(default_factory=list)
    sent_at: list[float] = field(default_factory=list)
    """Transcript mode: when utterance i was sent (seconds since the replay began)."""
    began: float = 0.0
    """`time.monotonic()` at the replay's time zero (the call's second 0)."""
    report: ReportMessage | None = None
    busy: str | None = None
    refused: ErrorMessage | BusyMessage | None = None

    def of_type(self, kind: str) -> list[Received]:
        return [r for r in self.received if r.type == kind]

    @property
    def findings(self) -> list[Received]:
        return self.of_type("finding")


@dataclass(frozen=True)
class Pcm:
    """A recording as the stream carries it: interleaved s16le at 8 or 16 kHz."""

    data: bytes
    sample_rate: int
    channels: int

    @property
    def seconds(self) -> float:
        return len(self.data) / (2 * self.channels * self.sample_rate)

    def frames(self, frame_ms: int) -> list[bytes]:
        size = max(1, self.sample_rate * frame_ms // 1000) * 2 * self.channels
        return [self.data[i : i + size] for i in range(0, len(self.data), size)]


def read_pcm(path: str | Path) -> Pcm:
    """Decode a recording, keeping its channels; 8 and 16 kHz stay as they are, others become 16 kHz."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        channels = min(stream.codec_context.channels, 2)
        rate = stream.codec_context.sample_rate if stream.codec_context.sample_rate in STREAM_RATES else 16000
        resampler = av.AudioResampler(format="s16", layout="stereo" if channels == 2 else "mono", rate=rate)
        blocks: list[np.ndarray] = []
        for frame in container.decode(stream):
            frame.pts = None
            blocks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(frame))
        blocks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(None))
    samples = np.concatenate(blocks).astype("<i2") if blocks else np.zeros(0, "<i2")
    return Pcm(samples.tobytes(), rate, channels)


END = EndMessage(type="end").model_dump_json()


def _headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


async def _pace(began: float, offset: float, speed: float) -> None:
    if speed > 0:
        delay = began + offset / speed - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)


async def _open_call(ws, start: StartMessage, result: ReplayResult) -> bool:
    """Send `start`; True once the server accepted the call."""
    await ws.send(start.model_dump_json())
    reply = server_message.validate_json(await ws.recv())
    if reply.type == "started":
        return True
    assert isinstance(reply, ErrorMessage | BusyMessage), reply
    result.refused = reply
    if isinstance(reply, BusyMessage):
        result.busy = reply.message
    return False


async def _collect(ws, result: ReplayResult, on_message: Callable[[Received], None] | None) -> None:
    """Keep every server message until the report (or the connection closes)."""
    try:
        async for raw in ws:
            item = Received(time.monotonic() - result.began, server_message.validate_json(raw))
            result.received.append(item)
            if on_message:
                on_message(item)
            if isinstance(item.message, ReportMessage):
                result.report = item.message
                return
    except ConnectionClosed:
        return


async def stream_audio(
    url: str,
    pcm: Pcm,
    call_id: str,
    *,
    agent_id: str | None = None,
    speed: float = 1.0,
    frame_ms: int = 50,
    token: str | None = None,
    rules: str | None = None,
    roles: list[str] | None = None,
    on_message: Callable[[Received], None] | None = None,
    emotion: bool = False,
) -> ReplayResult:
    """Send a recording as live audio frames; return what the server said and when
    (with `emotion`, the server's `emotion` and `alert` events too)."""
    roles = roles or (["agent", "customer"] if pcm.channels == 2 else ["unknown"])
    start = StartMessage(type="start", call_id=call_id, agent_id=agent_id, mode="audio",
                         sample_rate=pcm.sample_rate, channels=roles, rules=rules, emotion=emotion)
    result = ReplayResult(call_id, "audio")
    async with connect(url, additional_headers=_headers(token), max_size=2**24, compression=None) as ws:
        if not await _open_call(ws, start, result):
            return result
        result.began = time.monotonic()
        receiver = asyncio.create_task(_collect(ws, result, on_message))
        seconds_per_frame = frame_ms / 1000
        for index, frame in enumerate(pcm.frames(frame_ms)):
            await _pace(result.began, (index + 1) * seconds_per_frame, speed)  # a frame is sent once recorded
            await ws.send(frame)
        await ws.send(END)
        await receiver
    return result


async def stream_transcript(
    url: str,
    transcript: CallTranscript,
    *,
    speed: float = 1.0,
    token: str | None = None,
    rules: str | None = None,
    order: Literal["end", "start"] = "end",
    on_message: Callable[[Received], None] | None = None,
) -> ReplayResult:
    """Send a transcript as utterance events, each when its speech ends.

    `order="end"` sends them as they finish, as a platform does; `"start"` sends them in
    the batch scorer's order (each still no earlier than its end), which makes even the
    utterance numbering of the findings identical to `Engine.score`'s.
    """
    roles = sorted({u.speaker for u in transcript.utterances}, key=["agent", "customer", "unknown"].index)
    start = StartMessage(type="start", call_id=transcript.call_id, agent_id=transcript.agent_id,
                         mode="transcript", channels=roles or ["agent", "customer"], rules=rules)
    result = ReplayResult(transcript.call_id, "transcript")
    async with connect(url, additional_headers=_headers(token), max_size=2**24, compression=None) as ws:
        if not await _open_call(ws, start, result):
            return result
        result.began = time.monotonic()
        receiver = asyncio.create_task(_collect(ws, result, on_message))
        key = (lambda u: (u.end, u.start)) if order == "end" else (lambda u: (u.start, u.end))
        due = 0.0
        for utterance in sorted(transcript.utterances, key=key):
            due = max(due, utterance.end)
            await _pace(result.began, due, speed)
            result.sent_at.append(time.monotonic() - result.began)
            await ws.send(UtteranceMessage(type="utterance", **utterance.model_dump()).model_dump_json())
        await ws.send(END)
        await receiver
    return result
