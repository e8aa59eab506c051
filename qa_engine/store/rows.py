"""Tables and rows: report <-> row conversion, run fingerprints, finding identity, batching."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence

from qa_engine.models import CallReport, CallTranscript, Evidence, Finding, MatchInfo
from qa_engine.store.schema import Agent, Appeal, AuditEntry, Call, FindingRow, Review, Run, User

CALLS, RUNS, FINDINGS, AGENTS = Call.__table__, Run.__table__, FindingRow.__table__, Agent.__table__
USERS, REVIEWS, APPEALS, AUDIT = User.__table__, Review.__table__, Appeal.__table__, AuditEntry.__table__
CHUNK = 500


def fingerprint(report: CallReport) -> str:
    """Identifies a run: the same report written twice is one run (idempotent writes)."""
    return hashlib.sha256(report.model_dump_json().encode("utf-8")).hexdigest()


def _finding_row(finding: Finding, seq: int) -> dict:
    evidence, match = finding.evidence, finding.match
    return {
        "seq": seq,
        "origin": "machine",
        "rule_id": finding.rule_id,
        "category": finding.category,
        "severity": finding.severity,
        "message": finding.message,
        "deduction": finding.deduction,
        "fatal": finding.fatal,
        "speaker": finding.speaker,
        "utterance_index": finding.utterance_index,
        "start": finding.start,
        "end": finding.end,
        "evidence_text": evidence.text if evidence else None,
        "evidence_start": evidence.start_char if evidence else None,
        "evidence_end": evidence.end_char if evidence else None,
        "match_mode": match.mode,
        "match_score": match.score,
        "match_pattern": match.pattern,
        "match_detail": match.detail,
        "decision": "pending",
        "version": 1,
    }


def finding_key(row) -> tuple:
    """What makes a finding "the same" across runs: rule, turn and words."""
    return (row["rule_id"], row["utterance_index"], row["evidence_text"], row["evidence_start"])


def row_to_finding(row) -> Finding:
    evidence = (
        Evidence(
            text=row["evidence_text"],
            start_char=row["evidence_start"] or 0,
            end_char=row["evidence_end"] or 0,
        )
        if row["evidence_text"] is not None
        else None
    )
    return Finding(
        rule_id=row["rule_id"],
        category=row["category"],
        severity=row["severity"],
        message=row["message"],
        deduction=row["deduction"],
        fatal=row["fatal"],
        speaker=row["speaker"],
        utterance_index=row["utterance_index"],
        start=row["start"],
        end=row["end"],
        evidence=evidence,
        match=MatchInfo(
            mode=row["match_mode"],
            score=row["match_score"],
            pattern=row["match_pattern"],
            detail=row["match_detail"] or "",
        ),
    )


def _chunks(items: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _json_safe(value):
    return json.loads(json.dumps(value, default=str)) if value is not None else None


def _utterances(transcript: CallTranscript) -> list[dict]:
    return transcript.model_dump(include={"utterances"})["utterances"]


def _decision(row) -> dict:
    return {
        "id": row["id"],
        "decision": row["decision"],
        "reviewed_deduction": row["reviewed_deduction"],
        "review_reason": row["review_reason"],
        "reviewed_by": row["reviewed_by"],
        "version": row["version"],
    }
