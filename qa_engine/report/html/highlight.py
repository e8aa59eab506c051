"""Evidence highlighting: each finding's words marked in the utterance's escaped text."""

from __future__ import annotations

from dataclasses import dataclass, replace

from markupsafe import Markup, escape

from qa_engine.models import Finding
from qa_engine.report.labels import SEVERITY_RANK, finding_title


@dataclass(frozen=True)
class Span:
    """One finding's evidence inside an utterance's original text."""

    start: int
    end: int
    finding: int  # index into report.findings, so page anchors and marks agree
    rule_id: str
    severity: str
    title: str


def evidence_span(finding: Finding, index: int, text: str) -> Span | None:
    """The finding's character span clamped to the text; None when there is nothing to mark."""
    if finding.evidence is None:
        return None
    start = min(max(finding.evidence.start_char, 0), len(text))
    end = min(max(finding.evidence.end_char, start), len(text))
    if start == end:
        return None
    return Span(start, end, index, finding.rule_id, finding.severity, finding_title(finding))


def _open_mark(span: Span) -> str:
    return (
        f'<mark class="hl sev-{span.severity}" data-rule-id="{escape(span.rule_id)}" '
        f'data-finding="{span.finding}" title="{escape(span.title)}">'
    )


def highlight(text: str, spans: list[Span]) -> Markup:
    """Escape `text` and wrap each span (clamped to the text) in <mark>; overlapping spans nest.

    The text is cut at every span boundary; each piece is wrapped in one <mark> per span
    covering it (outermost first). A span cut into pieces keeps its data-finding on every
    piece, so the marks of one finding still read as its evidence.
    """
    size = len(text)
    spans = [replace(s, start=min(max(s.start, 0), size), end=min(max(s.end, 0), size)) for s in spans]
    spans = [s for s in spans if s.start < s.end]
    cuts = sorted({0, size, *(s.start for s in spans), *(s.end for s in spans)})
    # Wider spans outside; on equal spans the graver one inside, so its colour shows.
    ordered = sorted(spans, key=lambda s: (s.start, -s.end, SEVERITY_RANK.get(s.severity, 0), s.finding))
    parts: list[str] = []
    for left, right in zip(cuts, cuts[1:], strict=False):
        covering = [s for s in ordered if s.start <= left and right <= s.end]
        piece = str(escape(text[left:right]))
        if len(covering) > 1:
            piece = piece.join(('<span class="overlap">', "</span>"))
        parts.append("".join(_open_mark(s) for s in covering) + piece + "</mark>" * len(covering))
    return Markup("".join(parts))
