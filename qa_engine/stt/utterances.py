"""Group timed words into utterances and interleave the two parties.

Whisper's segments follow its 30-second windows, not the conversation, so utterances are
rebuilt from word timestamps instead: a pause of ``pause_split`` seconds or more ends a
turn. Channels are merged by start time without trimming anything, so an interruption
stays visible as an utterance that starts before the other party's one ends.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from qa_engine.models import Speaker, Utterance
from qa_engine.stt.normalize import tidy


@dataclass(frozen=True)
class TimedWord:
    """One recognised word (or character run) with its absolute time in the call."""

    start: float
    end: float
    text: str


class TimedText(NamedTuple):
    """Text said from `start` to `end` seconds into the call: words joined at pauses, or a
    live turn as a recognizer hears it (`Transcriber.transcribe_samples`)."""

    start: float
    end: float
    text: str


class CharTimedText(NamedTuple):
    """A `TimedText` with the time of the word each of its characters came from
    (`char_times`, None when unsure): what an utterance from a recording is made of."""

    start: float
    end: float
    text: str
    char_times: list[tuple[float, float]] | None


def split_at_pauses(
    words: Iterable[TimedWord], pause: float, *, timed: bool = False
) -> list[TimedText] | list[CharTimedText]:
    """Join words into pieces, breaking at gaps of ``pause`` or more: `TimedText`, or with
    ``timed`` `CharTimedText` (the `char_times` of each piece's text and words)."""
    pieces: list = []
    current: list[TimedWord] = []
    for word in sorted(words, key=lambda w: (w.start, w.end)):
        if current and word.start - max(w.end for w in current) >= pause:
            pieces.append(_join(current, timed))
            current = []
        current.append(word)
    if current:
        pieces.append(_join(current, timed))
    return [p for p in pieces if p.text]


def char_times(text: str, words: Sequence[TimedWord]) -> list[tuple[float, float]] | None:
    """(start, end) of the word each character of ``text`` came from, or None if unsure.

    ``text`` is the tidied join of the words (`tidy` changes script and drops spaces,
    never other characters), so the n-th non-space character of the text is the n-th
    non-space character of the tidied words. A space takes the time of the word before.
    """
    owners: list[tuple[float, float]] = []
    for word in words:
        owners.extend([(word.start, word.end)] * len(tidy(word.text).replace(" ", "")))
    out: list[tuple[float, float]] = []
    k = 0
    for ch in text:
        if ch == " ":
            out.append(out[-1] if out else (owners[0] if owners else (0.0, 0.0)))
            continue
        if k >= len(owners):
            return None
        out.append(owners[k])
        k += 1
    return out if k == len(owners) else None


def _join(words: Sequence[TimedWord], timed: bool = False) -> TimedText | CharTimedText:
    start = max(0.0, min(w.start for w in words))
    end = max(start, max(w.end for w in words))
    text = tidy("".join(w.text for w in words))
    if timed:
        return CharTimedText(round(start, 3), round(end, 3), text, char_times(text, words))
    return TimedText(round(start, 3), round(end, 3), text)


def merge_channels(channels: Sequence[tuple[Speaker, Sequence[TimedText | CharTimedText]]]) -> list[Utterance]:
    """All parties' utterances in one list, ordered by start time (then end, then channel).

    Overlaps and gaps are kept as recognised: the engine's interruption and silence rules
    read them from these times.
    """
    keyed = []
    for index, (speaker, pieces) in enumerate(channels):
        for piece in pieces:
            utterance = Utterance(speaker=speaker, start=piece.start, end=piece.end, text=piece.text)
            timing = getattr(piece, "char_times", None)
            if timing is not None:
                utterance._char_times = timing
            keyed.append((piece.start, piece.end, index, utterance))
    keyed.sort(key=lambda item: item[:3])
    return [item[3] for item in keyed]
