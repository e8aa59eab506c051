"""Shared language resources: the spaCy Chinese pipeline with jieba, made once per process.

spaCy's Chinese tokenizer with the jieba segmenter costs a second to start, so it is
created only when a rule set has a `tokens` rule, and rule phrases are added to
jieba's dictionary so they come out as whole tokens.
"""

from __future__ import annotations

import logging
import threading
from functools import cached_property

_LOCK = threading.Lock()


class NlpResources:
    """Lazily built tokenizer shared by every check of a rule set."""

    def __init__(self, user_words: list[str] | None = None) -> None:
        self.user_words = sorted(set(user_words or []))

    @cached_property
    def spacy(self):
        with _LOCK:
            import jieba
            import spacy

            jieba.setLogLevel(logging.WARNING)
            nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
            for word in self.user_words:
                if 1 < len(word) <= 6:  # words and set expressions, not whole sentences
                    jieba.add_word(word, freq=2000)
            return nlp
