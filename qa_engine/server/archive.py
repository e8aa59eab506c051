"""Reports of live calls on disk: written atomically, so a crash never leaves half a file.

A call that ends normally is saved as `<call_id>.report.json`; one whose client vanished
mid-call as `<call_id>.partial.report.json` holding `Session.report()` at that moment
(call-level rules undecided). Audio calls also keep the transcript that was heard.
"""

from __future__ import annotations

from pathlib import Path

from qa_engine.fsutil import safe_name, write_atomic
from qa_engine.models import CallReport, CallTranscript


class Archive:
    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir

    def path(self, call_id: str, partial: bool = False, kind: str = "report") -> Path:
        middle = ".partial" if partial else ""
        return self.out_dir / f"{safe_name(call_id)}{middle}.{kind}.json"

    def save(self, report: CallReport, transcript: CallTranscript | None = None, partial: bool = False) -> Path:
        """Write the report (and transcript); returns the report's path. Blocking (fsync)."""
        if transcript is not None:
            write_atomic(self.path(report.call_id, partial, "transcript"), transcript.model_dump_json(indent=1))
        target = self.path(report.call_id, partial)
        write_atomic(target, report.model_dump_json(indent=1))
        return target
