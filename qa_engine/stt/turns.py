"""Group timed words into utterances and interleave the two parties.

Whisper's segments follow its 30-second windows, not the conversation, so utterances are
rebuilt from word timestamps instead: a pause of ``pause_split`` seconds or more ends a
turn. Channels are merged by start time without trimming anything, so an interruption
stays visible as an utterance that starts before the other party's one ends.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from qa_engine.models import Speaker, Utterance
from qa_engine.stt.normalize import tidy


@dataclass(frozen=True)
class TimedWord:
    """One recognised word (or character run) with its absolute time in the call."""

    start: float
    end: float
    text: str


def split_at_pauses(
    words: Iterable[TimedWord], pause: float
) -> list[tuple[float, float, str]]:
    """Join words into (start, end, text) pieces, breaking at gaps of ``pause`` or more."""
    pieces: list[tuple[float, float, str]] = []
    current: list[TimedWord] = []
    for word in sorted(words, key=lambda w: (w.start, w.end)):
        if current and word.start - max(w.end for w in current) >= pause:
            pieces.append(_join(current))
            current = []
        current.append(word)
    if current:
        pieces.append(_join(current))
    return [p for p in pieces if p[2]]


def _join(words: Sequence[TimedWord]) -> tuple[float, float, str]:
    start = max(0.0, min(w.start for w in words))
    end = max(start, max(w.end for w in words))
    return round(start, 3), round(end, 3), tidy("".join(w.text for w in words))


def merge_channels(channels: Sequence[tuple[Speaker, Sequence[tuple[float, float, str]]]]
                   ) -> list[Utterance]:
    """All parties' utterances in one list, ordered by start time (then end, then channel).

    Overlaps and gaps are kept as recognised: the engine's interruption and silence rules
    read them from these times.
    """
    keyed = [
        (start, end, index, Utterance(speaker=speaker, start=start, end=end, text=text))
        for index, (speaker, pieces) in enumerate(channels)
        for start, end, text in pieces
    ]
    keyed.sort(key=lambda item: item[:3])
    return [item[3] for item in keyed]
