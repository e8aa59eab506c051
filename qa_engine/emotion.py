"""Emotion of each utterance, read once as it arrives (like the text analysis) and shared.

Text: a lexicon of classes (`qa_engine/data/emotion_lexicon.yaml`, extended by the rule
file's `emotion:` section) matched on the compact text in one RE2 pass, longest entry
first at each position; a negation just before an entry cancels it (不是不满意), an
intensifier (太, 非常, 到底) makes it stronger, rhetorical questions (凭什么, 什么态度) and
swearing count as anger, and the same speaker pressing a demand (尽快, 赶紧) three turns
running counts as anger too. Voice, when the utterance carries `voice` measures from
the audio: loudness and pitch relative to the same speaker's median so far in the call,
so a customer who starts shouting is seen whatever the line level.

The result per utterance is a label (negative / angry / anxious / satisfied / neutral),
a score, a level (calm < upset < angry; the thresholds are in the rule file) and its
evidence: which words, how many dB and semitones above the speaker's baseline.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

import re2
import yaml
from pydantic import BaseModel, ConfigDict, Field

from qa_engine.lexicons import Phrases
from qa_engine.models import EmotionWord, Label, Level, Utterance, UtteranceEmotion, VoiceEvidence
from qa_engine.text import AnalyzedText, compact_form, literal_alternation

LEVELS: tuple[Level, ...] = ("calm", "upset", "angry")

WORD_CLASSES = ("negative", "angry", "anxious", "satisfied", "rhetorical", "profanity", "pressing", "doubt")
"""Classes whose words carry emotion; `intensifiers`, `negations` and `calm` modify them."""
LEXICON_CLASSES = (*WORD_CLASSES, "intensifiers", "negations", "calm")


_BUILTIN = Path(__file__).parent / "data" / "emotion_lexicon.yaml"


def level_rank(level: str) -> int:
    return LEVELS.index(level)  # type: ignore[arg-type]


class VoiceThresholds(BaseModel):
    """When the voice counts as raised: dB and semitones above the speaker's median in the call."""

    model_config = ConfigDict(extra="forbid")

    loud_db: float = Field(default=6.0, gt=0, description="Loudness this many dB above the speaker's median")
    pitch_up_st: float = Field(default=2.0, gt=0, description="Mean pitch this many semitones above the median")
    weight: float = Field(default=1.0, ge=0, description="Score added by a raised voice (loud, or loud and higher)")
    min_turns: int = Field(default=2, ge=1, description="Earlier turns of the speaker needed for a baseline")


class EmotionConfig(BaseModel):
    """The rule file's `emotion:` section: lexicon additions and the thresholds."""

    model_config = ConfigDict(extra="forbid")

    add: dict[Literal[LEXICON_CLASSES], Phrases] = Field(  # type: ignore[valid-type]
        default_factory=dict, description="Words added to the built-in lexicon, by class (`@lexicon` allowed)"
    )
    replace: dict[Literal[LEXICON_CLASSES], Phrases] = Field(  # type: ignore[valid-type]
        default_factory=dict, description="Classes whose built-in words are replaced by these"
    )
    weights: dict[Literal[WORD_CLASSES], float] = Field(  # type: ignore[valid-type]
        default_factory=dict, description="Score of one word of a class (default negative 1, angry 1.5, …)"
    )
    upset_at: float = Field(default=1.0, gt=0, description="Score from which an utterance is upset")
    angry_at: float = Field(default=2.5, gt=0, description="Score from which an utterance is angry")
    intensify: float = Field(default=1.5, ge=1, description="Multiplier after an intensifier (太, 非常)")
    pressing_turns: int = Field(default=3, ge=2, description="A demand pressed this many turns running is anger")
    context_turns: int = Field(
        default=0,
        ge=0,
        description="An utterance with some upset evidence below upset_at is upset when the same speaker was "
        "upset within this many of their turns before (a grievance still being told; 0: off)",
    )
    repeat: float = Field(
        default=0.5, ge=0, le=1, description="Weight of a grievance word the speaker already said in this call (answering questions about it)"
    )
    voice: VoiceThresholds = Field(default_factory=VoiceThresholds)


DEFAULT_WEIGHTS = {
    "negative": 1.0,
    "angry": 1.5,
    "anxious": 1.0,
    "satisfied": 1.0,
    "rhetorical": 1.5,
    "profanity": 2.0,
    "pressing": 1.0,
    "doubt": 0.5,  # a question that reproaches only when the customer is already upset (为啥, 怎么回事)
}
_CLASS_LABEL = {
    "negative": "negative",
    "angry": "angry",
    "anxious": "anxious",
    "satisfied": "satisfied",
    "rhetorical": "angry",
    "profanity": "angry",
    "pressing": "anxious",
    "doubt": "angry",
}


