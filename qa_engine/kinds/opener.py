"""`opener`: clauses that open with a negative (不…, 我不…).

Why: the manual asks agents never to open with 不 or 我不 (不可能, 不会, 不对, 我不能,
我不知道): turn the no into what can be done. Polite formulas that happen to start
with 不 (不客气, 不好意思, 不用谢) are recommended language and are in `allow`; they
never fire. A clause starts after punctuation or a pause (a space in speech-to-text
output); leading hesitations (嗯, 啊 …) are skipped, since ASR rarely punctuates them.

```yaml
- id: negative_opener.bu
  kind: opener
  category: negative_opener
  message: 以“不/我不”开头的否定表达
  openers: [不, 我不]
  allow: [不客气, 不好意思, 不用谢, 不用客气, 不过]
  examples:
    hit: ["不行，这个改不了。", "嗯我不知道您的快递在哪", "好的，不可能那么快"]
    miss: ["不客气，这是我们应该做的", "不好意思让您久等了", "这个我帮您查一下"]
```
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from qa_engine.kinds.base import CallState, Check, RuleWarning, SpeakerFilter, SpeakerSpec
from qa_engine.kinds.regex import compile_re2
from qa_engine.kinds.registry import register
from qa_engine.lexicons import Pattern, Phrases
from qa_engine.models import Finding, MatchInfo
from qa_engine.nlp import NlpResources
from qa_engine.text import AnalyzedText, compact_form


class OpenerSpec(SpeakerSpec):
    kind: Literal["opener"]
    speaker: SpeakerFilter = "agent"
    openers: list[str] = Field(min_length=1)
    allow: Phrases = Field(default_factory=list, description="Clause openings that never fire")
    skip_prefixes: list[str] = Field(
        default_factory=lambda: ["嗯", "啊", "呃", "哦", "噢", "额"],
        description="Hesitations skipped before looking at the opening",
    )
    clauses: Literal["punctuation", "speech"] = Field(
        default="punctuation",
        description="punctuation: clauses end at punctuation and pauses; speech: also at discourse "
        "markers (嗯, 好的, 然后 …) with leading fillers skipped, for unpunctuated speech-to-text",
    )
    exempt: list[Pattern] = Field(
        default_factory=list,
        description="RE2 patterns matched at the clause opening; a match never fires "
        "(conditions 不…的话, echo questions 不X是吧)",
    )
    continuation_max_gap: float | None = Field(
        default=None,
        gt=0,
        description="An utterance starting less than this many seconds after the same speaker's previous "
        "one, straight on its words (no hesitation or leading filler first), continues that sentence "
        "(the recogniser split it there): its first clause opens nothing",
    )
    sentence_ends: Phrases = Field(
        default_factory=list,
        description="With `continuation_max_gap`: a previous utterance that ends in one of these "
        "(吗, 吧, 先生 …) closed its sentence, so the next one is not its continuation",
    )
    skip_false_starts: bool = Field(
        default=False,
        description="A clause that is only an opener, said again at the start of the next clause "
        "(不 嗯 不客气), is a false start: only the restart is judged",
    )

    def lint(self, ordinary_sentences: list[str]) -> list[RuleWarning]:
        openers = [compact_form(o) for o in self.openers]
        warnings = [
            RuleWarning(("allow", position), f"allow entry {allowed!r} starts with none of the openers", "it has no effect")
            for position, allowed in enumerate(self.allow)
            if not any(compact_form(allowed).startswith(o) for o in openers if o)
        ]
        if self.sentence_ends and self.continuation_max_gap is None:
            warnings.append(RuleWarning(("sentence_ends",), "sentence_ends applies with continuation_max_gap only", "set continuation_max_gap, or remove it"))
        return warnings


@register
class OpenerCheck(Check[OpenerSpec], own_speaker_only=True):
    match_modes = {"opener": "句首检测"}

    def __init__(self, spec: OpenerSpec, nlp: NlpResources) -> None:
        super().__init__(spec, nlp)
        # Longest first, so 我不 is reported rather than a shorter opener.
        self.openers = sorted({compact_form(o) for o in spec.openers} - {""}, key=len, reverse=True)
        # An opener that contains another (我不 has 不) can only be said where that one is: look for the shortest.
        self.probes = [o for o in self.openers if not any(other != o and other in o for other in self.openers)]
        self.allow = sorted({compact_form(a) for a in spec.allow} - {""}, key=len, reverse=True)
        self.skip = [compact_form(s) for s in spec.skip_prefixes if compact_form(s)]
        self.exempt = [compile_re2(pattern, "exempt") for pattern in spec.exempt]
        self.sentence_ends = tuple({compact_form(e) for e in spec.sentence_ends} - {""})

    def feed(self, call: CallState, index: int) -> list[Finding]:
        if not self.speaker_matches(call.utterances[index]):
            return []
        analysis = call.analyses[index]
        if not any(probe in analysis.compact for probe in self.probes):
            return []  # no clause can open with what the utterance never says: skip splitting it
        findings = []
        clauses = self._clauses(analysis)
        first = self._first_clause(analysis) if self._continues_previous(call, index) else None
        # A continuation starts on its words; one that starts 嗯/呃 … paused and begins anew.
        continued = first is not None and first[0] == 0 and self._skip_hesitations(analysis.compact[: first[1]]) == 0
        openings = [self._opening(analysis, span) for span in clauses]
        for position, (clause, start) in enumerate(openings):
            if continued and clauses[position] == first:
                continue  # the rest of the speaker's previous sentence, not an opening
            if any(clause.startswith(allowed) for allowed in self.allow):
                continue
            opener = next((o for o in self.openers if clause.startswith(o)), None)
            if opener is None or any(pattern.match(clause) for pattern in self.exempt):
                continue
            if self.spec.skip_false_starts and clause == opener and self._restarts(openings, position):
                continue  # 不 嗯 不客气: a false start, the restart is judged
            shown = clause[: min(len(clause), len(opener) + 3)]
            info = MatchInfo(mode="opener", pattern=opener, detail=f"分句以「{opener}」开头:「{shown}…」")
            findings.append(self.finding(call, index, info, span=(start, start + len(shown))))
        return findings

    def _restarts(self, openings: list[tuple[str, int]], position: int) -> bool:
        """Whether the next clause opens with an opener again (不 嗯 不客气, 不 嗯 我不知道)."""
        return position + 1 < len(openings) and openings[position + 1][0].startswith(tuple(self.openers))

    def _opening(self, analysis: AnalyzedText, span: tuple[int, int]) -> tuple[str, int]:
        """The clause's text from its first meaningful character, and where that is."""
        start, end = span
        clause = analysis.compact[start:end]
        skipped = self._skip_hesitations(clause)
        return clause[skipped:], start + skipped

    def _continues_previous(self, call: CallState, index: int) -> bool:
        gap = self.spec.continuation_max_gap
        if gap is None or index == 0:
            return False
        previous, current = call.utterances[index - 1], call.utterances[index]
        if previous.speaker != current.speaker or current.start - previous.end >= gap:
            return False
        said_before = call.analyses[index - 1].compact  # empty: only masked data, no sentence to continue
        return bool(said_before) and not said_before.endswith(self.sentence_ends)

    def _first_clause(self, analysis: AnalyzedText) -> tuple[int, int] | None:
        if not analysis.clauses:
            return None
        if self.spec.clauses == "speech":
            spans = analysis.speech_clauses_of(0)
            return spans[0] if spans else None
        return analysis.clauses[0]

    def _clauses(self, analysis) -> list[tuple[int, int]]:
        """The clauses to look at: with `clauses: speech`, only the punctuation clauses that
        say an opener are split (a speech clause lies inside one, so no other can open with it)."""
        if self.spec.clauses != "speech":
            return analysis.clauses
        compact = analysis.compact
        return [
            span
            for i, (start, end) in enumerate(analysis.clauses)
            if any(compact.find(probe, start, end) >= 0 for probe in self.probes)
            for span in analysis.speech_clauses_of(i)
        ]

    def _skip_hesitations(self, clause: str) -> int:
        position = 0
        moved = True
        while moved:
            moved = False
            for prefix in self.skip:
                if clause.startswith(prefix, position) and len(clause) > position + len(prefix):
                    position += len(prefix)
                    moved = True
        return position
