"""The kinds registry: discovery, self-documentation, and a new kind as one file."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

import qa_engine
from qa_engine import Engine, RuleFileError, load_rules_text
from qa_engine.kinds import KINDS, kind_doc
from qa_engine.models import CallTranscript, Utterance
from qa_engine.workbench.examples import run_examples


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_kind_docstring_documents_and_its_example_runs(kind):
    doc = kind_doc(kind)
    assert "Why:" in doc, f"{kind} docstring must say why the rule matters"
    block = re.search(r"```yaml\n(.*?)```", doc, re.S)
    assert block, f"{kind} docstring needs a ```yaml example rule"
    text = "name: doc\nrules:\n" + "\n".join("  " + line for line in block.group(1).splitlines())
    rules = load_rules_text(text, f"{kind} docstring")
    results = run_examples(rules)
    assert any(r.expected == "hit" for r in results) and any(r.expected == "miss" for r in results)
    assert [r for r in results if not r.ok] == []




def test_every_module_in_kinds_registers_a_documented_kind():
    from qa_engine.kinds import kind_modules

    registered = {check.__module__ for check in KINDS.values()}
    for module in kind_modules():
        assert module in registered, f"{module} defines no @register'ed check"
    for kind, check in KINDS.items():
        assert check.kind == kind and check.spec_class.model_fields["kind"].annotation is not None
        assert kind_doc(kind).strip(), f"{kind} has no module docstring"
        assert check.match_modes, f"{kind} declares no match modes"


def test_match_mode_labels_agree_across_kinds():
    seen: dict[str, str] = {}
    for check in KINDS.values():
        for mode, label in check.match_modes.items():
            assert seen.setdefault(mode, label) == label, f"mode {mode} has two labels"


def test_nothing_outside_kinds_branches_on_a_kind_name():
    package = Path(qa_engine.__file__).parent
    names = "|".join(map(re.escape, KINDS))
    pattern = re.compile(rf"""(kind\s*[!=]=\s*["']({names})["'])|(["']({names})["']\s*[!=]=\s*\w*kind)""")
    offenders = [
        f"{path.relative_to(package)}:{number}"
        for path in package.rglob("*.py")
        if "kinds" not in path.relative_to(package).parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []


SHOUT = '''"""`shout`: a throwaway kind, written as one file, to show that a kind is one file.

Why: the registry, the rule-file union, the docs and the labels all come from this module.

```yaml
- id: shout.caps
  kind: shout
  category: courtesy
  message: 不要喊
  examples:
    hit: ["你听好了!!!"]
    miss: ["好的。"]
```
"""

from typing import Literal

from qa_engine.kinds import Check, SpeakerSpec, register
from qa_engine.models import MatchInfo


class ShoutSpec(SpeakerSpec):
    kind: Literal["shout"]
    marks: str = "!!!"


@register
class ShoutCheck(Check[ShoutSpec]):
    match_modes = {"shout": "喊叫检测"}

    def feed(self, call, index):
        text = call.utterances[index].text
        if not self.speaker_matches(call.utterances[index]) or self.spec.marks not in text:
            return []
        start = text.index(self.spec.marks)
        info = MatchInfo(mode="shout", detail="连续感叹号")
        return [self.finding(call, index, info, original_span=(start, start + len(self.spec.marks)))]
'''


def test_a_new_kind_is_one_new_file(tmp_path, monkeypatch):
    """Drop one module into the kinds package's path: it registers, loads, scores and documents itself."""
    import qa_engine.kinds as kinds_package
    from qa_engine.kinds import discover, match_mode_labels
    from qa_engine.kinds.registry import unregister

    (tmp_path / "shout.py").write_text(SHOUT, encoding="utf-8")
    monkeypatch.setattr(kinds_package, "__path__", [*kinds_package.__path__, str(tmp_path)])
    try:
        discover()
        assert "shout" in KINDS and "qa_engine.kinds.shout" in kinds_package.kind_modules()
        rules = load_rules_text(
            "name: t\nrules:\n  - {id: s, kind: shout, category: c, message: 不要喊}\n", "t.yaml"
        )
        report = Engine(rules).score(
            CallTranscript(call_id="c", utterances=[Utterance(speaker="agent", start=0, end=2, text="你听好了!!!")])
        )
        [finding] = report.findings
        assert finding.evidence.text == "!!!" and finding.match.mode == "shout"
        assert match_mode_labels()["shout"] == "喊叫检测"
        assert "throwaway kind" in kind_doc("shout")
        test_kind_docstring_documents_and_its_example_runs("shout")
        # a wrong key in the new kind's rule is located like any other
        with pytest.raises(RuleFileError, match="marks"):
            load_rules_text("name: t\nrules:\n  - {id: s, kind: shout, category: c, message: m, mark: x}\n")
    finally:
        unregister("shout")
        sys.modules.pop("qa_engine.kinds.shout", None)
    with pytest.raises(RuleFileError, match="unknown rule kind 'shout'"):
        load_rules_text("name: t\nrules:\n  - {id: s, kind: shout, category: c, message: m}\n")
