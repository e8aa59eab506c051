"""Customer emotion from the sample audio through speech-to-text, against hand labels.

`bench/emotion.py` imports this for its sample-audio row. Each sample call
(samples/audio/<call>.flac|wav) is transcribed with the bundled offline Whisper model
(the transcript cache makes a second run quick), its utterances get their voice measured
on their own channel (`qa_engine.voice.attach_voice`, as `qa score` does), and the engine's
emotion reader reads them in order. Labels (samples/audio/upset.csv, written by reading
the reference transcripts' customer turns under bench/real_calls/labelling-guide.md) are
per reference utterance, so the scoring is per reference customer turn: it is found upset
when a recognised customer utterance that overlaps it in time is read upset or angry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from upset_scores import UpsetScores

from qa_engine.emotion import EmotionTrack, level_rank
from qa_engine.engine import Engine
from qa_engine.models import CallTranscript, UtteranceEmotion
from qa_engine.text import analyze

ROOT = Path(__file__).resolve().parent.parent
AUDIO = ROOT / "samples" / "audio"


@dataclass
class AudioCall:
    reference: CallTranscript
    heard: CallTranscript  # speech-to-text, voice measured


def sample_audio_calls(threads: int = 2) -> list[AudioCall]:
    from qa_engine.stt import STTOptions, Transcriber, transcribe_cached
    from qa_engine.voice import attach_voice

    transcriber = Transcriber(STTOptions(cpu_threads=threads))
    calls = []
    for ref_path in sorted(AUDIO.glob("*.ref.json")):
        reference = CallTranscript.model_validate(json.loads(ref_path.read_text(encoding="utf-8")))
        audio = next(p for p in AUDIO.glob(ref_path.name.replace(".ref.json", ".*")) if p.suffix in (".flac", ".wav"))
        heard = transcribe_cached(audio, transcriber=transcriber, call_id=reference.call_id)
        calls.append(AudioCall(reference, attach_voice(heard, audio)))
    return calls


def read_heard(engine: Engine, call: CallTranscript) -> list[UtteranceEmotion]:
    track = EmotionTrack()
    return [engine.emotion.read(track, i, u, analyze(u.text)) for i, u in enumerate(call.utterances)]


def measure_audio(name: str, engine: Engine, calls: list[AudioCall], labels: set[tuple[str, int]], errors: bool) -> None:
    """One row like bench/emotion.py's `measure`, per reference customer turn, voice included."""
    scores = UpsetScores()
    for call in calls:
        emotions = read_heard(engine, call.heard)
        for index, turn in enumerate(call.reference.utterances):
            if turn.speaker != "customer":
                continue
            overlapping = [
                e for e, u in zip(emotions, call.heard.utterances, strict=True)
                if u.speaker == "customer" and min(u.end, turn.end) - max(u.start, turn.start) > 0
            ]
            said = any(level_rank(e.level) >= level_rank("upset") for e in overlapping)
            if scores.add(said, (call.reference.call_id, index) in labels) and errors:
                kind = "FP  " if said else "MISS"
                heard = " / ".join(f"{call.heard.utterances[e.index].text} → {e.describe()}" for e in overlapping) or "(not heard)"
                scores.lines.append(f"  {kind} {call.reference.call_id}#{index} {turn.text} | heard: {heard}")
    scores.print(name, len(calls))
