"""Getting reports into the database: as a batch finishes calls, from a live server, from files.

`StoreWriter` buffers finished calls and writes them in batches (one transaction per
batch, or every `flush_seconds`), so `qa score --db` stores a thousand calls a second.
Writes are idempotent (a report stored before is skipped), so a resumed or repeated
run stores each call's run once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from qa_engine.models import CallReport, CallTranscript
from qa_engine.store.repo import Store, WriteResult


class StoreWriter:
    def __init__(self, store: Store, batch: int = 500, flush_seconds: float = 2.0) -> None:
        self.store = store
        self.batch = batch
        self.flush_seconds = flush_seconds
        self._items: list[tuple[CallReport, CallTranscript | None]] = []
        self._dates: list[datetime | None] = []
        self._last = time.monotonic()
        self.total = WriteResult()

    def add(self, report: CallReport, transcript: CallTranscript | None = None, called_at: datetime | None = None) -> None:
        self._items.append((report, transcript))
        self._dates.append(called_at)
        if len(self._items) >= self.batch or time.monotonic() - self._last >= self.flush_seconds:
            self.flush()

    def flush(self) -> None:
        if self._items:
            result = self.store.write_reports(self._items, self._dates)
            self.total.new_calls += result.new_calls
            self.total.new_runs += result.new_runs
            self.total.unchanged += result.unchanged
            self.total.rescored += result.rescored
        self._items, self._dates = [], []
        self._last = time.monotonic()

    def close(self) -> WriteResult:
        self.flush()
        return self.total


@dataclass
class ImportProblem:
    path: Path
    error: str


def read_reports(folder: Path) -> Iterator[tuple[CallReport, CallTranscript | None, datetime, Path] | ImportProblem]:
    """Reports under `folder`: `<name>.json` / `<name>.report.json` files (with a
    `<name>.transcript.json` beside them when there is one) and `reports.jsonl`.
    Partial reports of interrupted live calls are left out."""
    for path in sorted(Path(folder).rglob("*")):
        name = path.name
        if not path.is_file() or name.startswith(".") or ".partial." in name or name.endswith(".transcript.json"):
            continue
        if name.endswith(".jsonl"):
            stamp = datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(tzinfo=None, microsecond=0)
            with path.open(encoding="utf-8") as lines:
                for number, line in enumerate(lines, 1):
                    if line.strip():
                        try:
                            yield CallReport.model_validate_json(line), None, stamp, path
                        except ValidationError as error:
                            yield ImportProblem(path, f"line {number}: {error.errors()[0]['msg']}")
            continue
        if not name.endswith(".json"):
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            yield ImportProblem(path, str(error))
            continue
        if not isinstance(data, dict) or "call_id" not in data or "utterances" in data:
            continue  # a transcript or something else, not a report
        try:
            report = CallReport.model_validate(data)
        except ValidationError as error:
            yield ImportProblem(path, str(error.errors()[0]["msg"]))
            continue
        stem = name[: -len(".report.json")] if name.endswith(".report.json") else name[: -len(".json")]
        transcript = None
        beside = path.with_name(f"{stem}.transcript.json")
        if beside.exists():
            try:
                transcript = CallTranscript.model_validate_json(beside.read_text(encoding="utf-8"))
            except (OSError, ValidationError):
                transcript = None
        stamp = datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(tzinfo=None, microsecond=0)
        yield report, transcript, stamp, path


def import_folder(store: Store, folder: Path, transcripts: Path | None = None) -> tuple[WriteResult, list[ImportProblem]]:
    """Load every report under `folder`; transcripts by call id from `transcripts` when given."""
    by_id: dict[str, CallTranscript] = {}
    if transcripts is not None:
        from qa_engine.inputs import iter_calls

        for source in iter_calls([transcripts], []):
            if source.transcript is not None:
                by_id[source.transcript.call_id] = source.transcript
    writer = StoreWriter(store, flush_seconds=3600)
    problems: list[ImportProblem] = []
    for item in read_reports(folder):
        if isinstance(item, ImportProblem):
            problems.append(item)
            continue
        report, transcript, stamp, _ = item
        writer.add(report, transcript or by_id.get(report.call_id), stamp)
    return writer.close(), problems
