"""Request-body limits for the HTTP endpoints, enforced before a byte of the body is read.

The limited endpoints need a Content-Length (curl and httpx send one for files and JSON);
chunked bodies of unknown size are refused with 411 rather than read without bound.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send


class BodyLimit:
    """ASGI middleware: 413 when a POST to a limited path declares too big a body."""

    def __init__(self, app: ASGIApp, limits: dict[str, int]) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limits.get(scope.get("path", "")) if scope["type"] == "http" else None
        if limit is None or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is None:
            await _reply(send, 411, "send the body with a Content-Length header")
        elif not declared.isdigit() or int(declared) > limit:
            await _reply(send, 413, f"body too large: the limit here is {limit} bytes")
        else:
            await self.app(scope, receive, send)


async def _reply(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
