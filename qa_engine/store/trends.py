"""Trends: scores per agent and team by week, category rates over time, and how often
reviewers agree with the machine, per rule. Each is one GROUP BY in the database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Date, and_, case, cast, distinct, func, literal_column, select, true

from qa_engine.store.repo import AGENTS, CALLS, FINDINGS, Actor, Store


def week_of(store: Store, column):
    """The Monday of the week of `column`, as a date (ISO weeks on both databases)."""
    if store.dialect == "postgresql":
        return cast(func.date_trunc("week", column), Date)
    return func.date(column, "weekday 0", "-6 days")


def _scope(actor: Actor, agent: str | None, team: str | None, since: datetime | None, until: datetime | None) -> list:
    where = [CALLS.c.status == "scored"]
    if actor.role == "agent":
        where.append(CALLS.c.agent_id == actor.agent_id)
    if agent:
        where.append(CALLS.c.agent_id == agent)
    if team:
        where.append(CALLS.c.agent_id.in_(select(AGENTS.c.id).where(AGENTS.c.team == team)))
    if since:
        where.append(CALLS.c.called_at >= since)
    if until:
        where.append(CALLS.c.called_at < until)
    return where


def _rows(store: Store, query) -> list[dict]:
    with store.engine.connect() as conn:
        return [
            {k: (str(v) if k == "week" else round(v, 2) if isinstance(v, float) else v) for k, v in dict(r).items()}
            for r in conn.execute(query).mappings()
        ]


def agent_weeks(store: Store, actor: Actor, agent: str | None = None, team: str | None = None,
                since: datetime | None = None, until: datetime | None = None) -> list[dict]:
    """Per agent and week: calls, mean reviewed score, mean machine score, pass rate."""
    week = week_of(store, CALLS.c.called_at).label("week")
    query = (
        select(
            CALLS.c.agent_id.label("agent"), week, func.count().label("calls"), func.avg(CALLS.c.score).label("score"),
            func.avg(CALLS.c.machine_score).label("machine_score"),
            func.avg(case((CALLS.c.passed == true(), 1.0), else_=0.0)).label("pass_rate"),
        )
        .where(*_scope(actor, agent, team, since, until))
        .group_by(CALLS.c.agent_id, literal_column("week")).order_by(CALLS.c.agent_id, literal_column("week"))
    )
    return _rows(store, query)


def team_weeks(store: Store, actor: Actor, team: str | None = None,
               since: datetime | None = None, until: datetime | None = None) -> list[dict]:
    week = week_of(store, CALLS.c.called_at).label("week")
    query = (
        select(
            func.coalesce(AGENTS.c.team, "-").label("team"), week, func.count().label("calls"),
            func.avg(CALLS.c.score).label("score"), func.avg(case((CALLS.c.passed == true(), 1.0), else_=0.0)).label("pass_rate"),
        )
        .select_from(CALLS.outerjoin(AGENTS, AGENTS.c.id == CALLS.c.agent_id))
        .where(*_scope(actor, None, team, since, until))
        .group_by(literal_column("team"), literal_column("week")).order_by(literal_column("team"), literal_column("week"))
    )
    return _rows(store, query)


def category_weeks(store: Store, actor: Actor, agent: str | None = None, team: str | None = None,
                   since: datetime | None = None, until: datetime | None = None) -> list[dict]:
    """Per week and category: the share of that week's calls with a (not rejected) finding of it."""
    week = week_of(store, CALLS.c.called_at).label("week")
    scope = _scope(actor, agent, team, since, until)
    totals = {r["week"]: r["calls"] for r in _rows(store, select(week, func.count().label("calls")).where(*scope).group_by(literal_column("week")))}
    query = (
        select(week, FINDINGS.c.category, func.count(distinct(CALLS.c.id)).label("calls"))
        .select_from(FINDINGS.join(CALLS, and_(CALLS.c.id == FINDINGS.c.call_pk, CALLS.c.current_run_id == FINDINGS.c.run_id)))
        .where(*scope, FINDINGS.c.decision != "rejected")
        .group_by(literal_column("week"), FINDINGS.c.category).order_by(literal_column("week"), FINDINGS.c.category)
    )
    rows = _rows(store, query)
    for row in rows:
        row["rate"] = round(row["calls"] / totals[row["week"]], 4) if totals.get(row["week"]) else None
    return rows


def agreement(store: Store, actor: Actor) -> list[dict]:
    """Per rule: machine findings reviewed, confirmed (or adjusted), rejected, misses added, agreement."""
    decided = FINDINGS.c.decision.in_(("confirmed", "adjusted", "rejected"))
    machine = FINDINGS.c.origin == "machine"
    query = (
        select(
            FINDINGS.c.rule_id,
            func.sum(case((and_(machine, decided), 1), else_=0)).label("reviewed"),
            func.sum(case((and_(machine, FINDINGS.c.decision.in_(("confirmed", "adjusted"))), 1), else_=0)).label("confirmed"),
            func.sum(case((and_(machine, FINDINGS.c.decision == "rejected"), 1), else_=0)).label("rejected"),
            func.sum(case((FINDINGS.c.origin == "reviewer", 1), else_=0)).label("added"),
        )
        .select_from(FINDINGS.join(CALLS, and_(CALLS.c.id == FINDINGS.c.call_pk, CALLS.c.current_run_id == FINDINGS.c.run_id)))
        .where(*_scope(actor, None, None, None, None), FINDINGS.c.decision != "pending")
        .group_by(FINDINGS.c.rule_id).order_by(FINDINGS.c.rule_id)
    )
    rows = _rows(store, query)
    for row in rows:
        row["agreement"] = round(row["confirmed"] / row["reviewed"], 4) if row["reviewed"] else None
    return rows
