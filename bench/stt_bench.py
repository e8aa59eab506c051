"""Speech-to-text accuracy and speed on the sample calls.

Prints, per call and overall, the character error rate (CER) of each channel against the
reference transcripts (samples/audio/<call_id>.ref.json), and the real-time factor (RTF:
transcription wall time / audio duration). CER is computed after OpenCC t2s with
punctuation and spaces removed and digits spelt out; a channel's text is its utterances
joined in time order. The 2 cores are assumed otherwise idle: other load inflates RTF.

The same run times the simplest alternative: the stereo file mixed down to mono and
transcribed once with faster-whisper's default settings (language fixed to zh, no VAD, no
word timestamps), and prints the ratio of the two RTFs.

    .venv/bin/python bench/stt_bench.py [--threads 2] [--model default] [--samples DIR]
        [--bias none|hotwords|prompt] [--batch-size N]

`--bias` feeds the default rule file's greeting, closing and company phrases
(`qa_engine.stt.vocabulary.rule_hotwords`) to the decoder as hotwords or as the initial
prompt (rule-aware decoding); `--batch-size` decodes with faster-whisper's batched pipeline.

"turns" counts reference turns matched by an overlapping utterance of the same speaker and
"start err"/"end err" are the median gaps between their start/end times (the timing
rules, silence and interruption, read these).
"agent PER" is the same error rate on toneless pinyin syllables (pypinyin, a dev-only
need): the gap between CER and PER is homophone confusion (速递 heard as 宿地), which the
engine's pinyin matching absorbs.

Targets: agent-channel CER <= 8 %, RTF <= 0.3 on 2 CPU threads.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa_engine.models import CallTranscript  # noqa: E402
from qa_engine.stt import STTOptions, Transcriber, load_audio, match_key  # noqa: E402

AGENT_CER_TARGET = 0.08
RTF_TARGET = 0.3


def edit_distance(a: str | list[str], b: str | list[str]) -> int:
    """Levenshtein distance (insertions, deletions, substitutions all cost 1)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


_DIGITS = str.maketrans("0123456789", "零一二三四五六七八九")


def cer_text(text: str) -> str:
    """Text as scored: simplified, no punctuation or spaces, digits read one by one.

    Whisper writes a spoken 工号三零八 as "308"; the references spell digits out, so
    Arabic digits are mapped to their characters (standard CER text normalisation).
    """
    return match_key(text).translate(_DIGITS)


def channel_text(transcript: CallTranscript, speaker: str | None) -> str:
    """The speaker's words in time order (all speakers when ``speaker`` is None)."""
    utts = sorted(transcript.utterances, key=lambda u: u.start)
    return cer_text("".join(u.text for u in utts if speaker in (None, u.speaker)))


def pinyin_units(text: str) -> list[str]:
    """Toneless pinyin per character: errors left here are not homophone confusions.

    Without pypinyin installed the characters themselves are returned (PER = CER).
    """
    try:
        from pypinyin import lazy_pinyin
    except ImportError:
        return list(text)
    return lazy_pinyin(text)


def score(ref: str | list[str], hyp: str | list[str]) -> tuple[int, int]:
    """(errors, reference length) so totals can be pooled across calls."""
    return edit_distance(ref, hyp), len(ref)


def turn_timing(
    ref: CallTranscript, hyp: CallTranscript
) -> tuple[int, int, list[float], list[float]]:
    """(reference turns found, reference turns, |start| and |end| error of found turns).

    A reference turn is found when a hypothesis utterance of the same speaker overlaps it;
    the timing rules (silence, interruption) depend on these times.
    """
    found, starts, ends = 0, [], []
    for r in ref.utterances:
        overlaps = [(min(r.end, h.end) - max(r.start, h.start), h) for h in hyp.utterances
                    if h.speaker == r.speaker and h.end > r.start and h.start < r.end]
        if overlaps:
            found += 1
            best = max(overlaps, key=lambda o: o[0])[1]
            starts.append(abs(best.start - r.start))
            ends.append(abs(best.end - r.end))
    return found, len(ref.utterances), starts, ends


def mono_baseline(model, path: Path) -> tuple[float, str]:
    """Wall time and text of transcribing the mixed-down call once, default settings."""
    audio = load_audio(path)
    t0 = time.perf_counter()
    mono = audio.mean(axis=0).astype(np.float32)
    segments, _ = model.transcribe(mono, language="zh")
    text = "".join(s.text for s in segments)
    return time.perf_counter() - t0, cer_text(text)


