"""The FastAPI application and how `qa serve` runs it under uvicorn."""

from __future__ import annotations

import asyncio
import logging
import math
import re
import signal
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from qa_engine import __version__
from qa_engine.live.audio import Recognizer
from qa_engine.rulefile import RuleFileError
from qa_engine.server.config import ServerConfig
from qa_engine.server.http import health_router, router
from qa_engine.server.limits import BodyLimit
from qa_engine.server.state import ServerState
from qa_engine.server.stream import stream_endpoint

log = logging.getLogger("qa_engine.server")

DESCRIPTION = """Live and batch call QA for Mandarin customer service (智能质检).

Stream a call over the WebSocket `/v1/stream` (audio frames or transcript events) and get
findings as soon as they are decided, or score a finished call with `POST /v1/score`
(transcript) or `POST /v1/calls` (recording). The protocol: `server/protocol.py` (its models) and README.md, "The WebSocket protocol: `/v1/stream`"."""


def create_app(config: ServerConfig | None = None, *, recognizer: Recognizer | None = None) -> FastAPI:
    """The app; `recognizer` replaces the Whisper transcriber (tests use a fake one)."""
    config = config or ServerConfig()
    state = ServerState(config, recognizer)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.worker.start()
        preload = asyncio.create_task(state.preload()) if config.preload_model else None
        hangup = _install_sighup(state)
        redact_tokens_in_logs()
        try:
            yield
        finally:
            if hangup:
                asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
            if preload:
                preload.cancel()
            state.close()  # uploads stop at their next window: the worker is free to stop
            await asyncio.to_thread(state.worker.stop)

    app = FastAPI(title="qa-engine", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    app.state.qa = state
    app.add_middleware(
        BodyLimit, limits={"/v1/score": config.max_transcript_bytes, "/v1/calls": config.max_upload_bytes}
    )
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.include_router(router)
    app.include_router(health_router)
    app.add_api_websocket_route("/v1/stream", stream_endpoint)
    return app


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's 422, without echoing the input: an input holding NaN or a lone surrogate
    cannot be written as JSON, and the default handler then fails with a 500."""
    detail = [
        {"type": _text(e.get("type", "")), "loc": [_text(p) for p in e.get("loc", ())], "msg": _message(e)}
        for e in exc.errors()[:20]
    ]
    return JSONResponse({"detail": detail}, status_code=422)


def _message(error: dict) -> str | int:
    value = error.get("input")
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value} is not a finite number"
    return _text(error.get("msg", ""))


def _text(value: object) -> str | int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return str(value).encode("utf-8", "backslashreplace").decode("utf-8")[:500]


def _install_sighup(state: ServerState) -> bool:
    """SIGHUP reloads the rule files (main thread only; a broken file keeps the old rules)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGHUP"):
        return False

    def reload() -> None:
        try:
            state.rules.reload()
            log.info("rules reloaded: %s", ", ".join(state.rules.names()))
        except RuleFileError as error:
            log.error("rules NOT reloaded, the old ones stay in use:\n%s", error)

    asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, reload)
    return True


_TOKEN_IN_QUERY = re.compile(r"([?&]token=)[^&\s\"']*", re.IGNORECASE)


class RedactToken(logging.Filter):
    """Replaces `?token=SECRET` with `?token=[redacted]` in log records (uvicorn logs the
    query string of every request and WebSocket)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and "token=" in record.msg.lower():
            record.msg = _TOKEN_IN_QUERY.sub(r"\1[redacted]", record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN_IN_QUERY.sub(r"\1[redacted]", a) if isinstance(a, str) and "token=" in a.lower() else a
                for a in record.args
            )
        return True


def redact_tokens_in_logs() -> None:
    """Install `RedactToken` on uvicorn's loggers and their handlers (once)."""
    for name in ("uvicorn.access", "uvicorn.error", "uvicorn"):
        logger = logging.getLogger(name)
        for target in (logger, *logger.handlers):
            if not any(isinstance(f, RedactToken) for f in target.filters):
                target.addFilter(RedactToken())


def uvicorn_config(app: FastAPI, config: ServerConfig, **overrides):
    """uvicorn settings that go with the protocol's limits (shared by `qa serve` and tests)."""
    import uvicorn

    settings = {
        "host": config.host,
        "port": config.port,
        "ws_max_size": config.ws_max_size,
        "ws_per_message_deflate": False,  # audio does not compress; save the CPU for speech
        "log_level": "info",
        # SIGTERM: requests still running after this are cancelled, uploads with them
        "timeout_graceful_shutdown": config.shutdown_grace_s,
    } | overrides
    return uvicorn.Config(app, **settings)


def serve(config: ServerConfig, recognizer: Recognizer | None = None) -> None:
    """Run the server until interrupted."""
    import uvicorn

    uvicorn.Server(uvicorn_config(create_app(config, recognizer=recognizer), config)).run()
