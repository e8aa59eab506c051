"""Atomic file writes: a crash or a kill never leaves half a report or half a model."""

from __future__ import annotations

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
