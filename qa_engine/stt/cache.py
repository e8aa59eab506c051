"""Keep each call's transcript so re-scoring with new rules never re-runs speech-to-text.

The key is the audio's bytes plus everything that shapes the words (options, faster-whisper
version, this layer's format), so a changed file or setting can never return a stale
transcript. Files are written to a temporary name and renamed: a crash leaves no half file.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from qa_engine.fsutil import write_atomic
from qa_engine.models import CallTranscript
from qa_engine.stt.model_store import OFFLINE_MODEL_SHA256, default_cache_root
from qa_engine.stt.options import STTOptions
from qa_engine.stt.transcriber import Transcriber, file_sha256

NOT_IN_KEY = {"cpu_threads", "turn_window_seconds"}
"""Options that change speed or only the live path, never a recording's transcript."""

CACHE_FORMAT = 2
"""Bump when the transcription pipeline changes its output for the same options."""


def default_transcript_cache() -> Path:
    return default_cache_root() / "transcripts"


def options_hash(options: STTOptions) -> str:
    """Stable hash of the options and the versions that interpret them."""
    import faster_whisper

    payload = {
        "format": CACHE_FORMAT,
        "options": options.model_dump(mode="json", exclude=NOT_IN_KEY),
        "faster_whisper": faster_whisper.__version__,
        "bundled_model": OFFLINE_MODEL_SHA256 if options.model == "default" else None,
    }
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()


def transcript_cache_key(audio_sha256: str, options: STTOptions) -> str:
    """File name (without directory) of a cached transcript."""
    return f"{audio_sha256}.{options_hash(options)[:16]}.json"


def transcribe_cached(
    path: str | os.PathLike[str],
    options: STTOptions | None = None,
    cache_dir: Path | None = None,
    *,
    transcriber: Transcriber | None = None,
    call_id: str | None = None,
    agent_id: str | None = None,
    progress: Callable[[float], None] | None = None,
    redactor=None,
) -> CallTranscript:
    """The call's transcript from the cache, or transcribed now and stored.

    Pass a ``transcriber`` to reuse one loaded model across many calls; its options are
    then the ones used. The returned transcript names this ``path`` and ``call_id`` even
    when the same audio was cached under another name. ``progress`` is passed on to
    ``Transcriber.transcribe`` (see there). With a ``redactor``
    (`qa_engine.pii.Redactor`) personal data is masked BEFORE the cache write, under a
    key that includes the redaction settings; a failure raises and writes nothing.
    """
    if transcriber is None:
        transcriber = Transcriber(options)
    elif options is not None and options != transcriber.options:
        raise ValueError("options differ from the transcriber's options; pass one of them")
    cache_dir = Path(cache_dir) if cache_dir else default_transcript_cache()
    audio_sha = file_sha256(path)
    key = transcript_cache_key(audio_sha, transcriber.options)
    if redactor is not None:
        key = key.replace(".json", f".pii-{redactor.fingerprint}.json")
    target = cache_dir / key
    identity = {"call_id": call_id or Path(path).stem, "audio": str(path)}
    if agent_id is not None:
        identity["agent_id"] = agent_id
    if target.is_file():
        try:
            cached = CallTranscript.model_validate_json(target.read_bytes())
            return cached.model_copy(update=identity)
        except (ValidationError, ValueError, OSError):
            pass  # unreadable entry: transcribe again and overwrite it
    extra = {"progress": progress} if progress is not None else {}  # test fakes may not take it
    transcript = transcriber.transcribe(
        path, call_id=call_id, agent_id=agent_id, audio_sha256=audio_sha, **extra
    )
    if redactor is not None:
        transcript = redactor.redact_transcript(transcript)
    write_atomic(target, transcript.model_dump_json(indent=1))
    # What the cache gives back next time: the word timings are not kept (so a later
    # redaction spreads its spans over each utterance; pass `redactor` to use them).
    return CallTranscript.model_validate_json(target.read_bytes()).model_copy(update=identity)
