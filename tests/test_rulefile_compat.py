"""Rule files are users' data: a file that loaded in an earlier release keeps its findings.

`fixtures/compat/release-0.1-default.yaml` is the default rule set of release 0.1, and
`release-0.1-findings.json` the findings that release gave on the sample transcripts.
New engine features (lexicons, `near`, speech clauses, episodes) are opt-in fields, so
the old file must still load and give exactly the same findings. The one change a 0.1 user
sees is personal-data redaction, on by default since 0.2 (release note in CHANGELOG.md):
with `keep_pii` the findings are the 0.1 findings byte for byte; with redaction they differ
only where evidence held personal data.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa_engine import Engine, load_rules
from qa_engine.models import CallTranscript

ROOT = Path(__file__).resolve().parent.parent
COMPAT = Path(__file__).resolve().parent / "fixtures" / "compat"
EXPECTED = json.loads((COMPAT / "release-0.1-findings.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def old_engine() -> Engine:
    return Engine(load_rules(COMPAT / "release-0.1-default.yaml"), keep_pii=True)


def test_with_redaction_only_evidence_holding_personal_data_differs() -> None:
    engine = Engine(load_rules(COMPAT / "release-0.1-default.yaml"))
    for call_id, expected in EXPECTED.items():
        path = ROOT / "samples" / "transcripts" / f"{call_id}.json"
        report = engine.score(CallTranscript.model_validate_json(path.read_text(encoding="utf-8")))
        assert report.score == expected["score"]
        for finding, old in zip(report.findings, expected["findings"], strict=True):
            new = finding.model_dump(mode="json")
            if new != old:
                assert "[手机号]" in new["evidence"]["text"], (call_id, new, old)
                assert {k: v for k, v in new.items() if k != "evidence"} == {k: v for k, v in old.items() if k != "evidence"}


@pytest.mark.parametrize("call_id", sorted(EXPECTED))
def test_release_0_1_rule_file_gives_the_same_findings(old_engine: Engine, call_id: str) -> None:
    path = ROOT / "samples" / "transcripts" / f"{call_id}.json"
    report = old_engine.score(CallTranscript.model_validate_json(path.read_text(encoding="utf-8")))
    assert report.score == EXPECTED[call_id]["score"]
    assert [f.model_dump(mode="json") for f in report.findings] == EXPECTED[call_id]["findings"]