@lru_cache(maxsize=1)
def builtin_lexicon() -> dict[str, list[str]]:
    data = yaml.safe_load(_BUILTIN.read_text(encoding="utf-8"))
    return {name: [str(w) for w in data.get(name) or []] for name in LEXICON_CLASSES}


@lru_cache(maxsize=1)
def builtin_patterns() -> dict[str, list[str]]:
    """Grievance shapes as RE2 patterns by class (the lexicon's `patterns:`): e.g. time that
    has passed (都两个小时了), something still not done (还没退), a refusal (不给我退), harm
    after eating (吃了以后拉肚子): counted where no lexicon word already covers the text."""
    data = yaml.safe_load(_BUILTIN.read_text(encoding="utf-8"))
    patterns = data.get("patterns") or {}
    unknown = set(patterns) - set(WORD_CLASSES)
    if unknown:
        raise ValueError(f"emotion lexicon patterns: unknown classes {sorted(unknown)}")
    return {name: [str(p) for p in patterns[name] or []] for name in patterns}



@dataclass
class _SpeakerTrack:
    loudness: list[float] = field(default_factory=list)
    pitch: list[float] = field(default_factory=list)
    pressing_run: int = 0
    heard: set[str] = field(default_factory=set)
    turns: int = 0  # the speaker's utterances so far
    last_upset: int | None = None  # the turn (count) of the speaker's last upset utterance by its own words


@dataclass
class EmotionTrack:
    """One call's memory: each speaker's voice so far and its run of pressing turns."""

    speakers: dict[str, _SpeakerTrack] = field(default_factory=dict)


