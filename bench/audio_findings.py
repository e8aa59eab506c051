"""Findings from audio against findings from the reference transcripts, per category.

Each sample call is scored twice with the default rules: from its reference transcript
(samples/audio/<call>.ref.json, what was really said and when) and from the audio through
speech-to-text. A reference finding counts as found from audio when a finding of the
same rule lies within `--slack` seconds of it (call-level findings: same rule). Prints
recall per category (target: >= 90 % for every category) and the findings audio added.
Transcripts come from the transcript cache, so a second run does not re-run STT.

    python bench/audio_findings.py [--slack 2.0] [--bias none|hotwords|prompt]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa_engine import Engine, load_rules  # noqa: E402
from qa_engine.models import CallTranscript, Finding  # noqa: E402
from qa_engine.stt import STTOptions, Transcriber, transcribe_cached  # noqa: E402


def same(reference: Finding, heard: Finding, slack: float) -> bool:
    if reference.rule_id != heard.rule_id:
        return False
    if reference.start is None or heard.start is None:
        return reference.start is None and heard.start is None
    return abs(reference.start - heard.start) <= slack or (
        heard.start <= (reference.end or reference.start) and reference.start <= (heard.end or heard.start)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slack", type=float, default=2.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--bias", choices=["none", "hotwords", "prompt"], default="none")
    args = parser.parse_args()
    from stt_bench import bias_options
    rules = load_rules()
    engine = Engine(rules)
    transcriber = Transcriber(STTOptions(cpu_threads=args.threads, **bias_options(args.bias)))
    expected: Counter[str] = Counter()
    found: Counter[str] = Counter()
    extra: Counter[str] = Counter()
    started = time.perf_counter()
    for ref_path in sorted((ROOT / "samples" / "audio").glob("*.ref.json")):
        reference = CallTranscript.model_validate(json.loads(ref_path.read_text(encoding="utf-8")))
        audio = next(p for p in ref_path.parent.glob(ref_path.name.replace(".ref.json", ".*")) if p.suffix != ".json")
        heard = transcribe_cached(audio, transcriber=transcriber, call_id=reference.call_id)
        want = engine.score(reference).findings
        got = list(engine.score(heard).findings)
        line = []
        for finding in want:
            expected[finding.category] += 1
            match = next((g for g in got if same(finding, g, args.slack)), None)
            if match is not None:
                got.remove(match)
                found[finding.category] += 1
            else:
                line.append(f"missed {finding.rule_id}@{finding.start}")
        for finding in got:
            extra[finding.category] += 1
            line.append(f"extra {finding.rule_id}@{finding.start} 「{finding.evidence.text if finding.evidence else ''}」")
        print(f"{reference.call_id:<22} reference findings {len(want):2d}  " + "; ".join(line))
    print(f"\n{'category':<16}{'reference':>10}{'from audio':>11}{'recall':>8}{'extra':>7}")
    worst = 1.0
    for category in sorted(set(expected) | set(extra)):
        recall = found[category] / expected[category] if expected[category] else None
        worst = min(worst, recall) if recall is not None else worst
        shown = f"{recall:.0%}" if recall is not None else "-"
        print(f"{category:<16}{expected[category]:>10}{found[category]:>11}{shown:>8}{extra[category]:>7}")
    total = sum(found.values()) / max(1, sum(expected.values()))
    print(f"{'all':<16}{sum(expected.values()):>10}{sum(found.values()):>11}{total:>8.0%}{sum(extra.values()):>7}")
    print(f"lowest category recall {worst:.0%} (target >= 90%): {'PASS' if worst >= 0.9 else 'MISS'}  "
          f"[{time.perf_counter() - started:.0f} s]")


if __name__ == "__main__":
    main()
