"""Reading the store: call lists (filtered, keyset-paged), a call's detail and report, audit log, labels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, or_, select, true, tuple_

from qa_engine.models import CallReport, CallTranscript, NotChecked, Provenance
from qa_engine.store.actors import Actor
from qa_engine.store.base import StoreBase
from qa_engine.store.errors import Invalid, NotFound
from qa_engine.store.rows import AGENTS, APPEALS, AUDIT, CALLS, FINDINGS, RUNS, row_to_finding


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


class QueriesMixin(StoreBase):
    def call_pk(self, call_id: str) -> int:
        with self.engine.connect() as conn:
            pk = conn.execute(select(CALLS.c.id).where(CALLS.c.call_id == call_id)).scalar()
        if pk is None:
            raise NotFound(f"no call '{call_id}'")
        return pk

    def list_calls(self, flt: CallFilter, actor: Actor) -> CallPage:
        query = select(
            CALLS.c.id,
            CALLS.c.call_id,
            CALLS.c.agent_id,
            CALLS.c.called_at,
            CALLS.c.duration,
            CALLS.c.status,
            CALLS.c.machine_score,
            CALLS.c.score,
            CALLS.c.passed,
            CALLS.c.fatal,
            CALLS.c.review_state,
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
                        column == value,
                        FINDINGS.c.call_pk == CALLS.c.id,
                        FINDINGS.c.run_id == CALLS.c.current_run_id,
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
        query = (
            query.where(and_(true(), *conditions))
            .order_by(CALLS.c.called_at.desc(), CALLS.c.id.desc())
            .limit(limit + 1)
        )
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
                    select(FINDINGS)
                    .where(FINDINGS.c.call_pk == call_pk, FINDINGS.c.run_id == call["current_run_id"])
                    .order_by(FINDINGS.c.origin, FINDINGS.c.seq, FINDINGS.c.id)
                ).mappings()
            ]
            appeals = [
                dict(r)
                for r in conn.execute(
                    select(APPEALS).where(APPEALS.c.call_pk == call_pk).order_by(APPEALS.c.id)
                ).mappings()
            ]
            runs = [
                dict(r)
                for r in conn.execute(
                    select(
                        RUNS.c.id,
                        RUNS.c.created_at,
                        RUNS.c.score,
                        RUNS.c.rules_sha256,
                        RUNS.c.rules_name,
                        RUNS.c.engine_version,
                    )
                    .where(RUNS.c.call_pk == call_pk)
                    .order_by(RUNS.c.id)
                ).mappings()
            ]
            team = (
                conn.execute(select(AGENTS.c.team).where(AGENTS.c.id == call["agent_id"])).scalar()
                if call["agent_id"]
                else None
            )
        return {
            "call": call,
            "run": dict(run) if run else None,
            "findings": findings,
            "appeals": appeals,
            "runs": runs,
            "team": team,
        }

    def report_of(self, detail: dict) -> tuple[CallReport, CallTranscript | None]:
        """The machine's report of the current run (as the JSON file had it) and the transcript."""
        call, run = detail["call"], detail["run"] or {}
        machine = [f for f in detail["findings"] if f["origin"] == "machine"]
        report = CallReport(
            call_id=call["call_id"],
            agent_id=call["agent_id"],
            status=call["status"],
            error=run.get("error"),
            score=call["machine_score"],
            passed=call["machine_passed"],
            fatal=bool(run.get("fatal")),
            base_score=call["base_score"],
            pass_mark=call["pass_mark"],
            duration=call["duration"],
            utterance_count=call["utterance_count"],
            category_deductions=run.get("category_deductions") or {},
            findings=[row_to_finding(f) for f in machine],
            not_checked=[NotChecked(**n) for n in run.get("not_checked") or []],
            metrics=run.get("metrics"),
            emotions=run.get("emotions") or [],
            provenance=Provenance(
                engine_version=run.get("engine_version") or "",
                rules_path=run.get("rules_path"),
                rules_sha256=run.get("rules_sha256"),
                rules_name=run.get("rules_name"),
                source=run.get("source"),
                stt=run.get("stt"),
                redaction=run.get("redaction"),
            ),
        )
        transcript = None
        if call["transcript"] is not None:
            transcript = CallTranscript(
                call_id=call["call_id"],
                agent_id=call["agent_id"],
                utterances=call["transcript"],
                audio=call["audio"],
            )
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
                select(CALLS.c.call_id, CALLS.c.agent_id, CALLS.c.transcript).where(
                    CALLS.c.review_state == "reviewed", CALLS.c.transcript.is_not(None)
                )
            ).mappings()
            return [
                CallTranscript(call_id=r["call_id"], agent_id=r["agent_id"], utterances=r["transcript"])
                for r in rows
            ]
