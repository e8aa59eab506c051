"""`qa serve --db`: live reports are stored; the review API enforces roles, conflicts and
the audit log over real HTTP (uvicorn on loopback), on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
import pytest
from storekit import sample_calls

from qa_engine.store import SYSTEM, Store

pytest_plugins = ["serverkit", "dbkit"]


@pytest.fixture
def review_server(start_server, db_url):
    store = Store(db_url)
    store.add_user("rita", "reviewer", password="pw-rita", token="tok-rita")
    store.add_user("ruth", "reviewer", token="tok-ruth")
    store.add_user("a1003", "agent", password="pw-a1003", agent_id="A1003", token="tok-a1003")
    store.add_user("a1004", "agent", token="tok-a1004", agent_id="A1004")
    store.close()
    server = start_server(db=db_url)
    with httpx.Client(base_url=server.http_url, timeout=30) as client:
        for call in sample_calls():
            assert client.post("/v1/score", json=call.model_dump()).status_code == 200
        yield server, client


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_scored_calls_are_stored_and_listed(review_server):
    server, client = review_server
    calls = client.get("/review/api/calls", headers=auth("tok-rita")).json()["calls"]
    assert len(calls) == len(sample_calls())
    mine = client.get("/review/api/calls", headers=auth("tok-a1003")).json()["calls"]
    assert [c["call_id"] for c in mine] == ["forbidden_03"]
    assert client.get("/review/api/calls").status_code == 401
    assert client.get("/review/api/calls", headers=auth("wrong")).status_code == 401


def test_roles_conflicts_and_audit_over_http(review_server):
    _, client = review_server
    calls = client.get("/review/api/calls", headers=auth("tok-rita")).json()["calls"]
    pk = next(c["id"] for c in calls if c["call_id"] == "forbidden_03")
    other = next(c["id"] for c in calls if c["call_id"] == "nonstandard_04")
    assert client.get(f"/review/api/calls/{other}", headers=auth("tok-a1003")).status_code == 404
    assert client.get(f"/review/calls/{other}", headers=auth("tok-a1003")).status_code == 404
    detail = client.get(f"/review/api/calls/{pk}", headers=auth("tok-a1003")).json()
    finding = detail["findings"][0]
    body = {"decision": "reject", "version": finding["version"], "reason": "not me"}
    assert client.post(f"/review/api/findings/{finding['id']}/review", json=body, headers=auth("tok-a1003")).status_code == 403
    assert client.post(f"/review/api/findings/{finding['id']}/appeal", json={"reason": "x"}, headers=auth("tok-a1004")).status_code == 404
    first = client.post(f"/review/api/findings/{finding['id']}/review", json=body, headers=auth("tok-rita"))
    assert first.status_code == 200
    stale = client.post(f"/review/api/findings/{finding['id']}/review",
                        json={"decision": "confirm", "version": finding["version"]}, headers=auth("tok-ruth"))
    assert stale.status_code == 409 and stale.json()["current"]["decision"] == "rejected"
    missed = client.post(f"/review/api/calls/{pk}/missed", headers=auth("tok-rita"),
                         json={"rule_id": "no.such.rule", "utterance_index": 0, "deduction": 5})
    assert missed.status_code == 422 and "no rule" in missed.json()["detail"]
    log = client.get("/review/api/audit", params={"call": pk}, headers=auth("tok-a1003")).json()
    assert log[0]["action"] == "finding.reject" and log[0]["actor"] == "rita"
    assert client.get("/review/api/audit", params={"call": other}, headers=auth("tok-a1003")).status_code == 404
    trends = client.get("/review/api/trends", headers=auth("tok-rita")).json()
    assert trends["agreement"] and trends["agents"]
    assert client.get("/review/api/trends", headers=auth("tok-a1003")).json()["agreement"] == []


def test_live_stream_reports_are_stored(start_server, db_url):
    import asyncio
    import json

    import websockets

    server = start_server(db=db_url)
    call = sample_calls()[0]

    async def stream():
        async with websockets.connect(server.ws_url) as ws:
            await ws.send(json.dumps({"type": "start", "call_id": "live-1", "agent_id": "A9", "mode": "transcript"}))
            for u in call.utterances:
                await ws.send(json.dumps({"type": "utterance", **u.model_dump()}))
            await ws.send(json.dumps({"type": "end"}))
            while True:
                message = json.loads(await ws.recv())
                if message.get("type") == "report":
                    return message

    asyncio.run(stream())
    store = Store(db_url)
    detail = store.call_detail(store.call_pk("live-1"), SYSTEM)
    assert detail["call"]["agent_id"] == "A9" and detail["call"]["transcript"]
    store.close()
