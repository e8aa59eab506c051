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
            _share_dictionary(jieba.dt)
            nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
            for word in self.user_words:
                if 1 < len(word) <= 6:  # words and set expressions, not whole sentences
                    jieba.add_word(word, freq=2000)
            return nlp


def _share_dictionary(default) -> None:
    """Give jieba's default tokenizer (spaCy's) the dictionary the clause splitter has
    loaded already (the same file), rather than loading it a second time (half a second).
    A copy: the rule phrases added to spaCy's tokenizer never reach the clause splitter."""
    if default.initialized:
        return
    from qa_engine.clauses import clause_tokenizer

    loaded = clause_tokenizer()
    if loaded.dictionary != default.dictionary:
        return
    with default.lock:
        default.FREQ, default.total = dict(loaded.FREQ), loaded.total
        default.initialized = True