def bias_options(bias: str) -> dict[str, str | None]:
    """STT options for `--bias`: the default rules' phrases as hotwords or as a prompt."""
    from qa_engine.rulefile import load_rules
    from qa_engine.stt.vocabulary import rule_hotwords

    words = rule_hotwords(load_rules()) if bias != "none" else None
    return {"hotwords": words if bias == "hotwords" else None,
            "initial_prompt": words if bias == "prompt" else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=Path, default=ROOT / "samples" / "audio")
    parser.add_argument("--model", default="default")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--bias", choices=["none", "hotwords", "prompt"], default="none")
    parser.add_argument("--batch-size", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--show", action="store_true", help="print hypotheses too")
    args = parser.parse_args()

    refs = sorted(args.samples.glob("*.ref.json"))
    audio_files = []
    for ref in refs:
        stem = ref.name.removesuffix(".ref.json")
        found = [p for p in ref.parent.glob(stem + ".*") if not p.name.endswith(".json")]
        if found:
            audio_files.append((ref, found[0]))
    if not audio_files:
        print(f"no <call>.ref.json with audio in {args.samples}", file=sys.stderr)
        return 2

    options = STTOptions(model=args.model, cpu_threads=args.threads, beam_size=args.beam_size,
                         device=args.device, batch_size=args.batch_size, **bias_options(args.bias))
    transcriber = Transcriber(options)
    t0 = time.perf_counter()
    _ = transcriber.model
    load_s = time.perf_counter() - t0
    print(f"bias {args.bias}, batch size {args.batch_size or '-'}, device {args.device}")
    print(f"model {args.model} ({transcriber.stt_record()['model_path']}), "
          f"{options.resolved_cpu_threads()} threads, "
          f"{transcriber.stt_record()['compute_type']}, load {load_s:.1f} s")
    header = (f"{'call':24} {'dur s':>6} {'agent CER':>9} {'cust CER':>9} {'agent PER':>8}"
              f" {'turns':>6} {'start err':>9} {'end err':>7} {'RTF':>6}"
              + ("" if args.no_baseline else f" {'mono RTF':>8} {'mono CER':>8}"))
    print(header)
    totals = {"agent": [0, 0], "customer": [0, 0], "mono": [0, 0], "all": [0, 0],
              "agent_py": [0, 0]}
    wall = base_wall = duration = 0.0
    turns_found = [0, 0]
    all_start_errors: list[float] = []
    all_end_errors: list[float] = []
    for ref_path, audio_path in audio_files:
        ref = CallTranscript.model_validate(json.loads(ref_path.read_text()))
        t0 = time.perf_counter()
        hyp = transcriber.transcribe(audio_path)
        elapsed = time.perf_counter() - t0
        dur = float(hyp.stt.duration)
        wall += elapsed
        duration += dur
        row = f"{ref.call_id:24} {dur:6.1f}"
        for speaker in ("agent", "customer"):
            err, n = score(channel_text(ref, speaker), channel_text(hyp, speaker))
            totals[speaker][0] += err
            totals[speaker][1] += n
            row += f" {err / max(n, 1):9.1%}"
        err, n = score(pinyin_units(channel_text(ref, "agent")),
                       pinyin_units(channel_text(hyp, "agent")))
        totals["agent_py"][0] += err
        totals["agent_py"][1] += n
        row += f" {err / max(n, 1):8.1%}"
        err, n = score(channel_text(ref, None), channel_text(hyp, None))
        totals["all"][0] += err
        totals["all"][1] += n
        found, turns, start_errors, end_errors = turn_timing(ref, hyp)
        turns_found[0] += found
        turns_found[1] += turns
        all_start_errors += start_errors
        all_end_errors += end_errors
        row += (f" {found:>2}/{turns:<3} {np.median(start_errors):8.2f}s"
                f" {np.median(end_errors):6.2f}s {elapsed / dur:6.3f}")
        if not args.no_baseline:
            b_wall, b_text = mono_baseline(transcriber.model, audio_path)
            base_wall += b_wall
            err, n = score(channel_text(ref, None), b_text)
            totals["mono"][0] += err
            totals["mono"][1] += n
            row += f" {b_wall / dur:8.3f} {err / max(n, 1):8.1%}"
        print(row)
        if args.show:
            for u in hyp.utterances:
                print(f"    {u.speaker:8} {u.start:6.2f}-{u.end:6.2f} {u.text}")

    def rate(key: str) -> float:
        return totals[key][0] / max(totals[key][1], 1)

    rtf = wall / duration
    print(f"{'overall':24} {duration:6.1f} {rate('agent'):9.1%} {rate('customer'):9.1%} "
          f"{rate('agent_py'):8.1%} {turns_found[0]:>2}/{turns_found[1]:<3} "
          f"{np.median(all_start_errors):8.2f}s {np.median(all_end_errors):6.2f}s {rtf:6.3f}" + ("" if args.no_baseline else
                           f" {base_wall / duration:8.3f} {rate('mono'):8.1%}"))
    print(f"both channels CER {rate('all'):.1%}; targets: agent CER <= "
          f"{AGENT_CER_TARGET:.0%} ({'met' if rate('agent') <= AGENT_CER_TARGET else 'MISSED'}),"
          f" RTF <= {RTF_TARGET} ({'met' if rtf <= RTF_TARGET else 'MISSED'})")
    if not args.no_baseline:
        print(f"per-channel pipeline RTF / mono default RTF = {rtf / (base_wall / duration):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
