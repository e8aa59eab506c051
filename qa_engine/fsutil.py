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


MAX_NAME_BYTES = 150
"""Longest file-name stem (in UTF-8 bytes) made from a call id; suffixes such as
`.transcript.json` must still fit the 255-byte limit of common file systems."""

_HASH_MARK = "~"
"""Never kept from a call id, so a disambiguated name can never equal a kept one."""


def safe_name(text: str) -> str:
    """A call id as a file-name stem: the same for every writer, and collision-free.

    An id made only of letters, digits and ``-_.@`` (not starting or ending with a dot)
    and at most `MAX_NAME_BYTES` long is used as it is. Any other id has its odd
    characters replaced, is shortened to fit, and gets ``~`` and a hash of the full id,
    so `a/b` and `a_b`, `.` and `..`, or two long ids sharing a prefix never share a file.
    Lone surrogates and other unencodable characters are replaced too.
    """
    cleaned = "".join(
        c if (c.isalnum() and not 0xD800 <= ord(c) <= 0xDFFF) or c in "-_.@" else "_" for c in text
    ).strip(".")
    encoded = cleaned.encode("utf-8")
    if cleaned == text and cleaned and len(encoded) <= MAX_NAME_BYTES:
        return cleaned
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    stem = encoded[: MAX_NAME_BYTES - 13].decode("utf-8", "ignore") or "call"
    return f"{stem}{_HASH_MARK}{digest}"
