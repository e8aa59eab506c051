"""`regex`: patterns that a list of phrases expresses badly, with an optional `exclude`.

Why: some lines vary ("要我说多少遍/几遍你才明白"). Patterns run on RE2 (google-re2),
which matches in linear time, so a pattern that would backtrack catastrophically in
Python's `re` cannot hang the engine. RE2 has no lookaround or back-references; use
`exclude` instead of a negative lookahead. By default the pattern sees the compact
text (normalised, no punctuation or spaces), as speech-to-text gives no punctuation.

```yaml
- id: nonstandard.how_many_times
  kind: regex
  category: nonstandard
  message: 不耐烦的反问(不规范服务用语)
  pattern: 要我(说|讲)(多少|几)(遍|次)
  exclude: 不用
  examples:
    hit: ["要我说多少遍你才明白啊", "要我讲几次"]
    miss: ["不用我再说几遍吧", "我再给您说一遍"]
```
"""

from __future__ import annotations

from typing import Literal

import re2
from pydantic import Field

from qa_engine.kinds.base import CallState, Check, RuleWarning, SpeakerFilter, SpeakerSpec, SpecError
from qa_engine.kinds.registry import register
from qa_engine.lexicons import OptionalPattern, Pattern
from qa_engine.models import Finding, MatchInfo
from qa_engine.nlp import NlpResources


class RegexSpec(SpeakerSpec):
    kind: Literal["regex"]
    speaker: SpeakerFilter = "agent"
    pattern: Pattern = Field(min_length=1, description="RE2 syntax; {{name}} is any entry of a lexicon")
    exclude: OptionalPattern = Field(default=None, description="No finding when this also matches the utterance")
    text: Literal["compact", "normalized"] = Field(
        default="compact", description="compact: without punctuation or spaces; normalized: with them"
    )

    def lint(self, ordinary_sentences: list[str]) -> list[RuleWarning]:
        if compile_re2(self.pattern, "pattern").search("") is not None:
            return [RuleWarning(("pattern",), "pattern matches the empty string", "it is skipped on every utterance")]
        return []


class RegexCompileError(SpecError):
    """A pattern RE2 cannot compile; `field` says which one."""

    def __init__(self, field: str, pattern: str, reason: str) -> None:
        super().__init__(
            (field,),
            f"{field} {pattern!r} does not compile: {reason}. "
            "RE2 syntax has no lookaround or back-references; use `exclude` instead",
        )
        self.field = field


def compile_re2(pattern: str, field: str):
    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile(pattern, options)
    except re2.error as error:
        reason = error.args[0] if error.args else str(error)
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise RegexCompileError(field, pattern, str(reason)) from None


@register
class RegexCheck(Check[RegexSpec], own_speaker_only=True):
    match_modes = {"regex": "正则匹配"}

    def __init__(self, spec: RegexSpec, nlp: NlpResources) -> None:
        super().__init__(spec, nlp)
        self.pattern = compile_re2(spec.pattern, "pattern")
        self.exclude = compile_re2(spec.exclude, "exclude") if spec.exclude else None

    def feed(self, call: CallState, index: int) -> list[Finding]:
        if not self.speaker_matches(call.utterances[index]):
            return []
        analysis = call.analyses[index]
        subject = analysis.compact if self.spec.text == "compact" else analysis.normalized
        if self.exclude is not None and self.exclude.search(subject):
            return []
        findings = []
        for match in self.pattern.finditer(subject):
            start, end = match.span()
            if end == start:
                continue
            info = MatchInfo(
                mode="regex", pattern=self.spec.pattern, detail=f"正则 {self.spec.pattern} 匹配「{match.group(0)}」"
            )
            if self.spec.text == "compact":
                findings.append(self.finding(call, index, info, span=(start, end)))
            else:
                findings.append(self.finding(call, index, info, original_span=(start, end)))
        return findings
