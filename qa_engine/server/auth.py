"""Optional bearer token, the same on HTTP and WebSocket.

Browsers cannot set headers on a WebSocket, so `/v1/stream` also takes `?token=`.
Comparison is constant-time. `/healthz` stays open for load-balancer probes.
"""

from __future__ import annotations

import hmac


class TokenCheck:
    def __init__(self, token: str | None) -> None:
        self.token = token

    @property
    def required(self) -> bool:
        return bool(self.token)

    def allows(self, authorization: str | None = None, query_token: str | None = None) -> bool:
        if not self.token:
            return True
        offered = query_token
        if authorization and authorization[:7].lower() == "bearer ":
            offered = authorization[7:].strip()
        return offered is not None and hmac.compare_digest(offered.encode(), self.token.encode())
