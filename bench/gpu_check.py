"""Device check: the sample calls through the CPU path and the GPU path, CER and RTF of each.

    .venv/bin/python bench/gpu_check.py [--threads 2] [--batch-size 8] [--model default]

CPU half: int8, sequential decoding (the default) and the batched pipeline. GPU half (only
where CTranslate2 sees a CUDA device): float16, sequential and batched. CER is both
channels against samples/audio/*.ref.json (bench/stt_bench.py's normalisation); RTF is
transcription wall time over audio duration, model load excluded. Without a GPU the GPU
half prints why it was skipped and the script still exits 0.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stt_bench import channel_text, score  # noqa: E402

from qa_engine.models import CallTranscript  # noqa: E402
from qa_engine.stt import STTOptions, Transcriber  # noqa: E402


def samples() -> list[tuple[CallTranscript, Path]]:
    found = []
    for ref in sorted((ROOT / "samples" / "audio").glob("*.ref.json")):
        audio = next(p for p in ref.parent.glob(ref.name.replace(".ref.json", ".*")) if p.suffix != ".json")
        found.append((CallTranscript.model_validate(json.loads(ref.read_text(encoding="utf-8"))), audio))
    return found


def run(label: str, options: STTOptions, calls) -> None:
    transcriber = Transcriber(options)
    started = time.perf_counter()
    record = transcriber.stt_record()
    load = time.perf_counter() - started
    errors = length = 0
    wall = duration = 0.0
    for reference, audio in calls:
        started = time.perf_counter()
        heard = transcriber.transcribe(audio)
        wall += time.perf_counter() - started
        duration += float(heard.stt.duration)
        err, n = score(channel_text(reference, None), channel_text(heard, None))
        errors, length = errors + err, length + n
    print(f"{label:<28} {record['device']:>5} {record['compute_type']:>8} {record['decoding']:>12} "
          f"CER {errors / max(length, 1):6.1%}  RTF {wall / duration:6.3f}  "
          f"({duration:.0f} s audio, load {load:.1f} s)", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--model", default="default")
    parser.add_argument("--skip-cpu", action="store_true")
    args = parser.parse_args()
    calls = samples()
    base = STTOptions(model=args.model, cpu_threads=args.threads)
    if not args.skip_cpu:
        run("cpu int8 sequential", base.model_copy(update={"device": "cpu"}), calls)
        run(f"cpu int8 batched ({args.batch_size})",
            base.model_copy(update={"device": "cpu", "batch_size": args.batch_size}), calls)
    import ctranslate2

    if ctranslate2.get_cuda_device_count() == 0:
        print("gpu: skipped (CTranslate2 sees no CUDA device; run this on a machine with an NVIDIA GPU)")
        return 0
    gpu = base.model_copy(update={"device": "cuda", "compute_type": "float16"})
    run("gpu float16 sequential", gpu, calls)
    run(f"gpu float16 batched ({args.batch_size})", gpu.model_copy(update={"batch_size": args.batch_size}), calls)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
