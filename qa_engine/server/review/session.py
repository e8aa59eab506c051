"""Who is asking: a signed session cookie (the login form) or a user's bearer token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from fastapi import HTTPException, Request

from qa_engine.store import Actor

COOKIE = "qa_review"
LIFETIME_S = 12 * 3600


def _sign(secret: bytes, payload: str) -> str:
    return hmac.new(secret, payload.encode("utf-8"), hashlib.sha256).hexdigest()


def issue(secret: bytes, actor: Actor) -> str:
    payload = "\x1f".join([actor.name, actor.role, actor.agent_id or "", str(int(time.time()) + LIFETIME_S)])
    encoded = base64.urlsafe_b64encode(payload.encode("utf-8")).decode()
    return f"{encoded}.{_sign(secret, payload)}"


def read(secret: bytes, cookie: str | None) -> Actor | None:
    if not cookie or "." not in cookie:
        return None
    encoded, signature = cookie.rsplit(".", 1)
    try:
        payload = base64.urlsafe_b64decode(encoded.encode()).decode("utf-8")
        name, role, agent_id, expires = payload.split("\x1f")
    except (ValueError, UnicodeDecodeError):
        return None
    if not hmac.compare_digest(signature, _sign(secret, payload)) or int(expires) < time.time():
        return None
    return Actor(name, role, agent_id or None)


def current_actor(request: Request) -> Actor | None:
    state = request.app.state.qa
    authorization = request.headers.get("authorization", "")
    if authorization[:7].lower() == "bearer ":
        return state.store.user_by_token(authorization[7:].strip())
    return read(state.session_secret, request.cookies.get(COOKIE))


def require_actor(request: Request) -> Actor:
    actor = current_actor(request)
    if actor is None:
        if request.url.path.startswith("/review/api/"):
            raise HTTPException(401, "log in or send a user's bearer token", headers={"WWW-Authenticate": "Bearer"})
        raise HTTPException(303, headers={"Location": "/review/login"})
    return actor
