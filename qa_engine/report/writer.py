"""Write reports as they are made, so an interrupted batch keeps what it finished.

`json`: one `<call_id>.json` per call, each written atomically. `jsonl`: one line per
call in `reports.jsonl`. `csv`: one row per call in `calls.csv`. Each line is appended
whole and flushed to the operating system at once (a killed process loses nothing it
wrote); the file is fsynced at most once a second and when the sink is closed, not per
call (`FSYNC_EVERY_S`; a power cut loses at most that last second, which `--resume` then
scores again). On `--resume` a torn last line is dropped and calls already scored are
skipped. Failed calls are written too (status "failed" and the error), so nothing goes
unrecorded.

Every `calls.csv` (this writer's and the HTML summary's) is written by `csv_text`, in
UTF-8 with a byte-order mark (`CSV_ENCODING`), so Excel opens the Chinese columns correctly.
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from qa_engine.fsutil import safe_name, write_atomic
from qa_engine.models import CallReport

Format = Literal["json", "jsonl", "csv"]

CSV_COLUMNS = [
    "call_id",
    "agent_id",
    "status",
    "score",
    "passed",
    "fatal",
    "findings",
    "duration",
    "deductions_by_category",
    "rules",
    "source",
    "error",
]


CSV_ENCODING = "utf-8-sig"  # the BOM makes Excel read the Chinese columns correctly
FSYNC_EVERY_S = 1.0

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(text: str) -> str:
    """A text cell a spreadsheet will not run as a formula (OWASP CSV injection).

    A cell starting with = + - @ tab or CR gets a leading single quote; so does one that
    already starts with a quote, so `csv_uncell` gives back exactly the original text.
    """
    return "'" + text if text.startswith(_FORMULA_STARTS + ("'",)) else text


def csv_uncell(text: str) -> str:
    """The original text of a cell written by `csv_cell`."""
    return text[1:] if text.startswith("'") and text[1:].startswith(_FORMULA_STARTS + ("'",)) else text


def csv_row(report: CallReport) -> dict[str, str]:
    """The per-call table row (text cells escaped against formula injection)."""
    provenance = report.provenance
    return {
        "call_id": csv_cell(report.call_id),
        "agent_id": csv_cell(report.agent_id or ""),
        "status": report.status,
        "score": "" if report.score is None else f"{report.score:g}",
        "passed": "" if report.passed is None else str(report.passed).lower(),
        "fatal": str(report.fatal).lower(),
        "findings": str(len(report.findings)),
        "duration": f"{report.duration:g}",
        "deductions_by_category": json.dumps(report.category_deductions, ensure_ascii=False),
        "rules": csv_cell(provenance.rules_name or "" if provenance else ""),
        "source": csv_cell(provenance.source or "" if provenance else ""),
        "error": csv_cell(report.error or ""),
    }


def csv_text(rows: Iterable[dict[str, str]], header: bool = True) -> str:
    """CSV lines of per-call rows (`csv_row`), with the header line first unless told not to."""
    buffer = io.StringIO()
    table = csv.DictWriter(buffer, CSV_COLUMNS)
    if header:
        table.writeheader()
    table.writerows(rows)
    return buffer.getvalue()


def write_csv(path: Path, reports: Iterable[CallReport]) -> None:
    """A whole `calls.csv`, sorted by call id, atomically (the HTML batch summary's)."""
    rows = (csv_row(r) for r in sorted(reports, key=lambda r: r.call_id))
    write_atomic(path, csv_text(rows).encode(CSV_ENCODING))


def _complete_lines(path: Path) -> str:
    """The file's text up to its last newline: every line was appended whole with its
    newline, so anything after the last one is a line torn by an interruption (possibly
    in the middle of a multi-byte character). Other undecodable bytes are replaced."""
    data = path.read_bytes()
    data = data[: data.rfind(b"\n") + 1]
    return data.decode(CSV_ENCODING if path.suffix == ".csv" else "utf-8", errors="replace")


class ReportSink:
    """Where reports go; knows which calls an earlier run already scored."""

    def __init__(self, out_dir: Path, fmt: Format = "json", resume: bool = False) -> None:
        self.out_dir = out_dir
        self.format = fmt
        out_dir.mkdir(parents=True, exist_ok=True)
        self.done: set[str] = set()
        self._written: dict[str, int] = {}  # call id -> reports written for it in this run
        self._synced_at = time.monotonic()
        self._unsynced = False
        if fmt == "json":
            self.done = self._scored_json_files() if resume else set()
        else:
            self.path = out_dir / ("reports.jsonl" if fmt == "jsonl" else "calls.csv")
            self._prepare_lines(resume)

    def report_path(self, call_id: str) -> Path:
        return self.out_dir / f"{safe_name(call_id)}.json"

    def write(self, report: CallReport) -> None:
        """Write one report; a second report for the same call id in one run never replaces
        the first (in json format it goes to `<name>~2.json`, `~3` …)."""
        count = self._written.get(report.call_id, 0) + 1
        self._written[report.call_id] = count
        if self.format == "json":
            path = self.report_path(report.call_id)
            if count > 1:
                path = path.with_name(f"{path.stem}~{count}.json")
            write_atomic(path, report.model_dump_json(indent=2))
        elif self.format == "jsonl":
            self._append(report.model_dump_json() + "\n")
        else:
            self._append(csv_text([csv_row(report)], header=False))
        if report.status == "scored":
            self.done.add(report.call_id)

    def previous_reports(self) -> list[CallReport]:
        """Reports of calls an earlier run scored (json and jsonl keep them whole; csv does not)."""
        reports = []
        if self.format == "json":
            candidates = [self.report_path(call_id) for call_id in self.done]
            texts = [p.read_bytes().decode("utf-8", "replace") for p in candidates if p.exists()]
        elif self.format == "jsonl":
            texts = _complete_lines(self.path).splitlines()
        else:
            return []
        for text in texts:
            try:
                report = CallReport.model_validate_json(text)
            except ValueError:
                continue
            if report.call_id in self.done:
                reports.append(report)
        return reports

    def close(self) -> None:
        """Make every appended line durable (fsync); the sink stays usable."""
        if self._unsynced:
            with self.path.open("rb") as written:
                os.fsync(written.fileno())
            self._unsynced = False
        self._synced_at = time.monotonic()

    def __enter__(self) -> ReportSink:
        return self

    def __exit__(self, *_) -> None:
        self.close()

    def _append(self, line: str) -> None:
        """Append one whole line; fsync at most once every `FSYNC_EVERY_S` seconds."""
        with self.path.open("a", encoding="utf-8", newline="") as out:
            out.write(line)
            out.flush()
            self._unsynced = True
            if time.monotonic() - self._synced_at >= FSYNC_EVERY_S:
                os.fsync(out.fileno())
                self._unsynced = False
                self._synced_at = time.monotonic()

    def _scored_json_files(self) -> set[str]:
        done = set()
        for path in self.out_dir.glob("*.json"):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(data, dict) and data.get("status") == "scored" and "call_id" in data:
                done.add(str(data["call_id"]))
        return done

    def _prepare_lines(self, resume: bool) -> None:
        """Keep the complete, scored lines of an earlier run (on resume) and start the file."""
        kept: list[str] = []
        if resume and self.path.exists():
            text = _complete_lines(self.path)
            if self.format == "jsonl":
                for line in text.splitlines():
                    try:
                        data = json.loads(line)
                    except ValueError:
                        continue  # a line torn by the interruption
                    if data.get("status") == "scored":
                        self.done.add(data["call_id"])
                        kept.append(line + "\n")
            else:
                for row in csv.DictReader(io.StringIO(text)):
                    if None in row or any(row.get(c) is None for c in CSV_COLUMNS):
                        continue  # torn row
                    if row["status"] == "scored":
                        self.done.add(csv_uncell(row["call_id"]))
                        kept.append(csv_text([row], header=False))
        if self.format == "csv":
            write_atomic(self.path, (csv_text([]) + "".join(kept)).encode(CSV_ENCODING))
        else:
            write_atomic(self.path, "".join(kept))
