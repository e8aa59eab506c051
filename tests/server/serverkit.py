"""A real server on a loopback port (uvicorn in a thread), with a stand-in recognizer.

Not a conftest.py: a second module named conftest would shadow tests/conftest.py for
the tests that import from it. Test modules load it with `pytest_plugins = ["serverkit"]`
and never import it themselves (constants live in callsamples.py).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from callsamples import reference

from qa_engine.live.reference import ReferenceRecognizer
from qa_engine.server import ServerConfig, create_app, uvicorn_config
from qa_engine.server.state import ServerState


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    port: int
    state: ServerState
    out_dir: Path

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/stream"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class _Running:
    def __init__(self, config: ServerConfig, recognizer) -> None:
        port = free_port()
        self.app = create_app(config.model_copy(update={"port": port}), recognizer=recognizer)
        self.server = uvicorn.Server(uvicorn_config(self.app, config, port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("test server did not start")
            time.sleep(0.02)
        self.live = LiveServer(port, self.app.state.qa, config.out_dir)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def start_server(tmp_path) -> Iterator:
    """Start servers with a given config (out_dir defaults to tmp); all are stopped afterwards."""
    running: list[_Running] = []

    def start(recognizer=None, **overrides) -> LiveServer:
        settings = {"out_dir": tmp_path / "out", "preload_model": False} | overrides
        server = _Running(ServerConfig(**settings), recognizer or ReferenceRecognizer(reference()))
        running.append(server)
        return server.live

    yield start
    for server in running:
        server.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[LiveServer]:
    """One shared server, default rules, reference recognizer for audio_forbidden_02."""
    out = tmp_path_factory.mktemp("out")
    running = _Running(ServerConfig(out_dir=out, preload_model=False), ReferenceRecognizer(reference()))
    yield running.live
    running.stop()
