"""Request-body limits for the HTTP endpoints, enforced on the bytes actually received.

The limited endpoints need a Content-Length (curl and httpx send one for files and JSON);
chunked bodies of unknown size are refused with 411 rather than read without bound. A
request with both Content-Length and Transfer-Encoding is ambiguous (the classic request
smuggling shape) and is refused with 400 on every path. Whatever the headers say, the
bytes received are counted: past the limit the body stops being read and the answer is 413.
"""

from __future__ import annotations

import json

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(HTTPException):
    """Raised from `receive` once a body outgrows its limit (FastAPI passes HTTPExceptions on)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"body too large: the limit here is {limit} bytes")


class BodyLimit:
    """ASGI middleware: 400 for CL+TE, 411 without a length, 413 when a body is too big."""

    def __init__(self, app: ASGIApp, limits: dict[str, int]) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        names = [name.lower() for name, _ in scope.get("headers") or []]
        if b"transfer-encoding" in names and b"content-length" in names:
            await _reply(send, 400, "a request must not have both Content-Length and Transfer-Encoding")
            return
        limit = self.limits.get(scope.get("path", ""))
        if limit is None or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        if names.count(b"content-length") != 1:
            await _reply(send, 411, "send the body with one Content-Length header")
            return
        declared = dict(scope.get("headers") or [])[b"content-length"]
        if not declared.isdigit() or int(declared) > limit:
            await _reply(send, 413, f"body too large: the limit here is {limit} bytes")
            return
        await self._limited(scope, receive, send, limit)

    async def _limited(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watch)
        except BodyTooLarge as exc:  # raised where no exception handler turned it into a reply
            if not started:
                await _reply(send, 413, exc.detail)


async def _reply(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
