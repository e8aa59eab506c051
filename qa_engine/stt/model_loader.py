"""Load a faster-whisper model from a name or folder, and record what was loaded.

Kept apart from the transcriber: loading is about files, hubs and devices (and their
errors), transcribing about audio; the record goes into every transcript made with it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qa_engine.stt.model_store import (
    DEFAULT_SPECS,
    OFFLINE_MODEL_SHA256,
    ModelLoadError,
    ModelNotFoundError,
    check_model_dir,
    resolve_model,
)
from qa_engine.stt.options import STTOptions


def load_whisper(opts: STTOptions, model_cache_dir: Path | None = None) -> tuple[Any, dict[str, Any]]:
    """Load the Whisper model the options name, and the record of what was loaded.

    A hub name is downloaded (or read from the hub cache) where a network exists; offline
    the error names the bundled model and local folders instead of a bare hub failure.
    """
    from faster_whisper import WhisperModel
    from faster_whisper.utils import download_model

    resolved = resolve_model(opts.model, model_cache_dir)
    if isinstance(resolved, str):
        try:
            resolved = Path(download_model(resolved))
        except Exception as exc:  # hub, network and cache errors all mean "not here"
            raise ModelNotFoundError(
                opts.model,
                [
                    (
                        f"faster-whisper download of {resolved!r} from the Hugging "
                        f"Face Hub (and its local cache): {_first_line(exc)}"
                    ),
                ],
                "without network access use model 'default' (the bundled offline "
                "Whisper base model) or a local CTranslate2 model directory; or "
                "download the model on a connected machine and point to its folder.",
            ) from exc
    check_model_dir(resolved)  # a truncated or mixed folder: say so, not "try the CPU"
    device = opts.resolved_device()
    compute_type = opts.resolved_compute_type(device)
    threads = opts.resolved_cpu_threads()
    try:
        model = WhisperModel(
            str(resolved), device=device, compute_type=compute_type, cpu_threads=threads
        )
    except Exception as exc:  # CTranslate2 raises RuntimeError/ValueError variously
        raise ModelLoadError(resolved, device, compute_type, exc) from exc
    record = {
        "model_path": str(resolved),
        "device": device,
        "compute_type": compute_type,
        "cpu_threads": threads,
    }
    if opts.model.strip().lower() in DEFAULT_SPECS:
        record["model_sha256"] = OFFLINE_MODEL_SHA256  # checked when it was assembled
    return model, record


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"
