"""How a rule treats one sentence: what the engine sees, and why it fires or not.

QA leads tune phrases and thresholds; this shows the normalised text, the pinyin the
matcher compares, the tokens spaCy/jieba produce, each phrase's best fuzzy score,
and the verdict of the real engine on that sentence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from qa_engine.engine import Engine
from qa_engine.matching import PhraseSet
from qa_engine.models import Finding
from qa_engine.rulefile import RuleSet
from qa_engine.text import analyze, char_pinyin
from qa_engine.workbench.examples import example_transcript, rule_subset


@dataclass
class PhraseScore:
    phrase: str
    fuzzy: float
    hit_mode: str | None
    lexicon: str | None = None


@dataclass
class Explanation:
    rule_id: str
    kind: str
    speaker: str
    original: str
    normalized: str
    compact: str
    pinyin: str
    folded_pinyin: str
    clauses: list[str]
    speech_clauses: list[str]
    tokens: list[str]
    phrases: list[PhraseScore] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def fires(self) -> bool:
        return bool(self.findings)


def explain(rules: RuleSet, rule_id: str, text: str) -> Explanation:
    """Run rule `rule_id` alone on `text` said by the rule's speaker, and show the workings.

    `text` may also be a dialogue in the examples' notation, lines separated by newlines.
    """
    check = next((c for c in rules.checks if c.spec.id == rule_id), None)
    if check is None:
        known = ", ".join(c.spec.id for c in rules.checks)
        raise KeyError(f"no enabled rule '{rule_id}' in {rules.path}; rules: {known}")
    spec = check.spec
    speaker = spec.example_speaker()
    lines = [line for line in text.splitlines() if line.strip()] or [text]
    dialogue = lines[0] if len(lines) == 1 else lines
    transcript = example_transcript(dialogue, speaker, "explain")
    sentence = transcript.utterances[0].text
    analysis = analyze(sentence)
    doc = analysis.doc(rules.nlp.spacy)
    explanation = Explanation(
        rule_id=rule_id,
        kind=spec.kind,
        speaker=speaker,
        original=sentence,
        normalized=analysis.normalized,
        compact=analysis.compact,
        pinyin=" ".join(char_pinyin(c) for c in analysis.compact),
        folded_pinyin=" ".join(analysis.pinyin),
        clauses=[analysis.compact[s:e] for s, e in analysis.clauses],
        speech_clauses=[analysis.compact[s:e] for s, e in analysis.speech_clauses],
        tokens=[t.text for t in doc],
    )
    phrases = list(dict.fromkeys(spec.phrases_used()))
    if phrases:
        matcher = PhraseSet(phrases, fuzzy_threshold=spec.phrase_threshold())
        modes = {hit.phrase: hit.mode for hit in matcher.find(analysis)}
        lexicon_of = {entry: name for name, entries in rules.model.lexicons.items() for entry in entries}
        for phrase, score in matcher.best_scores(analysis):
            explanation.phrases.append(PhraseScore(phrase, score, modes.get(phrase), lexicon_of.get(phrase)))
    report = Engine(rule_subset(rules, spec)).score(transcript)
    explanation.findings = [f for f in report.findings if f.rule_id == rule_id]
    return explanation