class EmotionAnalyzer:
    """The lexicon and thresholds compiled once per rule set; `read` per utterance."""

    def __init__(self, config: EmotionConfig | None = None) -> None:
        self.config = config or EmotionConfig()
        words = dict(builtin_lexicon())
        for name, entries in self.config.replace.items():
            words[name] = list(entries)
        for name, entries in self.config.add.items():
            words[name] = [*words.get(name, []), *entries]
        self.weights = {**DEFAULT_WEIGHTS, **self.config.weights}
        self.kind_of: dict[str, str] = {}
        for name in (*WORD_CLASSES, "calm"):  # a word in two classes keeps the first
            for word in words.get(name, []):
                compact = compact_form(word)
                if compact and compact not in self.kind_of:
                    self.kind_of[compact] = name
        self.pattern = literal_alternation(self.kind_of)
        shapes = builtin_patterns()
        self.shape_kinds = list(shapes)
        self.shapes = (
            re2.compile("|".join("(" + "|".join(f"(?:{p})" for p in shapes[k]) + ")" for k in self.shape_kinds))
            if any(shapes.values())
            else None
        )
        self.intensifiers = tuple(sorted({compact_form(w) for w in words["intensifiers"]} - {""}, key=len, reverse=True))
        self.negations = tuple(sorted({compact_form(w) for w in words["negations"]} - {""}, key=len, reverse=True))

    def _modifier(self, compact: str, start: int) -> tuple[bool, bool]:
        """(negated, intensified) for a word starting at `start`: what the few characters before it say."""
        before = compact[max(0, start - 4) : start]
        intensified = False
        for _ in range(2):  # 不是很 / 太不 : peel an intensifier, then look for a negation
            if not before.endswith(self.intensifiers):  # one C-level test of them all, the usual answer
                break
            peeled = next(w for w in self.intensifiers if before.endswith(w))  # the longest
            intensified = True
            before = before[: -len(peeled)]
        negated = before.endswith(self.negations)
        return negated, intensified

    def _found(self, compact: str) -> list[tuple[int, int, str, str]]:
        """(start, end, word, kind) of every lexicon word and shape in the compact text, in order."""
        found: list[tuple[int, int, str, str]] = []
        if self.pattern is None or not compact:
            return found
        covered: list[tuple[int, int]] = []
        for match in self.pattern.finditer(compact):
            covered.append((match.start(), match.end()))
            found.append((match.start(), match.end(), match.group(), self.kind_of[match.group()]))
        if self.shapes is not None:
            for match in self.shapes.finditer(compact):
                start, end = match.start(), match.end()
                if any(start < b and a < end for a, b in covered):
                    continue  # a lexicon word (or a calm phrase) already speaks for this text
                group = next(g for g in range(1, len(self.shape_kinds) + 1) if match.group(g) is not None)
                found.append((start, end, match.group(), self.shape_kinds[group - 1]))
        found.sort()
        return found

    def read(self, track: EmotionTrack, index: int, utterance: Utterance, analysis: AnalyzedText) -> UtteranceEmotion:
        compact = analysis.compact
        speaker = track.speakers.setdefault(utterance.speaker, _SpeakerTrack())
        speaker.turns += 1
        found = self._found(compact)
        if not found and utterance.voice is None:  # most turns: no word, no voice, nothing pressed
            speaker.pressing_run = 0
            return UtteranceEmotion(index=index, speaker=utterance.speaker, start=utterance.start, end=utterance.end)
        scores = dict.fromkeys(_CLASS_LABEL.values(), 0.0)
        words: list[EmotionWord] = []
        reasons: list[str] = []
        pressing = False
        heard_now: set[str] = set()
        for start, end, word, kind in found:
            if kind == "calm":
                continue
            negated, intensified = self._modifier(compact, start)
            weight = self.weights[kind]
            if negated:
                if kind != "satisfied":
                    continue  # 不是不满意, 没有骗
                kind = "negative"  # 不太满意
            if intensified:
                weight *= self.config.intensify
            if kind == "negative":
                if word in speaker.heard:
                    weight *= self.config.repeat
                heard_now.add(word)
            if kind == "pressing":
                pressing = True
            scores[_CLASS_LABEL[kind]] += weight
            first, last = analysis.span(start, end)
            words.append(EmotionWord(text=utterance.text[first:last], start_char=first, end_char=last, kind=kind, weight=round(weight, 2)))
        speaker.heard |= heard_now
        speaker.pressing_run = speaker.pressing_run + 1 if pressing else 0
        if speaker.pressing_run >= self.config.pressing_turns:
            scores["angry"] += self.weights["rhetorical"]
            reasons.append(f"连续 {speaker.pressing_run} 句催促")
        voice = self._voice(speaker, utterance)
        if voice is not None and voice.raised:
            scores["angry"] += self.config.voice.weight
            reasons.append(f"音量高于基线 {voice.loudness_delta_db:.1f} dB")
            if voice.pitch_delta_st is not None and voice.pitch_delta_st >= self.config.voice.pitch_up_st:
                reasons.append(f"音高高于基线 {voice.pitch_delta_st:.1f} 半音")
        upset_score = scores["negative"] + scores["angry"] + scores["anxious"]
        label: Label = "neutral"
        if upset_score > 0:
            label = max(("angry", "negative", "anxious"), key=lambda name: scores[name])  # type: ignore[assignment]
        elif scores["satisfied"] > 0:
            label = "satisfied"
        level: Level = "calm"
        if upset_score >= self.config.angry_at:
            level = "angry"
        elif upset_score >= self.config.upset_at:
            level = "upset"
        if level != "calm":
            speaker.last_upset = speaker.turns
        elif upset_score > 0 and self._in_context(speaker):
            level = "upset"
            reasons.append(f"承接 {speaker.turns - speaker.last_upset} 句前的不满")  # type: ignore[operator]
        shown = upset_score if upset_score > 0 else scores["satisfied"]
        return UtteranceEmotion(
            index=index,
            speaker=utterance.speaker,
            start=utterance.start,
            end=utterance.end,
            label=label,
            level=level,
            score=round(shown, 2),
            strength=round(min(1.0, shown / self.config.angry_at), 2),
            words=words,
            reasons=reasons,
            voice=voice,
        )

    def _in_context(self, speaker: _SpeakerTrack) -> bool:
        """Whether the speaker was upset by their own words within `context_turns` of their turns."""
        turns = self.config.context_turns
        return bool(turns) and speaker.last_upset is not None and speaker.turns - speaker.last_upset <= turns

    def _voice(self, speaker: _SpeakerTrack, utterance: Utterance) -> VoiceEvidence | None:
        measure = utterance.voice
        if measure is None or measure.loudness_db is None:
            return None
        thresholds = self.config.voice
        evidence = VoiceEvidence(
            loudness_db=measure.loudness_db, pitch_mean_hz=measure.pitch_mean_hz, pitch_range_st=measure.pitch_range_st
        )
        if len(speaker.loudness) >= thresholds.min_turns:
            evidence.loudness_delta_db = round(measure.loudness_db - statistics.median(speaker.loudness), 2)
        if measure.pitch_mean_hz and len(speaker.pitch) >= thresholds.min_turns:
            evidence.pitch_delta_st = round(semitones(measure.pitch_mean_hz, statistics.median(speaker.pitch)), 2)
        loud = evidence.loudness_delta_db
        higher = evidence.pitch_delta_st is not None and evidence.pitch_delta_st >= thresholds.pitch_up_st
        evidence.raised = loud is not None and (loud >= thresholds.loud_db or (higher and loud >= thresholds.loud_db / 2))
        speaker.loudness.append(measure.loudness_db)
        if measure.pitch_mean_hz:
            speaker.pitch.append(measure.pitch_mean_hz)
        return evidence


def semitones(frequency: float, reference: float) -> float:
    import math

    return 12.0 * math.log2(frequency / reference) if frequency > 0 and reference > 0 else 0.0
