"""Find the calls to score: transcript JSON, JSONL (one call a line), audio, and folders of them.

A malformed call becomes a `CallSource` with an `error` naming the file, the line and
the field, so a batch can record it and go on with the others.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
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


def _inside(path: Path, folders: list[Path]) -> bool:
    resolved = path.resolve()
    return any(resolved == folder or folder in resolved.parents for folder in folders)


def discover(paths: list[Path], exclude: Iterable[Path] = ()) -> list[Path]:
    """Files named, and the transcript and audio files under folders named, in a stable order.

    Files under an `exclude` folder (the output folders of this run) are skipped when a
    folder is searched, so a run never reads its own reports as calls.
    """
    skip = [Path(folder).resolve() for folder in exclude]
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                name = child.name.lower()
                if not child.is_file() or name.endswith(SKIPPED_ENDINGS) or name.startswith("."):
                    continue
                if skip and _inside(child, skip):
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


def _printable(text: str) -> str:
    """`text` with lone surrogates escaped, so it can be written to a UTF-8 file."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _parse_call(data: object, origin: str, fallback_id: str) -> CallSource:
    call_id = data.get("call_id") if isinstance(data, dict) else None
    key = _printable(str(call_id)) if call_id else fallback_id
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


def _decode_error(origin: str, data: bytes, error: UnicodeDecodeError) -> str:
    line = data.count(b"\n", 0, error.start) + 1
    column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
    return f"{origin}:{line}:{column}: not valid UTF-8 (byte 0x{data[error.start]:02x}); save the file as UTF-8"


def _loads(text: str, origin: str) -> tuple[object | None, str | None]:
    """Parsed JSON, or None and an error naming the line and column."""
    try:
        return json.loads(text), None
    except json.JSONDecodeError as error:
        return None, f"{origin}:{error.lineno}:{error.colno}: not valid JSON: {error.msg}"
    except RecursionError:
        return None, f"{origin}: not usable JSON: nested too deeply"


def _read_json(path: Path) -> Iterator[CallSource]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark is accepted, as the server does
    except UnicodeDecodeError as error:
        yield CallSource(path.stem, str(path), error=_decode_error(str(path), raw, error))
        return
    data, problem = _loads(text, str(path))
    if problem:
        yield CallSource(path.stem, str(path), error=problem)
        return
    if isinstance(data, list):
        for index, item in enumerate(data):
            yield _parse_call(item, f"{path}[{index}]", f"{path.stem}-{index}")
    else:
        yield _parse_call(data, str(path), path.stem)


def _read_jsonl(path: Path) -> Iterator[CallSource]:
    """One call a line; a line that is not UTF-8 or not JSON fails alone, the others go on."""
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, start=1):
            origin = f"{path}:{number}"
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as error:
                column = error.start + 1
                yield CallSource(
                    f"{path.stem}-{number}",
                    origin,
                    error=f"{origin}:{column}: not valid UTF-8 (byte 0x{raw[error.start]:02x}); save the file as UTF-8",
                )
                continue
            if not line.strip():
                continue
            data, problem = _loads(line, origin)
            if problem:
                yield CallSource(f"{path.stem}-{number}", origin, error=problem.replace(f"{origin}:1:", f"{origin}:", 1))
                continue
            yield _parse_call(data, origin, f"{path.stem}-{number}")


def iter_calls(paths: list[Path], exclude: Iterable[Path] = ()) -> Iterator[CallSource]:
    """Every call under `paths` (not under `exclude`), read lazily one file at a time;
    unreadable ones carry an error instead of a transcript."""
    for path in discover(paths, exclude):
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


def survey(paths: list[Path], exclude: Iterable[Path] = ()) -> tuple[int, bool]:
    """(number of calls, whether any is audio) under `paths`, reading one file at a time.

    Calls are counted, not parsed (a JSONL line is one call, a JSON array one call per
    item): the batch then parses each call once. A file that will fail counts as one call,
    as `iter_calls` yields it as one failed call.
    """
    calls, audio = 0, False
    for path in discover(paths, exclude):
        suffix = path.suffix.lower()
        if suffix in AUDIO_SUFFIXES and path.exists():
            calls, audio = calls + 1, True
        elif suffix == ".jsonl" and path.exists():
            try:
                with path.open("rb") as lines:
                    calls += sum(1 for line in lines if line.strip())
            except OSError:
                calls += 1
        elif suffix == ".json" and path.exists():
            calls += _json_calls(path)
        else:
            calls += 1
    return calls, audio


def _json_calls(path: Path) -> int:
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (OSError, ValueError, RecursionError):
        return 1
    return len(data) if isinstance(data, list) else 1
