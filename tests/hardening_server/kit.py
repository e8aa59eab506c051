"""Helpers for the hardening tests: raw HTTP over a socket, WAV bytes, fake recognizers."""

from __future__ import annotations

import socket
import struct
import threading
import time

from callsamples import reference

from qa_engine.live.reference import ReferenceRecognizer
from qa_engine.models import CallTranscript
from qa_engine.stt import STTOptions


def raw_http(port: int, head: str, body_parts=(), read_timeout: float = 10.0) -> tuple[int, bytes]:
    """Send a request line and headers as written (no client library fixing them up), then
    the body parts; returns the status code and the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=read_timeout) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n")
        try:
            for part in body_parts:
                sock.sendall(part)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered early and closed: read what it said
        answer = b""
        sock.settimeout(read_timeout)
        try:
            while b"\r\n\r\n" not in answer or not _complete(answer):
                data = sock.recv(65536)
                if not data:
                    break
                answer += data
        except (TimeoutError, ConnectionResetError):
            pass
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
    return status, answer


def _complete(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def wav_bytes(sample_rate: int = 8000, bits: int = 16, data_bytes: int = 16000, channels: int = 1) -> bytes:
    """A PCM WAV of silence whose header says what we like (sample rate, bits)."""
    align = channels * bits // 8
    fmt = struct.pack("<HHIIHH", 1, channels, sample_rate, sample_rate * align, align, bits)
    data = b"\0" * data_bytes
    return (
        b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE"
        + b"fmt " + struct.pack("<I", 16) + fmt
        + b"data" + struct.pack("<I", len(data)) + data
    )


class FileRecognizer(ReferenceRecognizer):
    """'Transcribes' whole files from the reference transcript; counts the calls."""

    options = STTOptions()

    def __init__(self, stt: dict | None = None) -> None:
        super().__init__(reference())
        self.files = 0
        self.stt = stt

    def transcribe(self, path, *, call_id=None, agent_id=None, audio_sha256=None, progress=None) -> CallTranscript:
        self.files += 1
        return reference().model_copy(update={"call_id": call_id, "agent_id": agent_id, "source": "stt", "stt": self.stt})


class SlowFileRecognizer(FileRecognizer):
    """Works on a file 'window by window' (calling `progress`) until released or cancelled."""

    def __init__(self, seconds: float = 30.0) -> None:
        super().__init__()
        self.seconds = seconds
        self.started = threading.Event()
        self.release = threading.Event()
        self.stopped_by: BaseException | None = None

    def transcribe(self, path, *, call_id=None, agent_id=None, audio_sha256=None, progress=None) -> CallTranscript:
        self.started.set()
        deadline = time.monotonic() + self.seconds
        try:
            while not self.release.is_set() and time.monotonic() < deadline:
                if progress is not None:
                    progress(1.0)
                time.sleep(0.05)
        except BaseException as exc:
            self.stopped_by = exc
            raise
        return super().transcribe(path, call_id=call_id, agent_id=agent_id)
