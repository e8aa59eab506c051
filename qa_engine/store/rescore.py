"""A call's reviewed score: re-computed after each decision, and after a new run of the call."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from qa_engine.store.actors import Actor, now
from qa_engine.store.base import StoreBase
from qa_engine.store.rows import APPEALS, CALLS, FINDINGS, finding_key
from qa_engine.store.scoring import Decided, reviewed_score


class RescoreMixin(StoreBase):
    def _rescore(
        self, conn: Connection, call_pk: int, old_run: int, new_run: int, values: dict, actor: Actor
    ) -> None:
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
                    .values(
                        state="closed",
                        ruled_by=actor.name,
                        ruled_at=now(),
                        version=APPEALS.c.version + 1,
                        ruling="重新质检后该问题不再出现,申诉自动关闭 (the re-scored call no longer has this finding)",
                    )
                )
                closed.append(appeal["id"])
            else:
                conn.execute(update(APPEALS).where(APPEALS.c.id == appeal["id"]).values(finding_id=target))
                followed.append(appeal["id"])
        scores = select(CALLS.c.current_run_id, CALLS.c.machine_score, CALLS.c.score).where(
            CALLS.c.id == call_pk
        )
        before = dict(conn.execute(scores).mappings().one())
        values = {k: v for k, v in values.items() if k not in ("version", "review_state")}
        conn.execute(update(CALLS).where(CALLS.c.id == call_pk).values(**values, version=CALLS.c.version + 1))
        self._recompute(conn, call_pk)
        after = dict(conn.execute(scores).mappings().one())
        after |= {"carried_decisions": carried, "appeals_followed": followed, "appeals_closed": closed}
        self._audit(conn, actor, "call.rescored", "call", call_pk, call_pk, before, after)

    def _recompute(self, conn: Connection, call_pk: int) -> None:
        """The call's reviewed score and review state from its current findings and appeals."""
        call = (
            conn.execute(
                select(CALLS.c.current_run_id, CALLS.c.base_score, CALLS.c.pass_mark, CALLS.c.status).where(
                    CALLS.c.id == call_pk
                )
            )
            .mappings()
            .one()
        )
        rows = list(
            conn.execute(
                select(
                    FINDINGS.c.deduction,
                    FINDINGS.c.fatal,
                    FINDINGS.c.decision,
                    FINDINGS.c.reviewed_deduction,
                    FINDINGS.c.origin,
                    FINDINGS.c.rule_id,
                    FINDINGS.c.seq,
                ).where(FINDINGS.c.call_pk == call_pk, FINDINGS.c.run_id == call["current_run_id"])
            ).mappings()
        )
        open_appeal = conn.execute(
            select(func.count())
            .select_from(APPEALS)
            .where(APPEALS.c.call_pk == call_pk, APPEALS.c.state == "open")
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
                call["base_score"],
                call["pass_mark"],
                (
                    Decided(
                        r["deduction"],
                        r["fatal"],
                        r["decision"],
                        r["reviewed_deduction"],
                        r["rule_id"],
                        r["origin"],
                        r["seq"],
                    )
                    for r in rows
                ),
            )
            values |= {"score": scored.score, "passed": scored.passed, "fatal": scored.fatal}
        conn.execute(update(CALLS).where(CALLS.c.id == call_pk).values(**values))
