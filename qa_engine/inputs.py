"""Find the calls to score: transcript JSON, JSONL (one call a line), audio, and folders of them.

A malformed call becomes a `CallSource` with an `error` naming the file, the line and
the field, so a batch can record it and go on with the others.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from qa_engine.models import CallTranscript

AUDIO_SUFFIXES = frozenset({".wav", ".mp3", ".m4a", ".flac", ".ogg", ".opus", ".aac"})
TRANSCRIPT_SUFFIXES = frozenset({".json", ".jsonl"})
# Reference transcripts beside sample audio and our own outputs are not calls to score.
SKIPPED_ENDINGS = (".ref.json", ".report.json", ".transcript.json")


@dataclass
class CallSource:
    """One call to score: a transcript already read, an audio file, or an error."""

    key: str
    origin: str
    transcript: CallTranscript | None = None
    audio: Path | None = None
    error: str | None = None


def discover(paths: list[Path]) -> list[Path]:
    """Files named, and the transcript and audio files under folders named, in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                name = child.name.lower()
                if not child.is_file() or name.endswith(SKIPPED_ENDINGS) or name.startswith("."):
                    continue
                if child.suffix.lower() in TRANSCRIPT_SUFFIXES | AUDIO_SUFFIXES:
                    found.append(child)
        else:
            found.append(path)
    return found


def _field_errors(error: ValidationError) -> str:
    parts = []
    for item in error.errors()[:5]:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in item["loc"]).lstrip(".")
        parts.append(f"{where or '(top level)'}: {item['msg']}")
    more = len(error.errors()) - 5
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _parse_call(data: object, origin: str, fallback_id: str) -> CallSource:
    call_id = data.get("call_id") if isinstance(data, dict) else None
    key = str(call_id) if call_id else fallback_id
    if not isinstance(data, dict):
        return CallSource(key, origin, error=f"{origin}: a call must be a JSON object with call_id and utterances")
    try:
        transcript = CallTranscript.model_validate(data)
    except ValidationError as error:
        return CallSource(
            key, origin, error=f"{origin}: invalid transcript: {_field_errors(error)} (fix the field and re-run)"
        )
    transcript.source = transcript.source or origin
    return CallSource(transcript.call_id, origin, transcript=transcript)


def _read_json(path: Path) -> Iterator[CallSource]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        yield CallSource(
            path.stem,
            str(path),
            error=f"{path}:{error.lineno}:{error.colno}: not valid JSON: {error.msg}",
        )
        return
    if isinstance(data, list):
        for index, item in enumerate(data):
            yield _parse_call(item, f"{path}[{index}]", f"{path.stem}-{index}")
    else:
        yield _parse_call(data, str(path), path.stem)


def _read_jsonl(path: Path) -> Iterator[CallSource]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            origin = f"{path}:{number}"
            try:
                data = json.loads(line)
            except json.JSONDecodeError as error:
                yield CallSource(
                    f"{path.stem}-{number}", origin, error=f"{origin}:{error.colno}: not valid JSON: {error.msg}"
                )
                continue
            yield _parse_call(data, origin, f"{path.stem}-{number}")


def iter_calls(paths: list[Path]) -> Iterator[CallSource]:
    """Every call under `paths`; unreadable ones carry an error instead of a transcript."""
    for path in discover(paths):
        suffix = path.suffix.lower()
        if not path.exists():
            yield CallSource(path.stem, str(path), error=f"{path}: no such file or folder")
        elif suffix in AUDIO_SUFFIXES:
            yield CallSource(path.stem, str(path), audio=path)
        elif suffix not in TRANSCRIPT_SUFFIXES:
            yield CallSource(
                path.stem,
                str(path),
                error=f"{path}: unknown file type '{suffix}' (use .json, .jsonl or audio: "
                + ", ".join(sorted(AUDIO_SUFFIXES))
                + ")",
            )
        else:
            try:
                yield from _read_jsonl(path) if suffix == ".jsonl" else _read_json(path)
            except (OSError, UnicodeDecodeError) as error:
                yield CallSource(path.stem, str(path), error=f"{path}: cannot read: {error}")
