"""The results database on SQLite and PostgreSQL: writes, re-scoring, reviews, appeals,
conflicts, roles, migrations."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from storekit import engine, sample_calls, scored

from qa_engine.store import Actor, CallFilter, Conflict, Forbidden, Invalid, NotFound, Store
from qa_engine.store.db import connect, current_revision, upgrade

pytest_plugins = ["dbkit"]

REVIEWER = Actor("rita", "reviewer")
OTHER_REVIEWER = Actor("ruth", "reviewer")
AGENT = Actor("a1003", "agent", "A1003")
OTHER_AGENT = Actor("a1004", "agent", "A1004")


@pytest.fixture
def store(db_url):
    s = Store(db_url)
    s.write_reports(scored())
    yield s
    s.close()


def call_of(store: Store, call_id: str) -> dict:
    return store.call_detail(store.call_pk(call_id), REVIEWER)


def test_writes_are_idempotent_and_keep_machine_scores(store):
    again = store.write_reports(scored())
    assert again.new_runs == 0 and again.unchanged == len(sample_calls())
    detail = call_of(store, "forbidden_03")
    assert detail["call"]["machine_score"] == 0.0 == detail["call"]["score"]
    report, transcript = store.report_of(detail)
    original = engine().score(next(c for c in sample_calls() if c.call_id == "forbidden_03"))
    assert report.model_dump(exclude={"provenance"}) == original.model_dump(exclude={"provenance"})
    assert report.provenance.rules_sha256 == original.provenance.rules_sha256
    assert transcript.utterances == next(c for c in sample_calls() if c.call_id == "forbidden_03").utterances


def test_reject_finding_changes_reviewed_score_not_machine_score(store):
    detail = call_of(store, "complaint_12")
    finding = next(f for f in detail["findings"] if f["deduction"] > 0)
    result = store.review(finding["id"], REVIEWER, "reject", version=finding["version"], reason="客户只是询问,不是投诉")
    after = call_of(store, "complaint_12")["call"]
    assert after["machine_score"] == 85.0
    assert after["score"] == 85.0 + finding["deduction"] == result["score"]
    assert after["review_state"] == "partial"
    with pytest.raises(Invalid):
        store.review(finding["id"], REVIEWER, "reject", version=result["version"], reason=" ")
    log = store.audit_log(REVIEWER, store.call_pk("complaint_12"))
    assert log[0]["action"] == "finding.reject" and log[0]["before"]["decision"] == "pending"
    assert log[0]["after"]["decision"] == "rejected" and log[0]["after"]["score"] == after["score"]


def test_adjust_and_add_missed_finding(store):
    detail = call_of(store, "clean_01")
    pk = detail["call"]["id"]
    with pytest.raises(Invalid, match="no rule"):
        store.add_missed(pk, REVIEWER, rule_id="deleted.rule", utterance_index=0, deduction=5, known_rules={"greeting.missing": {}})
    with pytest.raises(Invalid, match="utterance 99"):
        store.add_missed(pk, REVIEWER, rule_id="courtesy", utterance_index=99, deduction=5)
    added = store.add_missed(pk, REVIEWER, rule_id="courtesy.missing", utterance_index=1, deduction=5, reason="语气生硬")
    assert added["score"] == 95.0
    detail = call_of(store, "clean_01")
    assert detail["call"]["machine_score"] == 100.0 and detail["call"]["review_state"] == "reviewed"
    one = call_of(store, "deadair_09")
    finding = one["findings"][0]
    out = store.review(finding["id"], REVIEWER, "adjust", version=finding["version"], deduction=1)
    assert out["score"] == 90.0 + finding["deduction"] - 1


def test_concurrent_review_of_the_same_finding_is_a_conflict(store):
    finding = call_of(store, "filler_06")["findings"][0]
    outcomes: list = []
    barrier = threading.Barrier(2)

    def decide(actor, decision):
        barrier.wait()
        try:
            outcomes.append(store.review(finding["id"], actor, decision, version=finding["version"], reason="r"))
        except Conflict as error:
            outcomes.append(error)

    threads = [threading.Thread(target=decide, args=(REVIEWER, "reject")),
               threading.Thread(target=decide, args=(OTHER_REVIEWER, "confirm"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    conflicts = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(conflicts) == 1 and len(outcomes) == 2
    winner = next(o for o in outcomes if not isinstance(o, Conflict))
    assert conflicts[0].current["version"] == winner["version"] == finding["version"] + 1
    # the loser reloads and decides again on the new version
    store.review(finding["id"], OTHER_REVIEWER, "confirm", version=winner["version"])


def test_roles_agents_see_only_their_calls_and_cannot_review(store):
    pk = store.call_pk("forbidden_03")
    assert store.call_detail(pk, AGENT)["call"]["agent_id"] == "A1003"
    with pytest.raises(NotFound):
        store.call_detail(pk, OTHER_AGENT)
    rows = store.list_calls(CallFilter(), AGENT).rows
    assert {r["agent_id"] for r in rows} == {"A1003"}
    assert store.list_calls(CallFilter(agent="A1004"), AGENT).rows == []
    finding = store.call_detail(pk, AGENT)["findings"][0]
    with pytest.raises(Forbidden):
        store.review(finding["id"], AGENT, "reject", version=finding["version"], reason="mine")
    with pytest.raises(NotFound):
        store.appeal(finding["id"], OTHER_AGENT, "not my call")
    with pytest.raises(Forbidden):
        store.appeal(finding["id"], REVIEWER, "reviewers do not appeal")
    with pytest.raises(NotFound):
        store.audit_log(OTHER_AGENT, pk)


def test_appeal_overturned_and_upheld(store):
    pk = store.call_pk("forbidden_03")
    findings = store.call_detail(pk, AGENT)["findings"]
    first, second = findings[0], findings[1]
    appeal = store.appeal(first["id"], AGENT, "客户先说的这句话")
    with pytest.raises(Conflict):
        store.appeal(first["id"], AGENT, "again")
    assert call_of(store, "forbidden_03")["call"]["review_state"] == "appealed"
    store.rule_appeal(appeal["id"], REVIEWER, "overturn", version=appeal["version"], reason="确系客户原话")
    with pytest.raises(Conflict, match="already overturned"):
        store.rule_appeal(appeal["id"], OTHER_REVIEWER, "uphold", version=appeal["version"])
    detail = call_of(store, "forbidden_03")
    assert next(f for f in detail["findings"] if f["id"] == first["id"])["decision"] == "rejected"
    other = store.appeal(second["id"], AGENT, "也不是我说的")
    ruled = store.rule_appeal(other["id"], REVIEWER, "uphold", version=other["version"], reason="录音为坐席所说")
    assert ruled["state"] == "upheld"
    actions = [e["action"] for e in store.audit_log(REVIEWER, pk)]
    assert actions[:4] == ["appeal.upheld", "appeal.opened", "appeal.overturned", "appeal.opened"]
    assert [e["action"] for e in store.audit_log(AGENT, pk)] == actions


def test_rescore_keeps_history_carries_decisions_and_moves_or_closes_appeals(store):
    from qa_engine import load_rules
    from qa_engine.engine import Engine

    call = next(c for c in sample_calls() if c.call_id == "nonstandard_04")
    pk = store.call_pk("nonstandard_04")
    findings = store.call_detail(pk, REVIEWER)["findings"]
    kept, gone = findings[0], next(f for f in findings if f["rule_id"] != findings[0]["rule_id"])
    store.review(kept["id"], REVIEWER, "reject", version=kept["version"], reason="误报")
    agent4 = Actor("a1004", "agent", "A1004")
    appeal_gone = store.appeal(gone["id"], agent4, "不同意")
    # new rules: the rule behind `gone` is deleted from the rule file
    rules = load_rules()
    trimmed = rules.with_checks([c for c in rules.checks if c.spec.id != gone["rule_id"]])
    report = Engine(trimmed).score(call)
    result = store.write_reports([(report, call)])
    assert result.rescored == ["nonstandard_04"]
    detail = call_of(store, "nonstandard_04")
    assert len(detail["runs"]) == 2 and detail["call"]["current_run_id"] == detail["runs"][-1]["id"]
    carried = next(f for f in detail["findings"] if f["rule_id"] == kept["rule_id"] and f["utterance_index"] == kept["utterance_index"])
    assert carried["decision"] == "rejected" and carried["id"] != kept["id"]
    assert all(f["rule_id"] != gone["rule_id"] for f in detail["findings"])
    appeal = next(a for a in detail["appeals"] if a["id"] == appeal_gone["id"])
    assert appeal["state"] == "closed"
    assert detail["call"]["machine_score"] == report.score
    assert detail["call"]["score"] == report.score + carried["deduction"]
    entry = store.audit_log(REVIEWER, pk)[0]
    assert entry["action"] == "call.rescored" and entry["after"]["appeals_closed"] == [appeal_gone["id"]]
    # reviewing a finding of the old run is refused: the page was stale
    with pytest.raises(Conflict, match="earlier run"):
        store.review(kept["id"], REVIEWER, "confirm", version=kept["version"] + 1)


def test_appeal_follows_its_finding_into_a_new_run(store):
    from qa_engine.engine import Engine
    from qa_engine.models import Utterance

    call = next(c for c in sample_calls() if c.call_id == "forbidden_03")
    pk = store.call_pk("forbidden_03")
    finding = store.call_detail(pk, AGENT)["findings"][0]
    appeal = store.appeal(finding["id"], AGENT, "不同意")
    longer = call.model_copy(update={"utterances": [*call.utterances, Utterance(speaker="customer", start=999, end=1000, text="好的")]})
    store.write_reports([(Engine(engine().rules).score(longer), longer)])
    detail = call_of(store, "forbidden_03")
    moved = next(a for a in detail["appeals"] if a["id"] == appeal["id"])
    assert moved["state"] == "open" and moved["finding_id"] in {f["id"] for f in detail["findings"]}
    assert store.rule_appeal(appeal["id"], REVIEWER, "overturn", version=moved["version"])["state"] == "overturned"


def test_call_list_filters_and_keyset_paging(db_url):
    store = Store(db_url)
    items = scored()
    dates = [datetime(2024, 5, 1 + i) for i in range(len(items))]
    store.write_reports(items, dates)
    store.set_agent("A1003", team="一组")
    store.set_agent("A1004", team="一组")
    every = lambda f: [r["call_id"] for r in store.list_calls(f, REVIEWER).rows]  # noqa: E731
    assert every(CallFilter(team="一组")) == ["nonstandard_04", "forbidden_03"]
    assert every(CallFilter(agent="A1003")) == ["forbidden_03"]
    assert set(every(CallFilter(passed=False))) == {r.call_id for r, _ in items if r.passed is False}
    assert set(every(CallFilter(rule="forbidden.taboo"))) == {r.call_id for r, _ in items if any(f.rule_id == "forbidden.taboo" for f in r.findings)}
    assert set(every(CallFilter(category="dead_air"))) == {r.call_id for r, _ in items if any(f.category == "dead_air" for f in r.findings)}
    assert every(CallFilter(min_score=100)) == ["clean_02", "clean_01"]
    assert every(CallFilter(date_from=datetime(2024, 5, 2), date_to=datetime(2024, 5, 4))) == ["clean_02", "clean_01"]
    seen, cursor = [], None
    while True:
        page = store.list_calls(CallFilter(limit=5, after=cursor), REVIEWER)
        seen += [r["call_id"] for r in page.rows]
        if not page.next:
            break
        cursor = page.next
    assert seen == every(CallFilter(limit=500)) and len(seen) == len(items)
    store.close()


def test_migrations_from_empty_and_from_the_previous_revision(db_url):
    from alembic import command

    from qa_engine.store.db import _alembic_config

    bare = connect(db_url)
    upgrade(bare, "0001")  # from empty, one revision at a time
    assert current_revision(bare) == "0001"
    upgrade(bare)
    bare.dispose()
    store = Store(db_url)
    store.write_reports(scored()[:3])
    # back to the previous revision with data in it, then up again: the data survives
    with store.engine.begin() as connection:
        command.downgrade(_alembic_config(connection), "0002")
    assert current_revision(store.engine) == "0002"
    store.close()
    store = Store(db_url)  # migrates to head
    assert current_revision(store.engine) == "0003"
    detail = store.call_detail(store.call_pk(scored()[0][0].call_id), REVIEWER)
    assert detail["run"]["metrics"] is None  # runs stored before 0003 have no metrics
    assert store.report_of(detail)[0].call_id == scored()[0][0].call_id
    if detail["findings"]:
        f = detail["findings"][0]
        store.review(f["id"], REVIEWER, "confirm", version=f["version"])
    store.write_reports(scored()[:3])  # re-stored with metrics: a new run, the decision carried over
    store.close()


def test_models_match_migrations(db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from qa_engine.store.schema import Base

    store = Store(db_url)
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    store.close()
    assert diff == []


def test_users_passwords_and_tokens(db_url):
    store = Store(db_url)
    store.add_user("rita", "reviewer", password="s3cret", token="tok-rita")
    store.add_user("a1003", "agent", password="pw", agent_id="A1003")
    with pytest.raises(Invalid):
        store.add_user("x", "agent")
    with pytest.raises(Conflict):
        store.add_user("rita", "admin")
    assert store.login("rita", "s3cret") == Actor("rita", "reviewer")
    assert store.login("rita", "wrong") is None
    assert store.user_by_token("tok-rita").name == "rita"
    assert store.user_by_token("nope") is None
    with store.engine.connect() as conn:
        stored = conn.exec_driver_sql("select password_hash, token_hash from users where name='rita'").one()
    assert "s3cret" not in stored[0] and stored[1] != "tok-rita"
    store.close()


def test_trends_by_week_category_and_agreement(db_url):
    from qa_engine.store import trends

    store = Store(db_url)
    items = scored()
    more = [(r.model_copy(update={"call_id": r.call_id + "-w2"}), t) for r, t in items]
    store.write_reports(items, [datetime(2024, 5, 6)] * len(items))  # a Monday
    store.write_reports(more, [datetime(2024, 5, 15)] * len(items))
    store.set_agent("A1003", team="一组")
    weeks = trends.agent_weeks(store, REVIEWER, agent="A1003")
    assert [(w["week"], w["calls"], w["score"]) for w in weeks] == [("2024-05-06", 1, 0.0), ("2024-05-13", 1, 0.0)]
    mine = trends.agent_weeks(store, AGENT, agent="A1004")
    assert mine == []  # an agent sees only their own trend
    teams = {(t["team"], t["week"]): t for t in trends.team_weeks(store, REVIEWER)}
    assert teams[("一组", "2024-05-06")]["calls"] == 1
    cats = [c for c in trends.category_weeks(store, REVIEWER) if c["category"] == "forbidden"]
    assert cats and all(0 < c["rate"] <= 1 for c in cats)
    finding = call_of(store, "forbidden_03")["findings"][0]
    store.review(finding["id"], REVIEWER, "reject", version=finding["version"], reason="误报")
    other = call_of(store, "forbidden_03-w2")["findings"][0]
    store.review(other["id"], REVIEWER, "confirm", version=other["version"])
    row = next(r for r in trends.agreement(store, REVIEWER) if r["rule_id"] == finding["rule_id"])
    assert (row["reviewed"], row["confirmed"], row["rejected"], row["agreement"]) == (2, 1, 1, 0.5)
    store.close()


def test_reviewed_score_recharges_a_capped_rule_as_the_engine_would():
    """5 + 5 + 0 under a cap of 10: rejecting one hit leaves 10 points, not 5."""
    from qa_engine.store.scoring import Decided, reviewed_score

    hits = [Decided(5, False, "pending", None, "r", "machine", seq) for seq in range(2)]
    hits.append(Decided(0, False, "pending", None, "r", "machine", 2))
    assert reviewed_score(100, 80, hits).score == 90
    rejected = [Decided(5, False, "rejected", None, "r", "machine", 0), *hits[1:]]
    assert reviewed_score(100, 80, rejected).score == 90
    two_rejected = [rejected[0], Decided(5, False, "rejected", None, "r", "machine", 1), hits[2]]
    assert reviewed_score(100, 80, two_rejected).score == 95
    uncapped = [Decided(3, False, "pending", None, "u", "machine", seq) for seq in range(3)]
    uncapped[1] = Decided(3, False, "rejected", None, "u", "machine", 1)
    assert reviewed_score(100, 80, uncapped).score == 94
    added = [*hits, Decided(4, False, "added", None, "x", "reviewer", 9)]
    assert reviewed_score(100, 80, added).score == 86
