"""`tokens`: spaCy `Matcher` patterns over jieba tokens, for what phrases and regexes express badly.

Why: shirking answers (推诿) put a negation a few words before a verb: 这个不归我们管,
这事不是我负责的, 我真的不太清楚. A token pattern says "不, then up to two tokens, then
管/负责/清楚" once, where a phrase list would need every variant. Tokens come from
spaCy's Chinese language with the jieba segmenter, made only for utterances of the
rule's speaker and only when a rule set has a `tokens` rule. jieba keeps 不是, 不归,
不太 as one token, hence `REGEX: "^不"` for "a token that starts with 不". Each pattern is a list of
spaCy token specs (https://spacy.io/usage/rule-based-matching#matcher).

```yaml
- id: nonstandard.shirk
  kind: tokens
  category: nonstandard
  message: 推诿客户(不规范服务用语)
  patterns:
    - [{TEXT: {REGEX: "^不"}}, {OP: "?"}, {OP: "?"}, {TEXT: {IN: [管, 负责, 清楚, 受理]}}]
  examples:
    hit: ["这个不归我们管", "这事不是我负责的", "我真的不太清楚"]
    miss: ["我来负责帮您处理", "这个归我们管"]
```
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from pydantic import Field

from qa_engine.kinds.base import CallState, Check, SpeakerFilter, SpeakerSpec, SpecError
from qa_engine.kinds.regex import RegexCompileError, compile_re2
from qa_engine.kinds.registry import register
from qa_engine.models import Finding, MatchInfo
from qa_engine.nlp import NlpResources


class TokensSpec(SpeakerSpec):
    kind: Literal["tokens"]
    speaker: SpeakerFilter = "agent"
    patterns: list[list[dict[str, Any]]] = Field(min_length=1, description="spaCy Matcher patterns")


_TEXT_KEYS = ("TEXT", "ORTH", "LOWER", "NORM")
_REGEX_META = set(".^$*+?{}[]\\|()")


def _literal_options(spec: dict[str, Any]) -> set[str] | None:
    """Strings one of which a token matching `spec` must contain, or None if unknowable."""
    for key in _TEXT_KEYS:
        value = spec.get(key)
        if isinstance(value, str):
            return {value.lower()}
        if isinstance(value, dict):
            if isinstance(value.get("IN"), list) and all(isinstance(v, str) for v in value["IN"]):
                return {v.lower() for v in value["IN"]}
            regex = value.get("REGEX")
            if isinstance(regex, str) and regex.startswith("^"):
                prefix = ""
                for char in regex[1:]:
                    if char in _REGEX_META:
                        break
                    prefix += char
                if prefix:
                    return {prefix.lower()}
    return None


def required_literals(pattern: list[dict[str, Any]]) -> list[set[str]]:
    """For each token the pattern cannot do without, the strings it must contain.

    A token's text is a substring of the utterance, so if none of a required token's
    strings occurs in the text, the pattern cannot match and the (costly) tokenizer
    need not run. Optional tokens (`OP: ?` or `*`) and negated ones constrain nothing.
    """
    required = []
    for spec in pattern:
        if spec.get("OP") in ("?", "*", "!"):
            continue
        options = _literal_options(spec)
        if options:
            required.append(options)
    return required


_ATTRIBUTES = {"TEXT": "text", "ORTH": "orth_", "LOWER": "lower_", "NORM": "norm_"}


def _re2_extension(attribute: str, regex: str) -> str:
    """A token extension that is True when RE2 finds `regex` in the token's `attribute`."""
    from spacy.tokens import Token

    name = "qa_re2_" + hashlib.sha1(f"{attribute}\0{regex}".encode()).hexdigest()[:16]
    if not Token.has_extension(name):
        compiled = compile_re2(regex, "REGEX")
        getter = _ATTRIBUTES[attribute]
        Token.set_extension(name, getter=lambda token: compiled.search(getattr(token, getter)) is not None)
    return name


def with_re2(pattern: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The pattern with every `REGEX` predicate run by RE2 instead of Python's `re`.

    spaCy evaluates `{TEXT: {REGEX: …}}` with `re`, which backtracks exponentially on
    patterns such as `(a+)+$`; RE2 runs in linear time, as the `regex` kind does. A
    pattern RE2 cannot compile (lookaround, back-references) raises `RegexCompileError`.
    """
    rewritten = []
    for spec in pattern:
        spec = dict(spec)
        for key in _ATTRIBUTES:
            value = spec.get(key)
            if isinstance(value, dict) and isinstance(value.get("REGEX"), str):
                rest = {k: v for k, v in value.items() if k != "REGEX"}
                if rest:
                    spec[key] = rest
                else:
                    del spec[key]
                extensions = dict(spec.get("_", {}))
                extensions[_re2_extension(key, value["REGEX"])] = True
                spec["_"] = extensions
        rewritten.append(spec)
    return rewritten


class TokenPatternError(SpecError):
    """spaCy rejected a pattern; `index` is its position in `patterns`."""

    def __init__(self, index: int, reason: str) -> None:
        super().__init__(("patterns", index), f"patterns[{index}] is not a valid spaCy Matcher pattern: {reason}")
        self.index = index


@register
class TokensCheck(Check[TokensSpec], own_speaker_only=True):
    match_modes = {"tokens": "分词模式"}

    def __init__(self, spec: TokensSpec, nlp: NlpResources) -> None:
        super().__init__(spec, nlp)
        from spacy.matcher import Matcher

        self.matcher = Matcher(nlp.spacy.vocab, validate=True)
        self.prefilters = [required_literals(pattern) for pattern in spec.patterns]
        for index, pattern in enumerate(spec.patterns):
            try:
                self.matcher.add(f"p{index}", [with_re2(pattern)])
            except RegexCompileError as error:
                raise TokenPatternError(index, str(error)) from None
            except Exception as error:  # spaCy raises several types for bad patterns
                raise TokenPatternError(index, " ".join(str(error).split())[:300]) from None

    def _could_match(self, analysis) -> bool:
        text = analysis.normalized
        return any(
            all(any(option in text for option in options) for options in required)
            for required in self.prefilters
        )

    def feed(self, call: CallState, index: int) -> list[Finding]:
        if not self.speaker_matches(call.utterances[index]) or not self._could_match(call.analyses[index]):
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
