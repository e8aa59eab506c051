"""The HTML writer: one page per call as reports arrive, index.html and calls.csv at the end."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from qa_engine.fsutil import safe_name, write_atomic
from qa_engine.models import CallReport, CallTranscript
from qa_engine.report.html.charts import category_figure, figure_html, plotly_js, rule_figure, score_figure
from qa_engine.report.html.timeline import build_timeline, silence_threshold
from qa_engine.report.html.views import agent_rows, batch_stats, category_rows, metric_rows, utterance_views
from qa_engine.report.labels import (
    AGENT_METRIC_LABELS,
    LOUD_TURN,
    SEVERITY_LABELS,
    SPEAKER_LABELS,
    category_costs,
    fmt_points,
    fmt_rate,
    fmt_time,
    verdict,
)
from qa_engine.report.writer import write_csv
from qa_engine.rulefile import RuleSet

TEMPLATES = Path(__file__).parent.parent / "templates"
RESERVED_STEMS = frozenset({"index"})
WORST_CALLS = 10


@dataclass
class _Entry:
    report: CallReport
    page: str  # file name beside index.html


def _same_file_copy(source: Path, target: Path) -> bool:
    """An earlier run's copy is reused when it is as large as and newer than the recording."""
    if not target.exists():
        return False
    src, dst = source.stat(), target.stat()
    return src.st_size == dst.st_size and dst.st_mtime_ns >= src.st_mtime_ns


def percent_width(value: float, total: float) -> float:
    """Bar width in percent for the category subtotals (never zero, so a small cost still shows)."""
    return 0.0 if total <= 0 else round(max(value / total * 100, 2.0), 1)


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(time=fmt_time, points=fmt_points, rate=fmt_rate, href=quote)
    env.globals.update(
        severity_labels=SEVERITY_LABELS,
        speaker_labels=SPEAKER_LABELS,
        verdict=verdict,
        percent_width=percent_width,
        agent_metric_labels=AGENT_METRIC_LABELS,
        loud_label=LOUD_TURN,
    )
    return env


