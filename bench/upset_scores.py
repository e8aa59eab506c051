"""Precision and recall of "upset" against hand labels, one row per set of calls.

Shared by bench/emotion.py (emotion read from transcripts) and bench/audio_emotion.py
(emotion heard through speech-to-text), so both print the same table with the same bar.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class UpsetScores:
    turns: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    lines: list[str] = field(default_factory=list)

    def add(self, said: bool, truth: bool) -> bool:
        """Count one customer turn; True when the prediction was wrong."""
        self.turns += 1
        self.tp += said and truth
        self.fp += said and not truth
        self.fn += truth and not said
        return said != truth

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    def print(self, name: str, calls: int) -> None:
        precision, recall = self.precision, self.recall
        bar = "meets P≥0.85 R≥0.75" if precision >= 0.85 and recall >= 0.75 else "BELOW P≥0.85 R≥0.75"
        print(f"{name:<34}{calls:>6}{self.turns:>8}{self.tp + self.fn:>7}{self.tp + self.fp:>7}"
              f"{precision:>7.2f}{recall:>7.2f}  {bar}")
        for line in self.lines:
            print(line)
