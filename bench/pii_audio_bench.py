"""Personal-data recall from audio: the PII sample calls through the real speech-to-text.

    .venv/bin/python bench/pii_audio_bench.py [--markdown] [--keep DIR]

Each call in samples/pii/ (made by tools/make_sample_audio.py from
samples/pii/scripts.yaml) is transcribed with the bundled Whisper base model (int8, 2
threads), redacted, and its recording redacted (`qa_engine.pii.audio`). The truth is the
reference transcript redacted by the same recognisers (text recall on it is 1.0: every
value in the scripts is found), one occurrence per span, a number split over turns
counted once. An occurrence is recalled from audio when the speech-to-text transcript
has a span of the same entity on the same speaker overlapping it in time (±0.5 s);
"masked" counts a span of any label there (a card whose digits Whisper garbled may be
masked as a landline or as `[号码]`: the value is gone, under another name).

Also printed: leaks (a script's raw value, in digits or as spoken, left in a redacted
transcript), and the residual level of the redacted recording over every customer turn
that is PII from end to end (digits, address), against the original's level there.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parent.parent
PII = REPO / "samples" / "pii"
sys.path.insert(0, str(REPO))

from qa_engine.models import CallTranscript, PiiSpan  # noqa: E402
from qa_engine.pii import Redactor  # noqa: E402
from qa_engine.pii.audio import read_recording, redact_audio  # noqa: E402
from qa_engine.pii.numerals import normalize_numerals  # noqa: E402
from qa_engine.stt import STTOptions, Transcriber  # noqa: E402

TOLERANCE = 0.5
MERGE_GAP = 1.5


def occurrences(transcript: CallTranscript) -> list[tuple[str, str, float, float]]:
    """(entity, speaker, start, end) per redacted span; a number split over turns is one."""
    out: list[list] = []
    for span in sorted(transcript.pii.spans, key=lambda s: s.start):
        speaker = transcript.utterances[span.utterance_index].speaker
        last = out[-1] if out else None
        if last and last[0] == span.entity and span.entity in NUMBERS and span.start - last[3] < MERGE_GAP:
            last[3] = max(last[3], span.end)
            continue
        out.append([span.entity, speaker, span.start, span.end])
    return [tuple(o) for o in out]


NUMBERS = {"phone", "landline", "id_card", "bank_card", "vcode", "number_fragment"}


def recalled(truth, spans: list[PiiSpan], transcript: CallTranscript, same_entity: bool = True) -> bool:
    entity, speaker, start, end = truth
    for span in spans:
        if same_entity and span.entity != entity or transcript.utterances[span.utterance_index].speaker != speaker:
            continue
        if span.start <= end + TOLERANCE and start - TOLERANCE <= span.end:
            return True
    return False


def raw_forms(value: str) -> list[str]:
    """The value as digits and as it is said (幺 for 1, 两 for 2, 洞 for 0 too)."""
    if not value.isdigit():
        return [value] if len(value) > 1 else []
    plain = "零一二三四五六七八九"
    said = "".join(plain[int(d)] for d in value)
    return [value, said, said.replace("一", "幺"), said.replace("零", "洞")]


def leaked(text: str, value: str) -> bool:
    compact = "".join(text.split())
    digits = normalize_numerals(compact, compact).text if value.isdigit() else compact
    return any(form in compact or form in digits for form in raw_forms(value)) or (
        value.isdigit() and value in "".join(ch for ch in digits if ch.isdigit())
    )


def db(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(x.astype(np.float64) ** 2)) + 1e-9))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--keep", type=Path, help="write the transcripts and redacted recordings here")
    args = ap.parse_args(argv)

    scripts = yaml.safe_load((PII / "scripts.yaml").read_text(encoding="utf-8"))["calls"]
    redactor = Redactor()
    transcriber = Transcriber(STTOptions(cpu_threads=2))
    found: dict[str, list[bool]] = defaultdict(list)
    masked: dict[str, list[bool]] = defaultdict(list)
    leaks: list[str] = []
    muted: list[tuple[str, float, float]] = []
    audio_seconds = stt_seconds = 0.0
    out_dir = args.keep or Path(tempfile.mkdtemp(prefix="pii-audio-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    for call in scripts:
        audio = PII / f"{call['call_id']}.flac"
        ref = CallTranscript.model_validate_json((PII / f"{call['call_id']}.ref.json").read_text(encoding="utf-8"))
        truth = occurrences(redactor.redact_transcript(ref))
        started = time.perf_counter()
        heard = transcriber.transcribe(audio)
        stt_seconds += time.perf_counter() - started
        audio_seconds += heard.stt.duration
        redacted = redactor.redact_transcript(heard)
        for item in truth:
            found[item[0]].append(recalled(item, redacted.pii.spans, redacted))
            masked[item[0]].append(recalled(item, redacted.pii.spans, redacted, same_entity=False))
        text = "\n".join(u.text for u in redacted.utterances)
        leaks += [f"{call['call_id']}: {p['entity']}" for p in call.get("pii", []) if leaked(text, str(p["value"]))]
        copy = redact_audio(audio, redacted, out_dir / f"{call['call_id']}.redacted.flac")
        (out_dir / f"{call['call_id']}.json").write_text(redacted.model_dump_json(indent=1), encoding="utf-8")
        rate, before = read_recording(audio)
        _, after = read_recording(copy)
        whole_turns = [u for u in redactor.redact_transcript(ref).utterances if u.text.strip("。，").startswith("[")
                       and u.speaker == "customer" and "]" in u.text and len(u.text.replace("[", "").split("]")[-1]) <= 2]
        for u in whole_turns:
            a, b = int(u.start * rate), int(u.end * rate)
            muted.append((f"{call['call_id']} {u.start:.1f}-{u.end:.1f}s", db(before[1, a:b]), db(after[1, a:b])))

    total = [x for v in found.values() for x in v]
    total_masked = [x for v in masked.values() for x in v]
    rows = [(e, len(v), sum(v) / len(v), sum(masked[e]) / len(v)) for e, v in sorted(found.items())]
    if args.markdown:
        print("| entity | occurrences | recall from audio | masked (any label) |\n|---|---:|---:|---:|")
        for e, n, r, m in rows:
            print(f"| {e} | {n} | {r:.2f} | {m:.2f} |")
        print(f"| **all** | {len(total)} | {sum(total) / len(total):.2f} | {sum(total_masked) / len(total):.2f} |")
    else:
        print(f"{'entity':<12}{'n':>4}{'recall':>8}{'masked':>8}")
        for e, n, r, m in rows:
            print(f"{e:<12}{n:>4}{r:>8.2f}{m:>8.2f}")
        print(f"{'all':<12}{len(total):>4}{sum(total) / len(total):>8.2f}{sum(total_masked) / len(total):>8.2f}")
    print(f"\nleaks (a script's value left in a redacted transcript): {len(leaks)} {leaks if leaks else ''}")
    worst = max((m[2] for m in muted), default=float("-inf"))
    print(f"customer turns that are PII end to end: {len(muted)}; level before "
          f"{min(m[1] for m in muted):.1f}..{max(m[1] for m in muted):.1f} dBFS, after ≤ {worst:.1f} dBFS")
    print(f"audio {audio_seconds:.1f} s, speech-to-text {stt_seconds:.1f} s (RTF {stt_seconds / audio_seconds:.2f}); "
          f"outputs in {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
