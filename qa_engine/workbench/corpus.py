"""A folder of transcripts to measure rule sets on (diff, calibrate)."""

from __future__ import annotations

from pathlib import Path

from qa_engine.inputs import iter_calls
from qa_engine.models import CallTranscript


class CorpusError(ValueError):
    """The corpus has unreadable calls or none at all."""


def load_corpus(paths: list[Path]) -> list[CallTranscript]:
    """Every transcript under `paths`; audio is not transcribed here (score it once first)."""
    calls, problems = [], []
    for source in iter_calls(paths):
        if source.error:
            problems.append(source.error)
        elif source.transcript is not None:
            calls.append(source.transcript)
    if problems:
        raise CorpusError("unreadable calls in the corpus:\n  " + "\n  ".join(problems))
    if not calls:
        raise CorpusError("no transcripts found under " + ", ".join(map(str, paths)))
    return calls
