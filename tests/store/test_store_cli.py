"""`qa score --db`, `qa db import/upgrade/user/agent`, `qa calibrate --db`, `qa rules suggest --db`."""

from __future__ import annotations

import json

from storekit import SAMPLES
from typer.testing import CliRunner

from qa_engine.cli import app
from qa_engine.store import Actor, CallFilter, Store
from qa_engine.store.db import connect, current_revision

pytest_plugins = ["dbkit"]
runner = CliRunner()
REVIEWER = Actor("rita", "reviewer")


def test_score_writes_the_db_idempotently_and_import_matches(db_url, tmp_path):
    out = tmp_path / "out"
    done = runner.invoke(app, ["score", str(SAMPLES), "--out", str(out), "--db", db_url, "--no-details"])
    assert done.exit_code == 0, done.output
    assert "13 runs stored" in done.output
    again = runner.invoke(app, ["score", str(SAMPLES), "--out", str(out), "--db", db_url, "--no-details"])
    assert "0 runs stored" in again.output and "13 unchanged" in again.output
    store = Store(db_url)
    assert len(store.list_calls(CallFilter(limit=100), REVIEWER).rows) == 13
    imported = runner.invoke(app, ["db", "import", str(out), "--db", db_url, "--transcripts", str(SAMPLES)])
    assert imported.exit_code == 0, imported.output
    assert "runs new 0" in imported.output and "unchanged 13" in imported.output
    store.close()


def test_import_into_an_empty_db_with_transcripts_and_a_bad_file(tmp_path, db_url):
    out = tmp_path / "out"
    assert runner.invoke(app, ["score", str(SAMPLES), "--out", str(out), "--no-details"]).exit_code == 0
    (out / "broken.json").write_text('{"call_id": "x", "score": "high"}', encoding="utf-8")
    done = runner.invoke(app, ["db", "import", str(out), "--db", db_url, "--transcripts", str(SAMPLES)])
    assert done.exit_code == 2 and "broken.json" in done.output and "runs new 13" in done.output
    store = Store(db_url)
    detail = store.call_detail(store.call_pk("forbidden_03"), REVIEWER)
    assert detail["call"]["transcript"] and detail["call"]["machine_score"] == 0.0
    store.close()


def test_upgrade_command_from_empty_and_from_0001(db_url):
    done = runner.invoke(app, ["db", "upgrade", "--db", db_url, "--revision", "0001"])
    assert done.exit_code == 0 and "revision 0001 (was empty)" in done.output
    done = runner.invoke(app, ["db", "upgrade", "--db", db_url])
    assert "revision 0003 (was 0001)" in done.output
    engine = connect(db_url)
    assert current_revision(engine) == "0003"
    engine.dispose()


def test_calibrate_and_suggest_from_reviews(tmp_path):
    url = f"sqlite:///{tmp_path / 'qa.db'}"
    assert runner.invoke(app, ["score", str(SAMPLES), "--out", str(tmp_path / "o"), "--db", url, "--no-details"]).exit_code == 0
    store = Store(url)
    rejected_any = False
    for row in store.list_calls(CallFilter(limit=100), REVIEWER).rows:
        for finding in store.call_detail(row["id"], REVIEWER)["findings"]:
            if finding["rule_id"].startswith("filler") or finding["rule_id"] == "forbidden.taboo":
                store.review(finding["id"], REVIEWER, "reject", version=finding["version"], reason="口头禅可接受")
                rejected_any = True
            else:
                store.review(finding["id"], REVIEWER, "confirm", version=finding["version"])
    assert rejected_any
    store.add_missed(store.call_pk("clean_01"), REVIEWER, rule_id="deleted.rule", utterance_index=0, deduction=5, reason="漏检")
    store.close()
    calibrated = runner.invoke(app, ["calibrate", "--db", url, "--no-tune", "--markdown"])
    assert calibrated.exit_code == 0, calibrated.output
    assert "误报 (false positives)" in calibrated.output and "deleted" in calibrated.output
    suggested = runner.invoke(app, ["rules", "suggest", "--db", url])
    assert suggested.exit_code == 0, suggested.output
    lines = suggested.output.splitlines()
    assert "误报率 100%" in lines[0]
    assert "forbidden.taboo" in suggested.output and "candidate" in suggested.output
    assert "deleted.rule" in suggested.output and "deleted" in suggested.output
    assert "missed, candidate phrase" in suggested.output


def test_user_and_agent_commands(tmp_path):
    url = str(tmp_path / "qa.db")  # a bare path means SQLite
    done = runner.invoke(app, ["db", "user", "rita", "--db", url, "--role", "reviewer", "--password", "pw", "--token"])
    assert done.exit_code == 0 and "token: " in done.output
    token = done.output.split("token: ")[1].split()[0]
    assert runner.invoke(app, ["db", "user", "x", "--db", url, "--role", "agent"]).exit_code == 1
    assert runner.invoke(app, ["db", "agent", "A1", "--db", url, "--team", "一组"]).exit_code == 0
    store = Store(f"sqlite:///{tmp_path / 'qa.db'}")
    assert store.user_by_token(token).name == "rita"
    assert json.dumps(store.audit_log(REVIEWER)[0]["after"], ensure_ascii=False).count("一组") == 1
    store.close()
