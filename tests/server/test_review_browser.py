"""The review workflow in headless Chromium (Debian's, driven by Playwright): filter the
call list, open a call, reject a finding and watch the score change, appeal as the agent,
overturn as a reviewer, read the audit log. Screenshots are kept in test-artifacts/review/.
Runs on SQLite and PostgreSQL; skipped without /usr/bin/chromium or Playwright."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from storekit import sample_calls

from qa_engine.store import Store

pytest_plugins = ["serverkit", "dbkit"]

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "review"
playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed (pip install playwright)")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="headless Chromium not found at /usr/bin/chromium (apt-get install -y chromium fonts-noto-cjk)")


def test_review_and_appeal_in_the_browser(start_server, db_url, request):
    store = Store(db_url)
    store.add_user("rita", "reviewer", password="pw-rita")
    store.add_user("a1003", "agent", password="pw-a1003", agent_id="A1003")
    store.set_agent("A1003", team="一组")
    store.close()
    server = start_server(db=db_url)
    with httpx.Client(base_url=server.http_url, timeout=30) as client:
        for call in sample_calls():
            assert client.post("/v1/score", json=call.model_dump()).status_code == 200
    store = Store(db_url)
    other_pk = store.call_pk("nonstandard_04")
    store.close()
    shots = ARTIFACTS / request.node.callspec.id
    shots.mkdir(parents=True, exist_ok=True)
    base = server.http_url
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        try:
            reviewer = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            errors: list[str] = []
            reviewer.on("pageerror", lambda e: errors.append(str(e)))
            login(reviewer, base, "rita", "pw-rita")
            # filter the call list: team 一组, failing calls, with a forbidden-phrase finding
            reviewer.fill("input[name=team]", "一组")
            reviewer.select_option("#f-category", "forbidden")
            reviewer.click("#apply")
            rows = reviewer.locator("#calls tbody tr[data-call]")
            assert [rows.nth(i).get_attribute("data-call") for i in range(rows.count())] == ["forbidden_03"]
            reviewer.screenshot(path=str(shots / "1-call-list.png"), full_page=True)
            reviewer.click("a:text('forbidden_03')")
            assert reviewer.inner_text("#machine-score") == "0" == reviewer.inner_text("#score")
            # reject every fatal finding as a false alarm: the reviewed score changes, the machine's stays
            items = reviewer.locator(".fitem[data-finding-id]")
            ids = [items.nth(i).get_attribute("data-finding-id") for i in range(items.count())]
            first = ids[0]
            for finding_id in ids[:-1]:
                item = reviewer.locator(f"#f-{finding_id}")
                item.locator(".reject-reason").fill("客户原话,非坐席所说")
                item.locator("button.reject").click()
                reviewer.wait_for_load_state()
            assert reviewer.locator(f"#f-{first} .decision").inner_text() == "误报(已驳回)"
            reviewer.screenshot(path=str(shots / "2-rejected.png"), full_page=True)
            score_after_reject = reviewer.inner_text("#score")
            assert reviewer.inner_text("#machine-score") == "0"
            last = ids[-1]
            # the agent appeals the remaining finding
            agent = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            agent.on("pageerror", lambda e: errors.append(str(e)))
            login(agent, base, "a1003", "pw-a1003")
            assert agent.locator("#calls tbody tr[data-call]").count() == 1
            agent.click("a:text('forbidden_03')")
            assert agent.locator("button.reject").count() == 0  # an agent cannot review
            agent.locator(f"#f-{last} .appeal-reason").fill("这句话是客户说的,录音可证")
            agent.locator(f"#f-{last} button.appeal").click()
            agent.wait_for_load_state()
            assert agent.locator(".appeal-item .appeal-state").first.inner_text() == "申诉中"
            agent.screenshot(path=str(shots / "3-appealed.png"), full_page=True)
            # another agent's call is not visible to them
            other = agent.goto(f"{base}/review/calls/{other_pk}")
            assert other.status == 404
            agent.go_back()
            # the reviewer overturns: the finding is withdrawn and the score rises again
            reviewer.reload()
            reviewer.locator(".appeal-item .ruling-reason").fill("核实录音,确为客户所说")
            reviewer.locator(".appeal-item button.overturn").click()
            reviewer.wait_for_load_state()
            assert reviewer.locator(".appeal-item .appeal-state").first.inner_text() == "申诉成立"
            final = reviewer.inner_text("#score")
            assert float(final) > float(score_after_reject if score_after_reject != "-" else 0)
            assert reviewer.locator(f"#f-{last} .decision").inner_text() == "误报(已驳回)"
            actions = reviewer.locator("#audit .audit-row").evaluate_all("rows => rows.map(r => r.dataset.action)")
            assert actions[:2] == ["appeal.overturned", "appeal.opened"] and "finding.reject" in actions
            reviewer.screenshot(path=str(shots / "4-overturned-audit.png"), full_page=True)
            reviewer.goto(f"{base}/review/trends")
            assert reviewer.locator("#agreement").count() == 1
            reviewer.screenshot(path=str(shots / "5-trends.png"), full_page=True)
            assert errors == []
        finally:
            browser.close()
    assert len(list(shots.glob("*.png"))) == 5


def login(page, base: str, name: str, password: str) -> None:
    page.goto(f"{base}/review/login")
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("#login")
    page.wait_for_url("**/review/calls")
