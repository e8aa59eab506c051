"""Reading and writing the results database: reports in, review and appeal decisions, lists.

Writes go through SQLAlchemy Core in batches (a thousand calls a second into SQLite or
PostgreSQL); every decision is one transaction that updates the finding only if its
`version` is the one the reviewer saw (a concurrent decision is a `Conflict`, never
silently overwritten), records the review, re-computes the call's score and writes the
audit log.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import and_, exists, func, insert, or_, select, true, tuple_, update
from sqlalchemy.engine import Connection, Engine

from qa_engine.models import CallReport, CallTranscript, Evidence, Finding, MatchInfo, NotChecked, Provenance
from qa_engine.store.db import connect, has_tables, upgrade
from qa_engine.store.schema import Agent, Appeal, AuditEntry, Call, FindingRow, Review, Run, User
from qa_engine.store.scoring import Decided, reviewed_score

CALLS, RUNS, FINDINGS, AGENTS = Call.__table__, Run.__table__, FindingRow.__table__, Agent.__table__
USERS, REVIEWS, APPEALS, AUDIT = User.__table__, Review.__table__, Appeal.__table__, AuditEntry.__table__
CHUNK = 500
DECISIONS = {"confirm": "confirmed", "reject": "rejected", "adjust": "adjusted"}
ROLES = ("admin", "reviewer", "agent")


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


@dataclass
class CallFilter:
    agent: str | None = None
    team: str | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None
    min_score: float | None = None
    max_score: float | None = None
    passed: bool | None = None
    category: str | None = None
    rule: str | None = None
    review_state: str | None = None
    after: str | None = None
    """Keyset cursor: the `next` of the previous page."""
    limit: int = 50


@dataclass
class CallPage:
    rows: list[dict]
    next: str | None


@dataclass
class WriteResult:
    new_calls: int = 0
    new_runs: int = 0
    unchanged: int = 0
    rescored: list[str] = field(default_factory=list)


def fingerprint(report: CallReport) -> str:
    """Identifies a run: the same report written twice is one run (idempotent writes)."""
    return hashlib.sha256(report.model_dump_json().encode("utf-8")).hexdigest()


def _finding_row(finding: Finding, seq: int) -> dict:
    evidence, match = finding.evidence, finding.match
    return {
        "seq": seq,
        "origin": "machine",
        "rule_id": finding.rule_id,
        "category": finding.category,
        "severity": finding.severity,
        "message": finding.message,
        "deduction": finding.deduction,
        "fatal": finding.fatal,
        "speaker": finding.speaker,
        "utterance_index": finding.utterance_index,
        "start": finding.start,
        "end": finding.end,
        "evidence_text": evidence.text if evidence else None,
        "evidence_start": evidence.start_char if evidence else None,
        "evidence_end": evidence.end_char if evidence else None,
        "match_mode": match.mode,
        "match_score": match.score,
        "match_pattern": match.pattern,
        "match_detail": match.detail,
        "decision": "pending",
        "version": 1,
    }


def finding_key(row) -> tuple:
    """What makes a finding "the same" across runs: rule, turn and words."""
    return (row["rule_id"], row["utterance_index"], row["evidence_text"], row["evidence_start"])


def row_to_finding(row) -> Finding:
    evidence = (
        Evidence(text=row["evidence_text"], start_char=row["evidence_start"] or 0, end_char=row["evidence_end"] or 0)
        if row["evidence_text"] is not None
        else None
    )
    return Finding(
        rule_id=row["rule_id"],
        category=row["category"],
        severity=row["severity"],
        message=row["message"],
        deduction=row["deduction"],
        fatal=row["fatal"],
        speaker=row["speaker"],
        utterance_index=row["utterance_index"],
        start=row["start"],
        end=row["end"],
        evidence=evidence,
        match=MatchInfo(mode=row["match_mode"], score=row["match_score"], pattern=row["match_pattern"], detail=row["match_detail"] or ""),
    )


def _chunks(items: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _json_safe(value):
    return json.loads(json.dumps(value, default=str)) if value is not None else None


class Store:
    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        self.engine: Engine = connect(url)
        if migrate:
            upgrade(self.engine)
        elif not has_tables(self.engine):
            raise StoreError(f"{url}: no qa tables; run `qa db upgrade --db {url}`")
        self.dialect = self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ writes

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
                    select(CALLS.c.id, CALLS.c.call_id, CALLS.c.current_run_id).where(CALLS.c.call_id.in_(chunk))
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
                    existing[row["call_id"]] = {"id": row["id"], "call_id": row["call_id"], "current_run_id": None}
                result.new_calls = len(fresh)
            prints = {items[p][0].call_id: fingerprint(items[p][0]) for p in positions}
            known: set[tuple[int, str]] = set()
            pks = [existing[c]["id"] for c in call_ids if existing[c]["current_run_id"] is not None]
            for chunk in _chunks(pks):
                known.update(
                    (r.call_pk, r.fingerprint)
                    for r in conn.execute(select(RUNS.c.call_pk, RUNS.c.fingerprint).where(RUNS.c.call_pk.in_(chunk)))
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
            run_rows = [self._run_values(items[p][0], existing[items[p][0].call_id]["id"], prints[items[p][0].call_id], stamp) for p in todo]
            run_ids = [
                r.id for r in conn.execute(insert(RUNS).returning(RUNS.c.id, sort_by_parameter_order=True), run_rows)
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
                    update(CALLS).where(CALLS.c.id == bindparam("pk")).values({k: bindparam(k) for k in keys}),
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

    def _ensure_agents(self, conn: Connection, agent_ids: set[str]) -> None:
        if not agent_ids:
            return
        have: set[str] = set()
        ids = sorted(agent_ids)
        for chunk in _chunks(ids):
            have.update(r.id for r in conn.execute(select(AGENTS.c.id).where(AGENTS.c.id.in_(chunk))))
        missing = [{"id": a, "name": None, "team": None} for a in ids if a not in have]
        if missing:
            conn.execute(insert(AGENTS), missing)

    @staticmethod
    def _call_values(report: CallReport, transcript: CallTranscript | None, called_at: datetime | None) -> dict:
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

    def _rescore(self, conn: Connection, call_pk: int, old_run: int, new_run: int, values: dict, actor: Actor) -> None:
        """A new run of a known call: carry decisions over, move or close appeals, re-score."""
        old = {
            r["id"]: r
            for r in conn.execute(
                select(FINDINGS).where(FINDINGS.c.call_pk == call_pk, FINDINGS.c.run_id == old_run)
            ).mappings()
        }
        new = list(conn.execute(select(FINDINGS).where(FINDINGS.c.run_id == new_run)).mappings())
        by_key: dict[tuple, list] = defaultdict(list)
        for row in new:
            by_key[finding_key(row)].append(row)
        moved: dict[int, int] = {}
        carried = 0
        for row in old.values():
            if row["origin"] == "reviewer":
                conn.execute(update(FINDINGS).where(FINDINGS.c.id == row["id"]).values(run_id=new_run))
                moved[row["id"]] = row["id"]
                continue
            matches = by_key.get(finding_key(row))
            if not matches:
                continue
            target = matches.pop(0)
            moved[row["id"]] = target["id"]
            if row["decision"] != "pending":
                carried += 1
                conn.execute(
                    update(FINDINGS)
                    .where(FINDINGS.c.id == target["id"])
                    .values(
                        decision=row["decision"],
                        reviewed_deduction=row["reviewed_deduction"],
                        review_reason=row["review_reason"],
                        reviewed_by=row["reviewed_by"],
                        reviewed_at=row["reviewed_at"],
                    )
                )
        closed, followed = [], []
        for appeal in conn.execute(
            select(APPEALS).where(APPEALS.c.call_pk == call_pk, APPEALS.c.state == "open")
        ).mappings():
            target = moved.get(appeal["finding_id"])
            if target is None:
                conn.execute(
                    update(APPEALS)
                    .where(APPEALS.c.id == appeal["id"])
                    .values(state="closed", ruled_by=actor.name, ruled_at=now(), version=APPEALS.c.version + 1,
                            ruling="重新质检后该问题不再出现,申诉自动关闭 (the re-scored call no longer has this finding)")
                )
                closed.append(appeal["id"])
            else:
                conn.execute(update(APPEALS).where(APPEALS.c.id == appeal["id"]).values(finding_id=target))
                followed.append(appeal["id"])
        before = dict(conn.execute(select(CALLS.c.current_run_id, CALLS.c.machine_score, CALLS.c.score).where(CALLS.c.id == call_pk)).mappings().one())
        values = {k: v for k, v in values.items() if k not in ("version", "review_state")}
        conn.execute(update(CALLS).where(CALLS.c.id == call_pk).values(**values, version=CALLS.c.version + 1))
        self._recompute(conn, call_pk)
        after = dict(conn.execute(select(CALLS.c.current_run_id, CALLS.c.machine_score, CALLS.c.score).where(CALLS.c.id == call_pk)).mappings().one())
        after |= {"carried_decisions": carried, "appeals_followed": followed, "appeals_closed": closed}
        self._audit(conn, actor, "call.rescored", "call", call_pk, call_pk, before, after)

    def _recompute(self, conn: Connection, call_pk: int) -> None:
        """The call's reviewed score and review state from its current findings and appeals."""
        call = conn.execute(
            select(CALLS.c.current_run_id, CALLS.c.base_score, CALLS.c.pass_mark, CALLS.c.status).where(CALLS.c.id == call_pk)
        ).mappings().one()
        rows = list(
            conn.execute(
                select(FINDINGS.c.deduction, FINDINGS.c.fatal, FINDINGS.c.decision, FINDINGS.c.reviewed_deduction, FINDINGS.c.origin,
                       FINDINGS.c.rule_id, FINDINGS.c.seq)
                .where(FINDINGS.c.call_pk == call_pk, FINDINGS.c.run_id == call["current_run_id"])
            ).mappings()
        )
        open_appeal = conn.execute(
            select(func.count()).select_from(APPEALS).where(APPEALS.c.call_pk == call_pk, APPEALS.c.state == "open")
        ).scalar_one()
        machine = [r for r in rows if r["origin"] == "machine"]
        decided = [r for r in machine if r["decision"] != "pending"]
        touched = decided or len(machine) < len(rows)
        if open_appeal:
            state = "appealed"
        elif machine and len(decided) == len(machine) or (not machine and touched):
            state = "reviewed"
        elif touched:
            state = "partial"
        else:
            state = "unreviewed"
        values = {"review_state": state, "finding_count": len(rows)}
        if call["status"] == "scored":
            scored = reviewed_score(
                call["base_score"], call["pass_mark"],
                (Decided(r["deduction"], r["fatal"], r["decision"], r["reviewed_deduction"], r["rule_id"], r["origin"], r["seq"])
                 for r in rows),
            )
            values |= {"score": scored.score, "passed": scored.passed, "fatal": scored.fatal}
        conn.execute(update(CALLS).where(CALLS.c.id == call_pk).values(**values))

    def _audit(self, conn: Connection, actor: Actor, action: str, object_type: str, object_id: int | None,
               call_pk: int | None, before: dict | None, after: dict | None) -> None:
        conn.execute(
            insert(AUDIT).values(
                at=now(), actor=actor.name, action=action, object_type=object_type, object_id=object_id,
                call_pk=call_pk, before=_json_safe(before), after=_json_safe(after),
            )
        )

    def set_agent(self, agent_id: str, team: str | None = None, name: str | None = None, actor: Actor = SYSTEM) -> None:
        with self.engine.begin() as conn:
            self._ensure_agents(conn, {agent_id})
            before = dict(conn.execute(select(AGENTS).where(AGENTS.c.id == agent_id)).mappings().one())
            values = {k: v for k, v in {"team": team, "name": name}.items() if v is not None}
            if values:
                conn.execute(update(AGENTS).where(AGENTS.c.id == agent_id).values(**values))
                self._audit(conn, actor, "agent.updated", "agent", None, None, before, before | values)

    # ------------------------------------------------------------------ reads

    def _call_row(self, conn: Connection, call_pk: int, actor: Actor) -> dict:
        row = conn.execute(select(CALLS).where(CALLS.c.id == call_pk)).mappings().first()
        if row is None or (actor.role == "agent" and row["agent_id"] != actor.agent_id):
            raise NotFound(f"no call {call_pk}")  # an agent cannot even learn another agent's call exists
        return dict(row)

    def call_pk(self, call_id: str) -> int:
        with self.engine.connect() as conn:
            pk = conn.execute(select(CALLS.c.id).where(CALLS.c.call_id == call_id)).scalar()
        if pk is None:
            raise NotFound(f"no call '{call_id}'")
        return pk

    def list_calls(self, flt: CallFilter, actor: Actor) -> CallPage:
        query = select(
            CALLS.c.id, CALLS.c.call_id, CALLS.c.agent_id, CALLS.c.called_at, CALLS.c.duration, CALLS.c.status,
            CALLS.c.machine_score, CALLS.c.score, CALLS.c.passed, CALLS.c.fatal, CALLS.c.review_state,
            CALLS.c.finding_count,
        )
        conditions = []
        agent = actor.agent_id if actor.role == "agent" else flt.agent
        if actor.role == "agent" and flt.agent and flt.agent != actor.agent_id:
            return CallPage([], None)
        if agent:
            conditions.append(CALLS.c.agent_id == agent)
        if flt.team:
            conditions.append(CALLS.c.agent_id.in_(select(AGENTS.c.id).where(AGENTS.c.team == flt.team)))
        if flt.date_from:
            conditions.append(CALLS.c.called_at >= flt.date_from)
        if flt.date_to:
            conditions.append(CALLS.c.called_at < flt.date_to)
        if flt.min_score is not None:
            conditions.append(CALLS.c.score >= flt.min_score)
        if flt.max_score is not None:
            conditions.append(CALLS.c.score <= flt.max_score)
        if flt.passed is not None:
            conditions.append(CALLS.c.passed == flt.passed)
        if flt.review_state:
            conditions.append(CALLS.c.review_state == flt.review_state)
        for column, value in ((FINDINGS.c.category, flt.category), (FINDINGS.c.rule_id, flt.rule)):
            if value:
                conditions.append(
                    exists().where(
                        column == value, FINDINGS.c.call_pk == CALLS.c.id, FINDINGS.c.run_id == CALLS.c.current_run_id,
                        FINDINGS.c.decision != "rejected",
                    )
                )
        if flt.after:
            stamp, _, pk = flt.after.partition("|")
            try:
                cursor = (datetime.fromisoformat(stamp), int(pk))
            except ValueError:
                raise Invalid(f"bad page cursor {flt.after!r}") from None
            conditions.append(tuple_(CALLS.c.called_at, CALLS.c.id) < cursor)
        limit = max(1, min(flt.limit, 500))
        query = query.where(and_(true(), *conditions)).order_by(CALLS.c.called_at.desc(), CALLS.c.id.desc()).limit(limit + 1)
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
        more = len(rows) > limit
        rows = rows[:limit]
        cursor = f"{rows[-1]['called_at'].isoformat()}|{rows[-1]['id']}" if more and rows else None
        return CallPage(rows, cursor)

    def call_detail(self, call_pk: int, actor: Actor) -> dict:
        """The call, its current run, findings (with decisions and versions), appeals, runs."""
        with self.engine.connect() as conn:
            call = self._call_row(conn, call_pk, actor)
            run = conn.execute(select(RUNS).where(RUNS.c.id == call["current_run_id"])).mappings().first()
            findings = [
                dict(r)
                for r in conn.execute(
                    select(FINDINGS).where(FINDINGS.c.call_pk == call_pk, FINDINGS.c.run_id == call["current_run_id"])
                    .order_by(FINDINGS.c.origin, FINDINGS.c.seq, FINDINGS.c.id)
                ).mappings()
            ]
            appeals = [dict(r) for r in conn.execute(select(APPEALS).where(APPEALS.c.call_pk == call_pk).order_by(APPEALS.c.id)).mappings()]
            runs = [
                dict(r)
                for r in conn.execute(
                    select(RUNS.c.id, RUNS.c.created_at, RUNS.c.score, RUNS.c.rules_sha256, RUNS.c.rules_name, RUNS.c.engine_version)
                    .where(RUNS.c.call_pk == call_pk).order_by(RUNS.c.id)
                ).mappings()
            ]
            team = conn.execute(select(AGENTS.c.team).where(AGENTS.c.id == call["agent_id"])).scalar() if call["agent_id"] else None
        return {"call": call, "run": dict(run) if run else None, "findings": findings, "appeals": appeals, "runs": runs, "team": team}

    def report_of(self, detail: dict) -> tuple[CallReport, CallTranscript | None]:
        """The machine's report of the current run (as the JSON file had it) and the transcript."""
        call, run = detail["call"], detail["run"] or {}
        machine = [f for f in detail["findings"] if f["origin"] == "machine"]
        report = CallReport(
            call_id=call["call_id"], agent_id=call["agent_id"], status=call["status"], error=run.get("error"),
            score=call["machine_score"], passed=call["machine_passed"], fatal=bool(run.get("fatal")),
            base_score=call["base_score"], pass_mark=call["pass_mark"], duration=call["duration"],
            utterance_count=call["utterance_count"], category_deductions=run.get("category_deductions") or {},
            findings=[row_to_finding(f) for f in machine],
            not_checked=[NotChecked(**n) for n in run.get("not_checked") or []],
            metrics=run.get("metrics"),
            emotions=run.get("emotions") or [],
            provenance=Provenance(
                engine_version=run.get("engine_version") or "", rules_path=run.get("rules_path"),
                rules_sha256=run.get("rules_sha256"), rules_name=run.get("rules_name"), source=run.get("source"),
                stt=run.get("stt"), redaction=run.get("redaction"),
            ),
        )
        transcript = None
        if call["transcript"] is not None:
            transcript = CallTranscript(call_id=call["call_id"], agent_id=call["agent_id"], utterances=call["transcript"], audio=call["audio"])
        return report, transcript

    def audit_log(self, actor: Actor, call_pk: int | None = None, limit: int = 200) -> list[dict]:
        with self.engine.connect() as conn:
            query = select(AUDIT).order_by(AUDIT.c.id.desc()).limit(limit)
            if call_pk is not None:
                self._call_row(conn, call_pk, actor)
                query = query.where(AUDIT.c.call_pk == call_pk)
            elif actor.role == "agent":
                mine = select(CALLS.c.id).where(CALLS.c.agent_id == actor.agent_id)
                query = query.where(AUDIT.c.call_pk.in_(mine))
            return [dict(r) for r in conn.execute(query).mappings()]

    # ------------------------------------------------------------------ decisions

    def _finding(self, conn: Connection, finding_id: int, actor: Actor) -> tuple[dict, dict]:
        row = conn.execute(select(FINDINGS).where(FINDINGS.c.id == finding_id)).mappings().first()
        if row is None:
            raise NotFound(f"no finding {finding_id}")
        call = self._call_row(conn, row["call_pk"], actor)
        if row["run_id"] != call["current_run_id"]:
            raise Conflict(
                f"finding {finding_id} belongs to an earlier run of call {call['call_id']}; the call was re-scored: reload it",
                {"current_run_id": call["current_run_id"]},
            )
        return dict(row), call

    def review(self, finding_id: int, actor: Actor, decision: str, *, version: int, reason: str | None = None,
               deduction: float | None = None) -> dict:
        """Confirm, reject (a false alarm, with a reason) or adjust (new points) a finding.

        `version` is the finding's version the reviewer saw: if someone decided since, this
        raises `Conflict` with the current decision instead of overwriting it.
        """
        if not actor.reviews:
            raise Forbidden(f"{actor.name} ({actor.role}) may not review findings")
        if decision not in DECISIONS:
            raise Invalid(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
        reason = (reason or "").strip() or None
        if decision == "reject" and not reason:
            raise Invalid("a rejected finding needs a reason (why it is a false alarm)")
        if decision == "adjust":
            if deduction is None or not (0 <= deduction <= 1000):
                raise Invalid("adjust needs the new deduction (0 to 1000 points)")
        else:
            deduction = None
        with self.engine.begin() as conn:
            row, call = self._finding(conn, finding_id, actor)
            state = DECISIONS[decision]
            stamp = now()
            changed = conn.execute(
                update(FINDINGS)
                .where(FINDINGS.c.id == finding_id, FINDINGS.c.version == version)
                .values(decision=state, reviewed_deduction=deduction, review_reason=reason, reviewed_by=actor.name,
                        reviewed_at=stamp, version=FINDINGS.c.version + 1)
            ).rowcount
            if changed != 1:
                row = conn.execute(select(FINDINGS).where(FINDINGS.c.id == finding_id)).mappings().one()
                raise Conflict(
                    f"finding {finding_id} was changed by {row['reviewed_by'] or 'someone'} since you loaded it "
                    f"(version {row['version']}, you had {version}): reload and decide again",
                    _decision(row),
                )
            conn.execute(insert(REVIEWS).values(finding_id=finding_id, reviewer=actor.name, decision=state,
                                                deduction=deduction, reason=reason, created_at=stamp))
            before_score = call["score"]
            self._recompute(conn, call["id"])
            after = conn.execute(select(FINDINGS).where(FINDINGS.c.id == finding_id)).mappings().one()
            score = conn.execute(select(CALLS.c.score).where(CALLS.c.id == call["id"])).scalar()
            self._audit(conn, actor, f"finding.{decision}", "finding", finding_id, call["id"],
                        _decision(row) | {"score": before_score}, _decision(after) | {"score": score})
            return _decision(after) | {"score": score}

    def add_missed(self, call_pk: int, actor: Actor, *, rule_id: str, utterance_index: int | None, deduction: float,
                   reason: str | None = None, known_rules: dict[str, dict] | None = None) -> dict:
        """A finding the machine missed, added by a reviewer on an utterance (or the whole call).

        `known_rules` (rule id -> category, severity, message) of the loaded rule sets: a rule
        id not among them (a deleted or mistyped rule) is refused.
        """
        if not actor.reviews:
            raise Forbidden(f"{actor.name} ({actor.role}) may not add findings")
        if not (0 <= deduction <= 1000):
            raise Invalid("deduction must be 0 to 1000 points")
        with self.engine.begin() as conn:
            call = self._call_row(conn, call_pk, actor)
            if known_rules is not None and rule_id not in known_rules:
                raise Invalid(f"no rule '{rule_id}' in the loaded rule sets (deleted or mistyped?)")
            spec = (known_rules or {}).get(rule_id, {})
            utterances = call["transcript"] or []
            if utterance_index is not None and not (0 <= utterance_index < len(utterances)):
                raise Invalid(f"utterance {utterance_index} is not in this call (it has {len(utterances)})")
            turn = utterances[utterance_index] if utterance_index is not None else None
            seq = conn.execute(select(func.coalesce(func.max(FINDINGS.c.seq), -1)).where(FINDINGS.c.call_pk == call_pk)).scalar() + 1
            stamp = now()
            values = {
                "run_id": call["current_run_id"], "call_pk": call_pk, "seq": seq, "origin": "reviewer", "rule_id": rule_id,
                "category": spec.get("category", rule_id.split(".")[0]), "severity": spec.get("severity", "major"),
                "message": reason or spec.get("message", "人工补充的漏检问题"), "deduction": deduction,
                "fatal": False, "speaker": turn["speaker"] if turn else None, "utterance_index": utterance_index,
                "start": turn["start"] if turn else None, "end": turn["end"] if turn else None,
                "evidence_text": turn["text"] if turn else None, "evidence_start": 0 if turn else None,
                "evidence_end": len(turn["text"]) if turn else None, "match_mode": "manual", "match_score": None,
                "match_pattern": None, "match_detail": f"复核员 {actor.name} 补充", "decision": "confirmed",
                "reviewed_deduction": None, "review_reason": reason, "reviewed_by": actor.name, "reviewed_at": stamp,
                "version": 1,
            }
            finding_id = conn.execute(insert(FINDINGS).returning(FINDINGS.c.id), [values]).scalar_one()
            conn.execute(insert(REVIEWS).values(finding_id=finding_id, reviewer=actor.name, decision="added",
                                                deduction=deduction, reason=reason, created_at=stamp))
            self._recompute(conn, call_pk)
            score = conn.execute(select(CALLS.c.score).where(CALLS.c.id == call_pk)).scalar()
            self._audit(conn, actor, "finding.added", "finding", finding_id, call_pk, {"score": call["score"]},
                        {"rule_id": rule_id, "utterance_index": utterance_index, "deduction": deduction,
                         "reason": reason, "score": score})
            return {"id": finding_id, "score": score}

    def appeal(self, finding_id: int, actor: Actor, reason: str) -> dict:
        """An agent appeals a finding on one of their own calls."""
        if actor.role != "agent":
            raise Forbidden("only the agent of a call may appeal its findings")
        reason = (reason or "").strip()
        if not reason:
            raise Invalid("an appeal needs a reason")
        with self.engine.begin() as conn:
            row, call = self._finding(conn, finding_id, actor)
            if row["decision"] == "rejected":
                raise Invalid("this finding was already withdrawn: there is nothing to appeal")
            open_ = conn.execute(
                select(APPEALS.c.id).where(APPEALS.c.finding_id == finding_id, APPEALS.c.state == "open")
            ).scalar()
            if open_ is not None:
                raise Conflict(f"finding {finding_id} already has an open appeal ({open_})", {"appeal_id": open_})
            stamp = now()
            appeal_id = conn.execute(
                insert(APPEALS).returning(APPEALS.c.id),
                [{"finding_id": finding_id, "call_pk": call["id"], "appellant": actor.name, "reason": reason,
                  "state": "open", "created_at": stamp, "version": 1}],
            ).scalar_one()
            self._recompute(conn, call["id"])
            self._audit(conn, actor, "appeal.opened", "appeal", appeal_id, call["id"], None,
                        {"finding_id": finding_id, "reason": reason, "state": "open"})
            return {"id": appeal_id, "state": "open", "version": 1}

    def rule_appeal(self, appeal_id: int, actor: Actor, ruling: str, *, version: int, reason: str | None = None) -> dict:
        """A reviewer rules: `uphold` (the finding stands) or `overturn` (the finding is withdrawn)."""
        if not actor.reviews:
            raise Forbidden(f"{actor.name} ({actor.role}) may not rule on appeals")
        if ruling not in ("uphold", "overturn"):
            raise Invalid(f"ruling must be uphold or overturn, not {ruling!r}")
        reason = (reason or "").strip() or None
        with self.engine.begin() as conn:
            appeal = conn.execute(select(APPEALS).where(APPEALS.c.id == appeal_id)).mappings().first()
            if appeal is None:
                raise NotFound(f"no appeal {appeal_id}")
            if appeal["state"] != "open":
                raise Conflict(f"appeal {appeal_id} is already {appeal['state']}", dict(appeal))
            row, call = self._finding(conn, appeal["finding_id"], actor)
            state = "upheld" if ruling == "uphold" else "overturned"
            stamp = now()
            changed = conn.execute(
                update(APPEALS)
                .where(APPEALS.c.id == appeal_id, APPEALS.c.version == version, APPEALS.c.state == "open")
                .values(state=state, ruled_by=actor.name, ruling=reason, ruled_at=stamp, version=APPEALS.c.version + 1)
            ).rowcount
            if changed != 1:
                raise Conflict(f"appeal {appeal_id} was changed since you loaded it: reload", dict(appeal))
            decision = "rejected" if ruling == "overturn" else ("confirmed" if row["decision"] == "pending" else row["decision"])
            why = f"申诉成立: {reason or appeal['reason']}" if ruling == "overturn" else (row["review_reason"] or reason)
            conn.execute(
                update(FINDINGS).where(FINDINGS.c.id == row["id"]).values(
                    decision=decision, review_reason=why, reviewed_by=actor.name, reviewed_at=stamp,
                    version=FINDINGS.c.version + 1)
            )
            conn.execute(insert(REVIEWS).values(finding_id=row["id"], reviewer=actor.name, decision=decision,
                                                deduction=row["reviewed_deduction"], reason=why, created_at=stamp))
            before_score = call["score"]
            self._recompute(conn, call["id"])
            score = conn.execute(select(CALLS.c.score).where(CALLS.c.id == call["id"])).scalar()
            self._audit(conn, actor, f"appeal.{state}", "appeal", appeal_id, call["id"],
                        {"state": "open", "finding": _decision(row), "score": before_score},
                        {"state": state, "ruling": reason, "finding_decision": decision, "score": score})
            return {"id": appeal_id, "state": state, "score": score}

    # ------------------------------------------------------------------ users

    def add_user(self, name: str, role: str, *, password: str | None = None, agent_id: str | None = None,
                 token: str | None = None, actor: Actor = SYSTEM) -> dict:
        from qa_engine.store.accounts import hash_password, hash_token

        if role not in ROLES:
            raise Invalid(f"role must be one of {', '.join(ROLES)}")
        if role == "agent" and not agent_id:
            raise Invalid("an agent user needs the agent id whose calls they see (--agent)")
        with self.engine.begin() as conn:
            if conn.execute(select(USERS.c.id).where(USERS.c.name == name)).scalar() is not None:
                raise Conflict(f"user {name!r} exists")
            if agent_id:
                self._ensure_agents(conn, {agent_id})
            user_id = conn.execute(
                insert(USERS).returning(USERS.c.id),
                [{"name": name, "role": role, "agent_id": agent_id, "created_at": now(),
                  "password_hash": hash_password(password) if password else None,
                  "token_hash": hash_token(token) if token else None}],
            ).scalar_one()
            self._audit(conn, actor, "user.added", "user", user_id, None, None, {"name": name, "role": role, "agent_id": agent_id})
        return {"id": user_id, "name": name, "role": role}

    def user_by_token(self, token: str) -> Actor | None:
        from qa_engine.store.accounts import hash_token

        with self.engine.connect() as conn:
            row = conn.execute(select(USERS).where(USERS.c.token_hash == hash_token(token))).mappings().first()
        return Actor(row["name"], row["role"], row["agent_id"]) if row else None

    def login(self, name: str, password: str) -> Actor | None:
        from qa_engine.store.accounts import verify_password

        with self.engine.connect() as conn:
            row = conn.execute(select(USERS).where(USERS.c.name == name)).mappings().first()
        if row is None or not row["password_hash"] or not verify_password(password, row["password_hash"]):
            return None
        return Actor(row["name"], row["role"], row["agent_id"])

    # ------------------------------------------------------------------ labels for the rule tools

    def reviewed_findings(self) -> list[dict]:
        """Every decided finding of current runs (machine ones decided, reviewer-added ones)."""
        query = (
            select(FINDINGS, CALLS.c.call_id, CALLS.c.transcript)
            .join(CALLS, and_(CALLS.c.id == FINDINGS.c.call_pk, CALLS.c.current_run_id == FINDINGS.c.run_id))
            .where(or_(FINDINGS.c.decision != "pending", FINDINGS.c.origin == "reviewer"))
        )
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def reviewed_calls(self) -> list[CallTranscript]:
        """Transcripts of the calls whose every machine finding was decided (`reviewed`)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(CALLS.c.call_id, CALLS.c.agent_id, CALLS.c.transcript)
                .where(CALLS.c.review_state == "reviewed", CALLS.c.transcript.is_not(None))
            ).mappings()
            return [CallTranscript(call_id=r["call_id"], agent_id=r["agent_id"], utterances=r["transcript"]) for r in rows]


def _utterances(transcript: CallTranscript) -> list[dict]:
    return transcript.model_dump(include={"utterances"})["utterances"]


def _decision(row) -> dict:
    return {
        "id": row["id"], "decision": row["decision"], "reviewed_deduction": row["reviewed_deduction"],
        "review_reason": row["review_reason"], "reviewed_by": row["reviewed_by"], "version": row["version"],
    }
