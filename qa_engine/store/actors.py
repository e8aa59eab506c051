"""Who acts on the store (a review-page user or a tool) and the timestamp every write records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user of the review pages, or a tool (`qa score`, `qa serve`)."""

    name: str
    role: str
    agent_id: str | None = None

    @property
    def reviews(self) -> bool:
        return self.role in ("admin", "reviewer")


SYSTEM = Actor("system", "admin")
