"""Reports of live calls on disk: written atomically, so a crash never leaves half a file.

A call that ends normally is saved as `<name>.report.json`; one whose client vanished
mid-call as `<name>.partial.report.json` holding `Session.report()` at that moment
(call-level rules undecided). Audio calls also keep the transcript that was heard.

`<name>` is `fsutil.safe_name(call_id)`: the id itself when it is a plain file
name, else a bounded slug plus a hash of the exact id, so two ids never share a file. A
report never overwrites another: a call id used again is saved as `<name>~2.report.json`,
`<name>~3…` (the first free number).
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

from qa_engine.fsutil import safe_name, write_atomic
from qa_engine.models import CallReport, CallTranscript


class Archive:
    def __init__(self, out_dir: Path, on_saved=None) -> None:
        self.out_dir = out_dir
        self._lock = threading.Lock()
        self.on_saved = on_saved
        """Called with (report, transcript) after a finished call is written (`qa serve --db` stores it)."""

    def path(self, call_id: str, partial: bool = False, kind: str = "report", copy: int = 1) -> Path:
        """Where the `copy`-th report (or transcript) of `call_id` goes (1: the first)."""
        middle = ".partial" if partial else ""
        again = f"~{copy}" if copy > 1 else ""
        return self.out_dir / f"{safe_name(call_id)}{again}{middle}.{kind}.json"

    def save(self, report: CallReport, transcript: CallTranscript | None = None, partial: bool = False,
             spoken: CallTranscript | None = None) -> Path:
        """Write the report (and transcript) under a name no earlier call holds; returns the
        report's path. Blocking (fsync). `spoken`: the transcript for `on_saved` only (a
        transcript call's utterances, which are not written as a file)."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        with self._lock:
            copy = 1
            while True:
                target = self.path(report.call_id, partial, copy=copy)
                heard = self.path(report.call_id, partial, "transcript", copy)
                if not target.exists() and not heard.exists():
                    break
                copy += 1
            if transcript is not None:
                write_atomic(heard, transcript.model_dump_json(indent=1))
            while not _write_new(target, report.model_dump_json(indent=1)):  # taken by another process
                copy += 1
                target = self.path(report.call_id, partial, copy=copy)
        if self.on_saved is not None and not partial:
            self.on_saved(report, transcript or spoken)
        return target


def _write_new(target: Path, data: str) -> bool:
    """Write `target` atomically only if it does not exist; False if it does."""
    handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(handle, 0o644)
        with os.fdopen(handle, "wb") as out:
            out.write(data.encode("utf-8"))
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temp, target)
        except FileExistsError:
            return False
        return True
    finally:
        Path(temp).unlink(missing_ok=True)
