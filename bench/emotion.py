"""Customer emotion against hand labels: "upset" customer utterances on the real calls.

Rebuilds the labelled Meituan calls (DESED FOSAED dev split) from a fetched copy, reads
every customer utterance with the rule set's emotion analyser and prints precision and
recall of level ≥ upset against bench/real_calls/upset.csv (labelled under
bench/real_calls/labelling-guide.md), for the tuning calls and the held-out calls
(bench/real_calls/heldout.txt, not read while tuning) separately, then the upset-only calls:
batch 5 (bench/real_calls/upset_only_calls.txt, tuned on since its first measurement) and the
held-out batch 6 (upset_heldout_calls.txt, never read), batches 7 to 11 (each measured fresh,
then tuned on), batch 12 (batch12_calls.txt, the last 14 calls: measured fresh once, then read) and every labelled call
together; then the sample audio's
customer turns against samples/audio/upset.csv, once from the reference transcripts and once
from the audio through speech-to-text with the voice measured (bench/audio_emotion.py; a
reference turn counts as found when a recognised customer utterance overlapping it in time
is upset); then the cost of the text emotion against the rule engine per call.

    python bench/emotion.py PATH_TO_DESED_OR_DEV_JSON [--rules FILE] [--errors] [--no-audio]
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from real_calls import BATCH5, BATCH6, BATCH12, HELDOUT, LATER_BATCHES, rebuild  # noqa: E402
from upset_scores import UpsetScores  # noqa: E402

from qa_engine.emotion import EmotionAnalyzer, EmotionTrack, level_rank  # noqa: E402
from qa_engine.engine import Engine  # noqa: E402
from qa_engine.models import CallTranscript  # noqa: E402
from qa_engine.rulefile import load_rules  # noqa: E402
from qa_engine.text import analyze  # noqa: E402

UPSET = HERE / "real_calls" / "upset.csv"
AUDIO_UPSET = ROOT / "samples" / "audio" / "upset.csv"
UPSET_AT_POINTS = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0)


def read_upset(path: Path) -> set[tuple[str, int]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {(r["call_id"], int(r["utterance_index"])) for r in csv.DictReader(handle) if r["category"] == "upset"}


def predict(engine: Engine, call: CallTranscript) -> dict[int, object]:
    """Each customer utterance's emotion, in the order the engine reads it."""
    track = EmotionTrack()
    out = {}
    for index, utterance in enumerate(call.utterances):
        emotion = engine.emotion.read(track, index, utterance, analyze(utterance.text))
        if utterance.speaker == "customer":
            out[index] = emotion
    return out


def measure(name: str, engine: Engine, calls: list[CallTranscript], labels: set, errors: bool) -> None:
    scores = UpsetScores()
    for call in calls:
        for index, emotion in predict(engine, call).items():
            said = level_rank(emotion.level) >= level_rank("upset")
            if scores.add(said, (call.call_id, index) in labels) and errors:
                kind = "FP  " if said else "MISS"
                scores.lines.append(f"  {kind} {call.call_id}#{index} {emotion.describe()} | {call.utterances[index].text}")
    scores.print(name, len(calls))


def operating_points(engine: Engine, calls: list[CallTranscript], labels: set) -> None:
    """Precision and recall at other `upset_at` thresholds: the knob a QA lead turns when an
    alert must be right more often than it is complete (angry_at never falls below upset_at)."""
    config = engine.emotion.config
    print(f"\nevery labelled call at other thresholds (rule file `emotion: {{upset_at: X}}`; now {config.upset_at:g})")
    print(f"{'upset_at':<34}{'calls':>6}{'turns':>8}{'upset':>7}{'found':>7}{'P':>7}{'R':>7}")
    default = engine.emotion
    try:
        for upset_at in UPSET_AT_POINTS:
            update = {"upset_at": upset_at, "angry_at": max(config.angry_at, upset_at)}
            engine.emotion = EmotionAnalyzer(config.model_copy(update=update))
            measure(f"{upset_at:g}", engine, calls, labels, False)
    finally:
        engine.emotion = default


def cost(engine: Engine, calls: list[CallTranscript], rounds: int = 5) -> None:
    """Text emotion vs the whole rule engine, per call (the engine's time includes the emotion)."""
    analyses = [[analyze(u.text) for u in call.utterances] for call in calls]
    best_emotion = best_engine = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for call, texts in zip(calls, analyses, strict=True):
            track = EmotionTrack()
            for index, (utterance, analysis) in enumerate(zip(call.utterances, texts, strict=True)):
                engine.emotion.read(track, index, utterance, analysis)
        best_emotion = min(best_emotion, time.perf_counter() - started)
        started = time.perf_counter()
        for call in calls:
            engine.score(call)
        best_engine = min(best_engine, time.perf_counter() - started)
    per_call = 1000 / len(calls)
    print(
        f"\ntext emotion {best_emotion * per_call:.2f} ms per call; rule engine (scoring, emotion included) "
        f"{best_engine * per_call:.2f} ms per call; ratio {best_emotion / best_engine:.1%} (bar: < 20 %)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="DESED checkout, or its dev.json")
    parser.add_argument("--rules", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=Path("out/real_calls"))
    parser.add_argument("--errors", action="store_true", help="list false positives and misses (tuning calls and sample audio)")
    parser.add_argument("--no-audio", action="store_true", help="skip the sample audio (speech-to-text)")
    args = parser.parse_args()

    engine = Engine(load_rules(args.rules), keep_pii=True)
    calls = rebuild(args.source, args.out)
    labels = read_upset(UPSET)
    heldout = set(HELDOUT.read_text(encoding="utf-8").split())
    print(f"labels: {UPSET.relative_to(ROOT)} ({len(labels)} upset customer utterances)\n")
    print(f"{'calls':<34}{'calls':>6}{'turns':>8}{'upset':>7}{'found':>7}{'P':>7}{'R':>7}")
    batch5 = rebuild(args.source, args.out, BATCH5)  # measured once fresh, then tuned on
    batch6 = rebuild(args.source, args.out, BATCH6)  # labelled while the rules were revised, never read
    tuning = [c for c in calls if c.call_id not in heldout]
    measure("tuning calls (48)", engine, tuning, labels, args.errors)
    measure("batch 5 (30, tuned on)", engine, batch5, labels, args.errors)
    measure("held-out 16 (not read)", engine, [c for c in calls if c.call_id in heldout], labels, False)
    measure("held-out batch 6 (30, not read)", engine, batch6, labels, False)
    later = [rebuild(args.source, args.out, batch) for batch in LATER_BATCHES]  # each measured fresh, then tuned on
    for number, batch in enumerate(later, start=7):
        measure(f"batch {number} (40, tuned on)", engine, batch, labels, args.errors)
    batch12 = rebuild(args.source, args.out, BATCH12)  # the last 14 calls of the split: measured fresh once, then read
    measure("batch 12 (14, fresh once, then read)", engine, batch12, labels, False)
    everything = calls + batch5 + batch6 + [call for batch in later for call in batch] + batch12
    measure("every labelled call", engine, everything, labels, False)
    operating_points(engine, everything, labels)
    if AUDIO_UPSET.exists() and not args.no_audio:
        from audio_emotion import measure_audio, sample_audio_calls

        audio_calls = sample_audio_calls()
        audio_labels = read_upset(AUDIO_UPSET)
        measure("sample audio, reference text", engine, [c.reference for c in audio_calls], audio_labels, args.errors)
        measure_audio("sample audio, STT + voice", engine, audio_calls, audio_labels, args.errors)
    cost(engine, calls)


if __name__ == "__main__":
    main()
