"""Review pages (server-rendered, plain HTML forms) and the JSON API they share the store with.

Pages: `/review/login`, `/review/calls` (filters, keyset paging), `/review/calls/{id}`
(the call page: confirm / reject / adjust each finding, add a missed one, appeal, rule
on appeals, the call's audit log), `/review/audit`, `/review/trends`. The API under
`/review/api/` takes a user's bearer token. Roles are enforced in the store: an agent sees
only their own calls and can only appeal; a stale form is a 409, never a silent overwrite.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from functools import cache
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, Field

from qa_engine.report import labels as report_labels
from qa_engine.report.html import views as report_views
from qa_engine.report.html import writer as report_writer
from qa_engine.server.review import session
from qa_engine.store import Actor, CallFilter, StoreError
from qa_engine.store import trends as store_trends

router = APIRouter(prefix="/review", include_in_schema=True, tags=["review"])
ActorDep = Annotated[Actor, Depends(session.require_actor)]
DECISION_LABELS = {"pending": "待复核", "confirmed": "已确认", "rejected": "误报(已驳回)", "adjusted": "已调整"}
STATE_LABELS = {"unreviewed": "未复核", "partial": "复核中", "reviewed": "已复核", "appealed": "申诉中"}
APPEAL_LABELS = {"open": "申诉中", "upheld": "维持原判", "overturned": "申诉成立", "closed": "已关闭"}


@cache
def _environment() -> Environment:
    from pathlib import Path

    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(Path(__file__).parent / "templates"), FileSystemLoader(report_writer.TEMPLATES)]),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(jsontext=lambda v: json.dumps(v, ensure_ascii=False, default=str), time=report_labels.fmt_time, points=report_labels.fmt_points, rate=report_labels.fmt_rate)
    env.globals.update(
        severity_labels=report_labels.SEVERITY_LABELS, speaker_labels=report_labels.SPEAKER_LABELS,
        percent_width=report_writer.percent_width, decision_labels=DECISION_LABELS, state_labels=STATE_LABELS,
        appeal_labels=APPEAL_LABELS,
    )
    return env


def _state(request: Request):
    return request.app.state.qa


def _rules(request: Request):
    return _state(request).rules.get(None).engine.rules


def known_rules(request: Request) -> dict[str, dict]:
    library = _state(request).rules
    out: dict[str, dict] = {}
    for name in library.names():
        for check in library.get(name).engine.rules.checks:
            spec = check.spec
            out.setdefault(spec.id, {"category": spec.category, "severity": spec.severity, "message": spec.message})
    return out


def page(request: Request, template: str, actor: Actor | None, status: int = 200, **context) -> HTMLResponse:
    html = _environment().get_template(template).render(rules=_rules(request), actor=actor, **context)
    return HTMLResponse(html, status_code=status)


async def run(fn, *args, **kwargs):
    return await asyncio.to_thread(fn, *args, **kwargs)


def _error_page(request: Request, actor: Actor, error: StoreError, back: str) -> HTMLResponse:
    return page(request, "review_error.html.j2", actor, status=error.status, title="操作未完成",
                message=str(error), current=getattr(error, "current", None), back=back)


# ---------------------------------------------------------------- login


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
async def login_form(request: Request) -> HTMLResponse:
    return page(request, "review_login.html.j2", None, title="登录 · 质检复核", failed=False)


@router.post("/login", include_in_schema=False)
async def login(request: Request, name: Annotated[str, Form()], password: Annotated[str, Form()]):
    actor = await run(_state(request).store.login, name, password)
    if actor is None:
        return page(request, "review_login.html.j2", None, status=401, title="登录 · 质检复核", failed=True)
    response = RedirectResponse("/review/calls", status_code=303)
    response.set_cookie(session.COOKIE, session.issue(_state(request).session_secret, actor), httponly=True,
                        samesite="strict", max_age=session.LIFETIME_S, path="/review")
    return response


@router.post("/logout", include_in_schema=False)
async def logout() -> RedirectResponse:
    response = RedirectResponse("/review/login", status_code=303)
    response.delete_cookie(session.COOKIE, path="/review")
    return response


# ---------------------------------------------------------------- call list


def _filters(params: dict[str, str]) -> CallFilter:
    def text(key):
        value = (params.get(key) or "").strip()
        return value or None

    def number(key):
        value = text(key)
        try:
            return float(value) if value is not None else None
        except ValueError:
            raise HTTPException(422, f"{key}: {value!r} is not a number") from None

    def date(key):
        value = text(key)
        try:
            return datetime.fromisoformat(value) if value else None
        except ValueError:
            raise HTTPException(422, f"{key}: {value!r} is not a date (YYYY-MM-DD)") from None

    passed = {"1": True, "true": True, "pass": True, "0": False, "false": False, "fail": False}.get(text("passed") or "")
    try:
        limit = int(text("limit") or 50)
    except ValueError:
        limit = 50
    return CallFilter(
        agent=text("agent"), team=text("team"), date_from=date("date_from"), date_to=date("date_to"),
        min_score=number("min_score"), max_score=number("max_score"), passed=passed, category=text("category"),
        rule=text("rule"), review_state=text("state"), after=text("after"), limit=limit,
    )


@router.get("/", include_in_schema=False)
async def home() -> RedirectResponse:
    return RedirectResponse("/review/calls", status_code=303)


@router.get("/calls", response_class=HTMLResponse, include_in_schema=False)
async def calls_page(request: Request, actor: ActorDep) -> HTMLResponse:
    params = dict(request.query_params)
    try:
        result = await run(_state(request).store.list_calls, _filters(params), actor)
    except StoreError as error:
        return _error_page(request, actor, error, "/review/calls")
    keep = {k: v for k, v in params.items() if v and k != "after"}
    next_url = f"/review/calls?{urlencode(keep | {'after': result.next})}" if result.next else None
    return page(request, "review_calls.html.j2", actor, title="通话列表 · 质检复核", rows=result.rows, params=params,
                next_url=next_url, categories=_rules(request).model.categories, rule_ids=sorted(known_rules(request)))


@router.get("/api/calls")
async def api_calls(request: Request, actor: ActorDep) -> dict[str, Any]:
    result = await run(_state(request).store.list_calls, _filters(dict(request.query_params)), actor)
    return {"calls": json.loads(json.dumps(result.rows, default=str)), "next": result.next}


# ---------------------------------------------------------------- the call page


def _call_context(request: Request, actor: Actor, call_pk: int) -> dict:
    store = _state(request).store
    detail = store.call_detail(call_pk, actor)
    report, transcript = store.report_of(detail)
    rules = _rules(request)
    rows, views = report_views.utterance_views(transcript, report, rules)
    machine = [f for f in detail["findings"] if f["origin"] == "machine"]
    added = [f for f in detail["findings"] if f["origin"] == "reviewer"]
    open_appeals = {a["finding_id"]: a for a in detail["appeals"] if a["state"] == "open"}
    return {
        "detail": detail, "call": detail["call"], "report": report, "utterances": rows,
        "items": list(zip(views, machine, strict=True)), "added": added, "open_appeals": open_appeals,
        "appeals": detail["appeals"], "categories": report_views.category_rows(report, rules),
        "audit": store.audit_log(actor, call_pk), "rule_ids": sorted(known_rules(request)),
        "title": f"{detail['call']['call_id']} · 复核",
    }


@router.get("/calls/{call_pk}", response_class=HTMLResponse, include_in_schema=False)
async def call_page(request: Request, actor: ActorDep, call_pk: int) -> HTMLResponse:
    try:
        context = await run(_call_context, request, actor, call_pk)
    except StoreError as error:
        return _error_page(request, actor, error, "/review/calls")
    return page(request, "review_call.html.j2", actor, **context)


@router.get("/api/calls/{call_pk}")
async def api_call(request: Request, actor: ActorDep, call_pk: int) -> Any:
    detail = await run(_state(request).store.call_detail, call_pk, actor)
    return JSONResponse(json.loads(json.dumps(detail, default=str)))


# ---------------------------------------------------------------- decisions


class ReviewIn(BaseModel):
    decision: str = Field(description="confirm | reject | adjust")
    version: int = Field(description="The finding's version you saw (a newer one: 409)")
    reason: str | None = None
    deduction: float | None = None


class MissedIn(BaseModel):
    rule_id: str
    utterance_index: int | None = None
    deduction: float
    reason: str | None = None


class AppealIn(BaseModel):
    reason: str


class RulingIn(BaseModel):
    ruling: str = Field(description="uphold (the finding stands) | overturn (the finding is withdrawn)")
    version: int
    reason: str | None = None


def _api_error(error: StoreError) -> JSONResponse:
    body: dict[str, Any] = {"detail": str(error)}
    if getattr(error, "current", None) is not None:
        body["current"] = json.loads(json.dumps(error.current, default=str))
    return JSONResponse(body, status_code=error.status)


async def store_error(request: Request, error: StoreError) -> JSONResponse:
    """A refused store operation anywhere under /review: its status (403, 404, 409, 422) and message."""
    return _api_error(error)


async def _api(fn, *args, **kwargs):
    try:
        return await run(fn, *args, **kwargs)
    except StoreError as error:
        return _api_error(error)


@router.post("/api/findings/{finding_id}/review", responses={409: {"description": "Changed since you read it"}})
async def api_review(request: Request, actor: ActorDep, finding_id: int, body: ReviewIn) -> Any:
    return await _api(_state(request).store.review, finding_id, actor, body.decision, version=body.version,
                      reason=body.reason, deduction=body.deduction)


@router.post("/api/calls/{call_pk}/missed")
async def api_missed(request: Request, actor: ActorDep, call_pk: int, body: MissedIn) -> Any:
    return await _api(_state(request).store.add_missed, call_pk, actor, rule_id=body.rule_id,
                      utterance_index=body.utterance_index, deduction=body.deduction, reason=body.reason,
                      known_rules=known_rules(request))


@router.post("/api/findings/{finding_id}/appeal")
async def api_appeal(request: Request, actor: ActorDep, finding_id: int, body: AppealIn) -> Any:
    return await _api(_state(request).store.appeal, finding_id, actor, body.reason)


@router.post("/api/appeals/{appeal_id}/ruling")
async def api_ruling(request: Request, actor: ActorDep, appeal_id: int, body: RulingIn) -> Any:
    return await _api(_state(request).store.rule_appeal, appeal_id, actor, body.ruling, version=body.version,
                      reason=body.reason)


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return -1.0  # refused by the store with its message


async def _form_action(request: Request, actor: Actor, back: str, fn, *args, **kwargs):
    try:
        await run(fn, *args, **kwargs)
    except StoreError as error:
        return _error_page(request, actor, error, back)
    return RedirectResponse(back, status_code=303)


@router.post("/findings/{finding_id}", include_in_schema=False)
async def form_review(request: Request, actor: ActorDep, finding_id: int, call_pk: Annotated[int, Form()],
                      decision: Annotated[str, Form()], version: Annotated[int, Form()],
                      reason: Annotated[str | None, Form()] = None, deduction: Annotated[str | None, Form()] = None):
    return await _form_action(request, actor, f"/review/calls/{call_pk}#f-{finding_id}", _state(request).store.review,
                              finding_id, actor, decision, version=version, reason=reason, deduction=_float(deduction))


@router.post("/calls/{call_pk}/missed", include_in_schema=False)
async def form_missed(request: Request, actor: ActorDep, call_pk: int, rule_id: Annotated[str, Form()],
                      deduction: Annotated[str, Form()], utterance_index: Annotated[str | None, Form()] = None,
                      reason: Annotated[str | None, Form()] = None):
    index = int(utterance_index) - 1 if utterance_index and utterance_index.strip().isdigit() else None
    return await _form_action(request, actor, f"/review/calls/{call_pk}", _state(request).store.add_missed, call_pk, actor,
                              rule_id=rule_id.strip(), utterance_index=index, deduction=_float(deduction) or 0.0,
                              reason=reason, known_rules=known_rules(request))


@router.post("/findings/{finding_id}/appeal", include_in_schema=False)
async def form_appeal(request: Request, actor: ActorDep, finding_id: int, call_pk: Annotated[int, Form()],
                      reason: Annotated[str, Form()]):
    return await _form_action(request, actor, f"/review/calls/{call_pk}#appeals", _state(request).store.appeal,
                              finding_id, actor, reason)


@router.post("/appeals/{appeal_id}", include_in_schema=False)
async def form_ruling(request: Request, actor: ActorDep, appeal_id: int, call_pk: Annotated[int, Form()],
                      ruling: Annotated[str, Form()], version: Annotated[int, Form()],
                      reason: Annotated[str | None, Form()] = None):
    return await _form_action(request, actor, f"/review/calls/{call_pk}#appeals", _state(request).store.rule_appeal,
                              appeal_id, actor, ruling, version=version, reason=reason)


# ---------------------------------------------------------------- audit and trends


@router.get("/api/audit")
async def api_audit(request: Request, actor: ActorDep, call: int | None = None) -> Any:
    rows = await _api(_state(request).store.audit_log, actor, call)
    return rows if isinstance(rows, JSONResponse) else JSONResponse(json.loads(json.dumps(rows, default=str)))


@router.get("/audit", response_class=HTMLResponse, include_in_schema=False)
async def audit_page(request: Request, actor: ActorDep) -> HTMLResponse:
    rows = await run(_state(request).store.audit_log, actor, None, 500)
    return page(request, "review_audit.html.j2", actor, title="审计日志 · 质检复核", audit=rows)


def _trends(store, actor: Actor, params: dict[str, str]) -> dict:
    agent, team = params.get("agent") or None, params.get("team") or None
    return {
        "agents": store_trends.agent_weeks(store, actor, agent=agent, team=team),
        "teams": store_trends.team_weeks(store, actor, team=team) if actor.role != "agent" else [],
        "categories": store_trends.category_weeks(store, actor, agent=agent, team=team),
        "agreement": store_trends.agreement(store, actor) if actor.role != "agent" else [],
    }


@router.get("/api/trends")
async def api_trends(request: Request, actor: ActorDep) -> dict[str, Any]:
    return await run(_trends, _state(request).store, actor, dict(request.query_params))


@router.get("/trends", response_class=HTMLResponse, include_in_schema=False)
async def trends_page(request: Request, actor: ActorDep) -> HTMLResponse:
    data = await run(_trends, _state(request).store, actor, dict(request.query_params))
    return page(request, "review_trends.html.j2", actor, title="趋势 · 质检复核", params=dict(request.query_params), **data)
