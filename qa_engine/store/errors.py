"""What the store refuses: each error carries the HTTP status the review API answers with."""

from __future__ import annotations


class StoreError(Exception):
    status = 400


class NotFound(StoreError):
    status = 404


class Forbidden(StoreError):
    status = 403


class Conflict(StoreError):
    """Someone changed the object since the caller read it; `current` is what it is now."""

    status = 409

    def __init__(self, message: str, current: dict | None = None) -> None:
        super().__init__(message)
        self.current = current


class Invalid(StoreError):
    status = 422
