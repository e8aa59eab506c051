"""Readable HTML reports: one self-contained page per call and a batch summary page.

Pages open from disk with no network: CSS and the little JavaScript are inline, and the
summary embeds plotly.js once. Transcripts are user data, so every string goes through
Jinja's autoescaping or `markupsafe.escape`; nothing user-supplied is put into a script.

    writer = HtmlReportWriter(Path("qa-html"), rules)
    for report, transcript, audio in scored:
        writer.add(report, transcript, audio)
    writer.finish()   # index.html + calls.csv

The pieces: `highlight` (evidence marks in the transcript), `views` (what the templates
show), `timeline` (the call's inline SVG geometry), `charts` (the summary's plotly
figures), `writer` (files and templates). Every label comes from `qa_engine.report.labels`.
"""

from qa_engine.report.html.highlight import Span, evidence_span, highlight
from qa_engine.report.html.timeline import build_timeline, silence_threshold, speech_gaps
from qa_engine.report.html.writer import HtmlReportWriter

__all__ = [
    "HtmlReportWriter",
    "Span",
    "build_timeline",
    "evidence_span",
    "highlight",
    "silence_threshold",
    "speech_gaps",
]
