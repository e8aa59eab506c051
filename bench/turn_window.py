"""Live-turn decoding: character error rate and time for encoder window sizes.

Each reference utterance of the sample calls is cut from its channel (with 0.2 s either
side, as the endpointer pads) and decoded by `qa_engine.stt.short_window.decode_turn` with several
windows, against faster-whisper's own full 30 s window (the simplest alternative).

    python bench/turn_window.py
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from faster_whisper import WhisperModel, decode_audio  # noqa: E402
from rapidfuzz.distance import Levenshtein  # noqa: E402

from qa_engine.stt import ensure_offline_model  # noqa: E402
from qa_engine.stt.short_window import decode_turn  # noqa: E402
from qa_engine.text import to_simplified  # noqa: E402

VARIANTS = {"pad 2 s only": (0.0, 2.0), "min 8 s": (8.0, 2.0), "min 10 s (default)": (10.0, 2.0), "full 30 s": (30.0, 30.0)}


def keep_words(text: str) -> str:
    return re.sub(r"[\W_]+", "", to_simplified(text))


def main() -> None:
    model = WhisperModel(str(ensure_offline_model()), device="cpu", compute_type="int8", cpu_threads=2)
    turns = []
    for ref_path in sorted((ROOT / "samples" / "audio").glob("*.ref.json")):
        reference = json.loads(ref_path.read_text(encoding="utf-8"))
        audio_path = next(p for p in ref_path.parent.glob(ref_path.name.replace(".ref.json", ".*")) if p.suffix != ".json")
        channels = decode_audio(str(audio_path), split_stereo=True)
        for utterance in reference["utterances"]:
            channel = channels[0] if utterance["speaker"] == "agent" else channels[1]
            start, end = int(utterance["start"] * 16000) - 3200, int(utterance["end"] * 16000) + 3200
            turns.append((channel[max(0, start) : end], keep_words(utterance["text"])))
    audio_seconds = sum(len(samples) for samples, _ in turns) / 16000
    print(f"{len(turns)} turns, {audio_seconds:.0f} s of speech")
    for name, (min_window, pad) in VARIANTS.items():
        errors = chars = 0
        started = time.perf_counter()
        for samples, reference in turns:
            heard = keep_words(decode_turn(model, samples, min_window=min_window, pad=pad).text)
            errors += Levenshtein.distance(reference, heard)
            chars += len(reference)
        seconds = time.perf_counter() - started
        print(f"{name:<20} CER {errors / chars:6.1%}   {seconds:6.1f} s   {seconds / len(turns) * 1000:6.0f} ms/turn   RTF {seconds / audio_seconds:.3f}")


if __name__ == "__main__":
    main()
