"""Atomic file writes: a crash or a kill never leaves half a report or half a model."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def write_atomic(target: Path, data: str | bytes) -> None:
    """Write to a temporary file beside `target`, fsync, then rename over it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(handle, 0o644)  # mkstemp makes 0600; reports and models are meant to be shared
        with os.fdopen(handle, "wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def safe_name(text: str) -> str:
    """A call id as a file name: path separators and odd characters replaced."""
    cleaned = "".join(c if c.isalnum() or c in "-_.@" else "_" for c in text).strip(".")
    return cleaned[:150] or "call"


_SLUG_BYTES = 120  # leaves room for suffixes under the 255-byte file-name limit


def safe_call_filename(call_id: str) -> str:
    """A call id as a file-name stem that no other call id maps to.

    An id made only of letters, digits and `-_.@` (no leading or trailing dot), at most 120
    bytes of UTF-8, is its own name. Any other id becomes a readable slug of at most 120
    bytes plus `~` and 16 hex digits of the sha256 of the exact id: `~` never occurs in an
    id kept as is, so `x/y` and `x_y` (or two long ids sharing a prefix) never collide.
    """
    slug = "".join(c if (c.isalnum() and c.isprintable()) or c in "-_.@" else "_" for c in call_id).strip(".")
    encoded = slug.encode("utf-8")
    if len(encoded) > _SLUG_BYTES:
        slug = encoded[:_SLUG_BYTES].decode("utf-8", "ignore")
    if slug and slug == call_id:
        return slug
    digest = hashlib.sha256(call_id.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{slug or 'call'}~{digest}"
