"""Writing reports: calls, runs and findings in batches, a new run of a known call re-scored."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from qa_engine.models import CallReport, CallTranscript, Provenance
from qa_engine.store.actors import SYSTEM, Actor, now
from qa_engine.store.rescore import RescoreMixin
from qa_engine.store.rows import (
    CALLS,
    FINDINGS,
    RUNS,
    _chunks,
    _finding_row,
    _json_safe,
    _utterances,
    fingerprint,
)


@dataclass
class WriteResult:
    new_calls: int = 0
    new_runs: int = 0
    unchanged: int = 0
    rescored: list[str] = field(default_factory=list)


class WritesMixin(RescoreMixin):
    def write_reports(
        self,
        items: Sequence[tuple[CallReport, CallTranscript | None]],
        called_at: datetime | Sequence[datetime | None] | None = None,
        actor: Actor = SYSTEM,
    ) -> WriteResult:
        """Store reports (one run each) in one transaction; a report already stored is skipped.

        A call seen before gets a new run; review decisions on findings the new run finds
        again carry over, open appeals follow their finding (or close when it is gone).
        """
        result = WriteResult()
        if not items:
            return result
        stamp = now()
        dates = called_at if isinstance(called_at, (list, tuple)) else [called_at] * len(items)
        latest: dict[str, int] = {}
        for position, (report, _) in enumerate(items):
            latest[report.call_id] = position  # a call twice in one batch: the last report wins
        positions = sorted(latest.values())
        with self.engine.begin() as conn:
            self._ensure_agents(conn, {items[p][0].agent_id for p in positions} - {None})
            call_ids = [items[p][0].call_id for p in positions]
            existing: dict[str, dict] = {}
            for chunk in _chunks(call_ids):
                for row in conn.execute(
                    select(CALLS.c.id, CALLS.c.call_id, CALLS.c.current_run_id).where(
                        CALLS.c.call_id.in_(chunk)
                    )
                ).mappings():
                    existing[row["call_id"]] = dict(row)
            fresh = []
            for p in positions:
                report, transcript = items[p]
                if report.call_id not in existing:
                    fresh.append(self._call_values(report, transcript, dates[p] or stamp))
            if fresh:
                inserted = conn.execute(
                    insert(CALLS).returning(CALLS.c.id, CALLS.c.call_id, sort_by_parameter_order=True), fresh
                ).mappings()
                for row in inserted:
                    existing[row["call_id"]] = {
                        "id": row["id"],
                        "call_id": row["call_id"],
                        "current_run_id": None,
                    }
                result.new_calls = len(fresh)
            prints = {items[p][0].call_id: fingerprint(items[p][0]) for p in positions}
            known: set[tuple[int, str]] = set()
            pks = [existing[c]["id"] for c in call_ids if existing[c]["current_run_id"] is not None]
            for chunk in _chunks(pks):
                known.update(
                    (r.call_pk, r.fingerprint)
                    for r in conn.execute(
                        select(RUNS.c.call_pk, RUNS.c.fingerprint).where(RUNS.c.call_pk.in_(chunk))
                    )
                )
            todo = []
            for p in positions:
                report = items[p][0]
                call = existing[report.call_id]
                if (call["id"], prints[report.call_id]) in known:
                    result.unchanged += 1
                else:
                    todo.append(p)
            if not todo:
                return result
            run_rows = [
                self._run_values(
                    items[p][0], existing[items[p][0].call_id]["id"], prints[items[p][0].call_id], stamp
                )
                for p in todo
            ]
            run_ids = [
                r.id
                for r in conn.execute(
                    insert(RUNS).returning(RUNS.c.id, sort_by_parameter_order=True), run_rows
                )
            ]
            result.new_runs = len(run_ids)
            finding_rows = []
            for p, run_id in zip(todo, run_ids, strict=True):
                report = items[p][0]
                call_pk = existing[report.call_id]["id"]
                for seq, finding in enumerate(report.findings):
                    finding_rows.append(_finding_row(finding, seq) | {"run_id": run_id, "call_pk": call_pk})
            self._insert_findings(conn, finding_rows)
            plain_updates = []
            for p, run_id in zip(todo, run_ids, strict=True):
                report, transcript = items[p]
                call = existing[report.call_id]
                values = self._call_values(report, None, None) | {"current_run_id": run_id}
                if transcript is not None and call["current_run_id"] is not None:
                    values |= {"transcript": _utterances(transcript), "audio": transcript.audio}
                values.pop("called_at")
                values.pop("call_id")
                if transcript is None or call["current_run_id"] is None:  # a new call got it on insert
                    values.pop("transcript")
                    values.pop("audio")
                if call["current_run_id"] is None:
                    plain_updates.append({"pk": call["id"], **values})
                else:
                    self._rescore(conn, call["id"], call["current_run_id"], run_id, values, actor)
                    result.rescored.append(report.call_id)
            if plain_updates:
                from sqlalchemy import bindparam

                keys = [k for k in plain_updates[0] if k != "pk"]
                conn.execute(
                    update(CALLS)
                    .where(CALLS.c.id == bindparam("pk"))
                    .values({k: bindparam(k) for k in keys}),
                    plain_updates,
                )
        return result

    def _insert_findings(self, conn: Connection, rows: list[dict]) -> None:
        """Many findings at once: COPY on PostgreSQL (several times faster than INSERTs), else executemany."""
        if not rows:
            return
        if self.dialect == "postgresql":
            columns = list(rows[0])
            names = ", ".join(f'"{c}"' for c in columns)
            cursor = conn.connection.dbapi_connection.cursor()
            with cursor.copy(f"COPY findings ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([row[c] for c in columns])
            return
        for chunk in _chunks(rows, 5000):
            conn.execute(insert(FINDINGS), list(chunk))

    @staticmethod
    def _call_values(
        report: CallReport, transcript: CallTranscript | None, called_at: datetime | None
    ) -> dict:
        return {
            "call_id": report.call_id,
            "agent_id": report.agent_id,
            "called_at": called_at,
            "duration": report.duration,
            "utterance_count": report.utterance_count,
            "finding_count": len(report.findings),
            "transcript": _utterances(transcript) if transcript else None,
            "audio": transcript.audio if transcript else None,
            "status": report.status,
            "base_score": report.base_score,
            "pass_mark": report.pass_mark,
            "machine_score": report.score,
            "machine_passed": report.passed,
            "score": report.score,
            "passed": report.passed,
            "fatal": report.fatal,
            "review_state": "unreviewed",
            "version": 1,
        }

    @staticmethod
    def _run_values(report: CallReport, call_pk: int, print_: str, stamp: datetime) -> dict:
        prov = report.provenance or Provenance(engine_version="")
        return {
            "call_pk": call_pk,
            "fingerprint": print_,
            "created_at": stamp,
            "status": report.status,
            "error": report.error,
            "score": report.score,
            "passed": report.passed,
            "fatal": report.fatal,
            "base_score": report.base_score,
            "pass_mark": report.pass_mark,
            "category_deductions": report.category_deductions,
            "not_checked": [n.model_dump() for n in report.not_checked],
            "engine_version": prov.engine_version or None,
            "rules_name": prov.rules_name,
            "rules_path": prov.rules_path,
            "rules_sha256": prov.rules_sha256,
            "source": prov.source,
            "stt": _json_safe(prov.model_dump(mode="json")["stt"]),
            "redaction": _json_safe(prov.redaction),
            "metrics": report.metrics.model_dump(mode="json") if report.metrics is not None else None,
            "emotions": [e.model_dump(mode="json") for e in report.emotions] or None,
        }
