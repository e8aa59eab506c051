"""Text clean-up for Whisper's Mandarin output.

Whisper base often answers Mandarin in traditional characters and puts stray spaces
between phrases; the engine's rules are written in simplified Chinese, so every
transcript leaves the STT layer simplified. ``match_key`` strips everything but the
characters, for comparing text (hallucination list, error rates) regardless of
punctuation, width or case.
"""

from __future__ import annotations

import re
import unicodedata

from qa_engine.text import to_simplified

__all__ = ["match_key", "tidy", "to_simplified"]

_CJK = r"\u3400-\u9fff\uf900-\ufaff"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
_SPACES = re.compile(r"\s+")


def tidy(text: str) -> str:
    """Simplified script, single spaces, and no spaces between two Chinese characters."""
    text = _SPACES.sub(" ", to_simplified(text)).strip()
    return _SPACE_BETWEEN_CJK.sub("", text)


def match_key(text: str) -> str:
    """Only letters and digits, simplified, half-width and lower-case: for comparisons."""
    text = unicodedata.normalize("NFKC", to_simplified(text)).lower()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")