class HtmlReportWriter:
    """Writes one page per call as reports arrive, and the batch summary at the end."""

    def __init__(self, out_dir: Path, rules: RuleSet, copy_audio: bool = True, audio_redaction: str | None = None) -> None:
        """``audio_redaction`` (``silence`` | ``tone``): the player gets a redacted copy of
        the recording (`qa_engine.pii.audio`), never the original; a call whose transcript
        was not redacted, or whose copy fails, gets no player. None: the recording as is."""
        self.out_dir = Path(out_dir)
        self.rules = rules
        self.copy_audio = copy_audio
        self.audio_redaction = audio_redaction
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._entries: dict[str, _Entry] = {}
        self._stems: dict[str, str] = {}  # lower-case file stem -> call id: ids that clean alike stay apart
        self._gap = silence_threshold(rules)

    @classmethod
    def resumed(cls, out_dir: Path, rules: RuleSet, sink, sources, redact, audio_redaction: str | None = None) -> HtmlReportWriter:
        """A writer for a `qa score` run, seeded with the calls an earlier run scored (on --resume).

        `sink` is the run's `ReportSink`, `sources` its calls; `redact` is the engine's: a
        transcript that cannot be redacted is left out (fail closed: the page shows findings only).
        """
        writer = cls(out_dir, rules, audio_redaction=audio_redaction)
        by_key = {source.key: source for source in sources if source.key in sink.done}
        for report in sink.previous_reports():
            source = by_key.get(report.call_id)
            transcript = source.transcript if source else None
            saved = sink.out_dir / f"{safe_name(report.call_id)}.transcript.json"
            if transcript is None and saved.exists():
                transcript = CallTranscript.model_validate_json(saved.read_text(encoding="utf-8"))
            try:
                transcript = redact(transcript) if transcript is not None else None
            except RuntimeError:
                transcript = None
            writer.add(report, transcript, source.audio if source else None)
        return writer

    def add(self, report: CallReport, transcript: CallTranscript | None, audio: Path | None = None) -> Path:
        """Write the call's page (a short error page for a failed call) and remember it for the summary."""
        stem = self._stem(report.call_id)
        path = self.out_dir / f"{stem}.html"
        if report.status == "failed":
            html = self._render("failed.html.j2", report=report, title=f"{report.call_id} · 失败")
        else:
            html = self._call_page(report, transcript, self._place_audio(audio, stem, transcript) if audio else None)
        write_atomic(path, html)
        self._entries[report.call_id] = _Entry(report, path.name)
        return path

    def finish(self) -> Path:
        """Write index.html and calls.csv for every call added so far."""
        reports = [e.report for e in self._entries.values()]
        write_csv(self.out_dir / "calls.csv", reports)
        charts = self._charts(reports) if any(r.status == "scored" for r in reports) else []
        html = self._render(
            "index.html.j2",
            title=f"质检汇总 · {self.rules.name}",
            stats=batch_stats(reports),
            agents=agent_rows(reports),
            entries=sorted(self._entries.values(), key=lambda e: e.report.call_id),
            worst=self._worst(),
            failed=[e for e in self._entries.values() if e.report.status == "failed"],
            charts=charts,
            plotly_js=plotly_js() if charts else "",
            costs=self._costs,
        )
        path = self.out_dir / "index.html"
        write_atomic(path, html)
        return path

    # -- pieces

    def _stem(self, call_id: str) -> str:
        """safe_name of the id, suffixed when another id (or index.html) already has that name."""
        if call_id in self._entries:
            return Path(self._entries[call_id].page).stem
        base = safe_name(call_id)
        stem, n = base, 1
        # Compared in lower case: on macOS and Windows "A.html" and "a.html" are one file.
        while stem.lower() in RESERVED_STEMS or self._stems.get(stem.lower(), call_id) != call_id:
            n += 1
            stem = f"{base}-{n}"
        self._stems[stem.lower()] = call_id
        return stem

    def _place_audio(self, audio: Path, stem: str, transcript: CallTranscript | None = None) -> str | None:
        """Copy the recording under audio/ so the report folder can be moved as a whole
        (with audio redaction: write the redacted copy there instead)."""
        if self.audio_redaction is not None:
            from qa_engine.pii.audio import redact_audio
            from qa_engine.pii.redactor import RedactionError

            if transcript is None or transcript.pii is None:
                return None  # fail closed: nothing says where the personal data is
            target = self.out_dir / "audio" / f"{stem}.flac"
            try:
                redact_audio(audio, transcript, target, mode=self.audio_redaction)
            except RedactionError:
                return None
            return f"audio/{quote(target.name)}"
        if not self.copy_audio:
            return quote(Path(audio).resolve().as_uri(), safe=":/%")
        source = Path(audio)
        target = self.out_dir / "audio" / f"{stem}{source.suffix.lower()}"
        if not _same_file_copy(source, target):
            write_atomic(target, source.read_bytes())
        return f"audio/{quote(target.name)}"

    def _call_page(self, report: CallReport, transcript: CallTranscript | None, audio_src: str | None) -> str:
        rows, views = utterance_views(transcript, report, self.rules)
        return self._render(
            "call.html.j2",
            title=f"{report.call_id} · 质检报告",
            report=report,
            verdict=verdict(report),
            categories=category_rows(report, self.rules),
            utterances=rows,
            findings=views,
            turn_findings=[v for v in views if v.utterance_index is not None],
            call_findings=[v for v in views if v.utterance_index is None],
            timeline=build_timeline(transcript, report, self._gap, self.rules.model.emotion),
            metrics=metric_rows(report),
            gap=self._gap,
            has_transcript=transcript is not None,
            audio_src=audio_src,
            stt_json=json.dumps(report.provenance.model_dump(mode="json")["stt"], ensure_ascii=False, indent=1)
            if report.provenance and report.provenance.stt
            else None,
        )

    def _charts(self, reports: list[CallReport]) -> list[Markup]:
        scored = [r for r in reports if r.status == "scored"]
        return [
            figure_html(score_figure(scored), "chart-scores"),
            figure_html(category_figure(scored, self.rules), "chart-categories"),
            figure_html(rule_figure(scored), "chart-rules"),
        ]

    def _worst(self) -> list[_Entry]:
        scored = [
            e for e in self._entries.values() if e.report.status == "scored" and e.report.score is not None
        ]
        return sorted(scored, key=lambda e: (e.report.score, e.report.call_id))[:WORST_CALLS]

    def _costs(self, report: CallReport) -> str:
        return "、".join(category_costs(report, self.rules.category_label))

    def _render(self, template: str, **context) -> str:
        return _environment().get_template(template).render(rules=self.rules, **context)
