"""`tokens`: spaCy `Matcher` patterns over jieba tokens, for what phrases and regexes express badly.

Why: shirking answers (推诿) put a negation a few words before a verb: 这个不归我们管,
这事不是我负责的, 我真的不太清楚. A token pattern says "不, then up to two tokens, then
管/负责/清楚" once, where a phrase list would need every variant. Tokens come from
spaCy's Chinese language with the jieba segmenter, made only for utterances of the
rule's speaker and only when a rule set has a `tokens` rule. Each pattern is a list of
spaCy token specs (https://spacy.io/usage/rule-based-matching#matcher).

```yaml
- id: nonstandard.shirk
  kind: tokens
  category: nonstandard
  message: 推诿客户(不规范服务用语)
  patterns:
    - [{TEXT: {IN: [不, 不是]}}, {OP: "?"}, {OP: "?"}, {TEXT: {IN: [管, 负责, 清楚, 归]}}]
  examples:
    hit: ["这个不归我们管", "这事不是我负责的", "我真的不太清楚"]
    miss: ["我来负责帮您处理", "这个归我们管"]
```
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ..models import MatchInfo
from .base import Check, RuleSpec, SpeakerFilter
from .registry import register


class TokensSpec(RuleSpec):
    kind: Literal["tokens"]
    speaker: SpeakerFilter = "agent"
    patterns: list[list[dict[str, Any]]] = Field(min_length=1, description="spaCy Matcher patterns")


class TokenPatternError(ValueError):
    """spaCy rejected a pattern; `index` is its position in `patterns`."""

    def __init__(self, index: int, reason: str) -> None:
        super().__init__(f"patterns[{index}] is not a valid spaCy Matcher pattern: {reason}")
        self.index = index


@register("tokens")
class TokensCheck(Check):
    spec_class = TokensSpec
    spec: TokensSpec

    def __init__(self, spec: TokensSpec, nlp) -> None:
        super().__init__(spec, nlp)
        from spacy.matcher import Matcher

        self.matcher = Matcher(nlp.spacy.vocab, validate=True)
        for index, pattern in enumerate(spec.patterns):
            try:
                self.matcher.add(f"p{index}", [pattern])
            except Exception as error:  # spaCy raises several types for bad patterns
                raise TokenPatternError(index, " ".join(str(error).split())[:300]) from None

    def feed(self, call, index):
        if not self.speaker_matches(call.utterances[index]):
            return []
        doc = call.analyses[index].doc(self.nlp.spacy)
        findings = []
        last_end = -1
        for match_id, start, end in sorted(self.matcher(doc), key=lambda m: (m[1], -m[2])):
            if start < last_end:
                continue  # one finding per stretch of tokens
            last_end = end
            span = doc[start:end]
            info = MatchInfo(
                mode="tokens",
                pattern=doc.vocab.strings[match_id],
                detail="词序列 " + " / ".join(t.text for t in span) + " 符合模式",
            )
            findings.append(self.finding(call, index, info, original_span=(span.start_char, span.end_char)))
        return findings
