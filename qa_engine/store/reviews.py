"""Decisions on findings: a reviewer's review, a missed finding added, an agent's appeal and its ruling."""

from __future__ import annotations

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from qa_engine.store.actors import Actor, now
from qa_engine.store.errors import Conflict, Forbidden, Invalid, NotFound
from qa_engine.store.rescore import RescoreMixin
from qa_engine.store.rows import APPEALS, CALLS, FINDINGS, REVIEWS, _decision

DECISIONS = {"confirm": "confirmed", "reject": "rejected", "adjust": "adjusted"}


class ReviewsMixin(RescoreMixin):
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

    def review(
        self,
        finding_id: int,
        actor: Actor,
        decision: str,
        *,
        version: int,
        reason: str | None = None,
        deduction: float | None = None,
    ) -> dict:
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
                .values(
                    decision=state,
                    reviewed_deduction=deduction,
                    review_reason=reason,
                    reviewed_by=actor.name,
                    reviewed_at=stamp,
                    version=FINDINGS.c.version + 1,
                )
            ).rowcount
            if changed != 1:
                row = conn.execute(select(FINDINGS).where(FINDINGS.c.id == finding_id)).mappings().one()
                raise Conflict(
                    f"finding {finding_id} was changed by {row['reviewed_by'] or 'someone'} since you loaded it "
                    f"(version {row['version']}, you had {version}): reload and decide again",
                    _decision(row),
                )
            conn.execute(
                insert(REVIEWS).values(
                    finding_id=finding_id,
                    reviewer=actor.name,
                    decision=state,
                    deduction=deduction,
                    reason=reason,
                    created_at=stamp,
                )
            )
            before_score = call["score"]
            self._recompute(conn, call["id"])
            after = conn.execute(select(FINDINGS).where(FINDINGS.c.id == finding_id)).mappings().one()
            score = conn.execute(select(CALLS.c.score).where(CALLS.c.id == call["id"])).scalar()
            self._audit(
                conn,
                actor,
                f"finding.{decision}",
                "finding",
                finding_id,
                call["id"],
                _decision(row) | {"score": before_score},
                _decision(after) | {"score": score},
            )
            return _decision(after) | {"score": score}

    def add_missed(
        self,
        call_pk: int,
        actor: Actor,
        *,
        rule_id: str,
        utterance_index: int | None,
        deduction: float,
        reason: str | None = None,
        known_rules: dict[str, dict] | None = None,
    ) -> dict:
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
            seq = (
                conn.execute(
                    select(func.coalesce(func.max(FINDINGS.c.seq), -1)).where(FINDINGS.c.call_pk == call_pk)
                ).scalar()
                + 1
            )
            stamp = now()
            values = {
                "run_id": call["current_run_id"],
                "call_pk": call_pk,
                "seq": seq,
                "origin": "reviewer",
                "rule_id": rule_id,
                "category": spec.get("category", rule_id.split(".")[0]),
                "severity": spec.get("severity", "major"),
                "message": reason or spec.get("message", "人工补充的漏检问题"),
                "deduction": deduction,
                "fatal": False,
                "speaker": turn["speaker"] if turn else None,
                "utterance_index": utterance_index,
                "start": turn["start"] if turn else None,
                "end": turn["end"] if turn else None,
                "evidence_text": turn["text"] if turn else None,
                "evidence_start": 0 if turn else None,
                "evidence_end": len(turn["text"]) if turn else None,
                "match_mode": "manual",
                "match_score": None,
                "match_pattern": None,
                "match_detail": f"复核员 {actor.name} 补充",
                "decision": "confirmed",
                "reviewed_deduction": None,
                "review_reason": reason,
                "reviewed_by": actor.name,
                "reviewed_at": stamp,
                "version": 1,
            }
            finding_id = conn.execute(insert(FINDINGS).returning(FINDINGS.c.id), [values]).scalar_one()
            conn.execute(
                insert(REVIEWS).values(
                    finding_id=finding_id,
                    reviewer=actor.name,
                    decision="added",
                    deduction=deduction,
                    reason=reason,
                    created_at=stamp,
                )
            )
            self._recompute(conn, call_pk)
            score = conn.execute(select(CALLS.c.score).where(CALLS.c.id == call_pk)).scalar()
            self._audit(
                conn,
                actor,
                "finding.added",
                "finding",
                finding_id,
                call_pk,
                {"score": call["score"]},
                {
                    "rule_id": rule_id,
                    "utterance_index": utterance_index,
                    "deduction": deduction,
                    "reason": reason,
                    "score": score,
                },
            )
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
                raise Conflict(
                    f"finding {finding_id} already has an open appeal ({open_})", {"appeal_id": open_}
                )
            stamp = now()
            appeal_id = conn.execute(
                insert(APPEALS).returning(APPEALS.c.id),
                [
                    {
                        "finding_id": finding_id,
                        "call_pk": call["id"],
                        "appellant": actor.name,
                        "reason": reason,
                        "state": "open",
                        "created_at": stamp,
                        "version": 1,
                    }
                ],
            ).scalar_one()
            self._recompute(conn, call["id"])
            self._audit(
                conn,
                actor,
                "appeal.opened",
                "appeal",
                appeal_id,
                call["id"],
                None,
                {"finding_id": finding_id, "reason": reason, "state": "open"},
            )
            return {"id": appeal_id, "state": "open", "version": 1}

    def rule_appeal(
        self, appeal_id: int, actor: Actor, ruling: str, *, version: int, reason: str | None = None
    ) -> dict:
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
                .values(
                    state=state,
                    ruled_by=actor.name,
                    ruling=reason,
                    ruled_at=stamp,
                    version=APPEALS.c.version + 1,
                )
            ).rowcount
            if changed != 1:
                raise Conflict(f"appeal {appeal_id} was changed since you loaded it: reload", dict(appeal))
            decision = (
                "rejected"
                if ruling == "overturn"
                else ("confirmed" if row["decision"] == "pending" else row["decision"])
            )
            why = (
                f"申诉成立: {reason or appeal['reason']}"
                if ruling == "overturn"
                else (row["review_reason"] or reason)
            )
            conn.execute(
                update(FINDINGS)
                .where(FINDINGS.c.id == row["id"])
                .values(
                    decision=decision,
                    review_reason=why,
                    reviewed_by=actor.name,
                    reviewed_at=stamp,
                    version=FINDINGS.c.version + 1,
                )
            )
            conn.execute(
                insert(REVIEWS).values(
                    finding_id=row["id"],
                    reviewer=actor.name,
                    decision=decision,
                    deduction=row["reviewed_deduction"],
                    reason=why,
                    created_at=stamp,
                )
            )
            before_score = call["score"]
            self._recompute(conn, call["id"])
            score = conn.execute(select(CALLS.c.score).where(CALLS.c.id == call["id"])).scalar()
            self._audit(
                conn,
                actor,
                f"appeal.{state}",
                "appeal",
                appeal_id,
                call["id"],
                {"state": "open", "finding": _decision(row), "score": before_score},
                {"state": state, "ruling": reason, "finding_decision": decision, "score": score},
            )
            return {"id": appeal_id, "state": state, "score": score}
