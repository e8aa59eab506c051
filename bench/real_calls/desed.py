"""Rebuild the real-speech development calls from a fetched copy of Ydongd/DESED.

The dataset's licence is not stated, so its texts never enter this repository: only the
dialogue ids and utterance indices of our labels do. This module turns a fetched
`datasets/FOSAED/unlabelled_conversations/dev.json` (the dev split only) back into
transcripts the engine reads.

A phone call is a dialogue whose turns are all 客服/用户 lines without Chinese or ASCII
punctuation and without the chat persona (小美): those are speech-recognised phone calls;
the rest are typed chats. The texts carry no timings, so each utterance gets a synthetic
span (4.5 characters a second, 0.3 s apart, never overlapping): text rules are measured
on these calls, timing rules (interruption, dead air, speech rate) are not.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

SPEAKERS = {"客服": "agent", "用户": "customer"}
PUNCTUATION = re.compile(r"[，。？！、~～：；,.?!]")
CHARS_PER_SECOND = 4.5
GAP_SECONDS = 0.3
SOURCE = "DESED FOSAED dev (speech-recognised text, synthetic timings)"


def _turns(dialogue: dict) -> list[tuple[str, str]] | None:
    """The (speaker, text) turns of a phone call, or None when the dialogue is not one."""
    turns: list[tuple[str, str]] = []
    for raw in dialogue.get("content", []):
        line = raw[:-1] if raw.endswith(",") else raw
        speaker, sep, text = line.partition(":")
        if not sep or speaker not in SPEAKERS:
            return None
        if PUNCTUATION.search(text) or "小美" in text:
            return None
        turns.append((SPEAKERS[speaker], text))
    return turns if len(turns) >= 6 else None


def phone_calls(dev_json: Path) -> dict[str, list[tuple[str, str]]]:
    """Every phone call of the dev split, keyed by its dialogue id, in file order."""
    dialogues = json.loads(Path(dev_json).read_text(encoding="utf-8"))
    calls: dict[str, list[tuple[str, str]]] = {}
    for dialogue in dialogues:
        turns = _turns(dialogue)
        if turns is not None:
            calls[str(dialogue["id"])] = turns
    return calls


def transcript(call_id: str, turns: list[tuple[str, str]]) -> dict:
    """A transcript in the engine's JSON shape, with synthetic sequential timings."""
    utterances = []
    clock = 0.0
    for speaker, text in turns:
        duration = max(len(text), 1) / CHARS_PER_SECOND
        utterances.append(
            {"speaker": speaker, "start": round(clock, 2), "end": round(clock + duration, 2), "text": text}
        )
        clock += duration + GAP_SECONDS
    return {"call_id": call_id, "utterances": utterances, "source": SOURCE}


def find_dev_json(path: Path) -> Path:
    """Accept the dev.json itself, or a fetched repository folder (work tree or bare git dir)."""
    path = Path(path)
    if path.is_file():
        return path
    candidate = path / "datasets/FOSAED/unlabelled_conversations/dev.json"
    if candidate.is_file():
        return candidate
    raise FileNotFoundError(
        f"{path}: no datasets/FOSAED/unlabelled_conversations/dev.json here; pass the dev.json file "
        "or a checkout of Ydongd/DESED (e.g. `git show HEAD:datasets/FOSAED/unlabelled_conversations/dev.json > dev.json`)"
    )
