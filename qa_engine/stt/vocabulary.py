"""Words from the rule file that speech-to-text should get right: decoder hotwords.

Whisper mangles exactly the words the rules look for (中通速递 heard as 中通宿地, 工号 as
公后): company names and the greeting and closing lines are rare in its training text. The
rule file already lists them, in the phrases of its `required` rules at the opening and
close of a call (and the lexicons those name: 公司名, 工号说法, 开场服务语, 结束语), so they
are handed to faster-whisper as ``hotwords`` (a prefix the decoder sees before each 30 s
window). Forbidden phrases are deliberately left out: nudging the decoder towards words
that cost points would turn a near-miss into a finding.
"""

from __future__ import annotations

from qa_engine.rulefile import RuleSet

MAX_HOTWORD_CHARS = 120
"""Whisper's prompt shares the 448-token context with the text it writes; faster-whisper
keeps at most half of it for a prompt. 120 Chinese characters are about 150 tokens."""


def rule_hotwords(ruleset: RuleSet, max_chars: int = MAX_HOTWORD_CHARS) -> str | None:
    """Greeting, closing and company phrases of the rule file, deduplicated, joined by '，'.

    A phrase contained in a longer one is skipped (高兴为您服务 in 很高兴为您服务);
    one-character entries (请) carry no information. Taken in rule-file order up to
    `max_chars`. None when the rule file has none.
    """
    phrases: list[str] = []
    for spec in ruleset.model.rules:
        if getattr(spec, "kind", None) != "required" or spec.position not in ("first", "last"):
            continue
        for field in ("phrases", "together_with"):
            phrases.extend(str(p) for p in getattr(spec, field, []) or [])
    unique = [p for p in dict.fromkeys(p.strip() for p in phrases) if len(p) >= 2]
    whole = [p for p in unique if not any(p != other and p in other for other in unique)]
    chosen: list[str] = []
    used = 0
    for phrase in whole:  # rule-file order: greeting and company first, then closing
        if used + len(phrase) + 1 <= max_chars:
            chosen.append(phrase)
            used += len(phrase) + 1
    return "，".join(chosen) or None
