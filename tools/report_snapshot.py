"""Snapshot every output `qa score` makes for the samples, and compare two snapshots.

Used to prove that a refactor changes no report: take a snapshot before, one after,
and compare them (exit 1 and a diff per file on any difference).

    python tools/report_snapshot.py take /work/wt/arch-before          # transcripts + audio
    python tools/report_snapshot.py take /tmp/after --no-audio          # transcripts only (fast)
    python tools/report_snapshot.py compare /work/wt/arch-before /tmp/after

`take` runs the real command line (and the QA leads' tools: rules check/test/explain/
diff/schema and calibrate, whose console output is kept too) in a subprocess (`python -m qa_engine.cli score`) over
samples/transcripts and samples/audio with the default rules: the audio goes through the
real Whisper model, with an empty transcript cache so nothing is reused. It keeps the
JSON reports and transcripts, the JSONL and CSV outputs, the HTML pages and the
console output. Normalisation drops only what depends on the machine or the clock:
the checkout's absolute path (→ <ROOT>), the temporary folder (→ <TMP>), the home
folder (→ <HOME>), wall-clock figures in the console summary, and keys named like
wall-clock times in JSON. Everything else is compared byte for byte.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# JSON keys whose values are wall-clock or load times (machine dependent).
CLOCK_KEYS = {"wall_seconds", "load_seconds", "seconds", "elapsed", "timestamp", "created", "generated_at"}
CLOCK_TEXT = [
    (re.compile(r"wall \d+(\.\d+)?s"), "wall <T>s"),
    (re.compile(r"RTF \d+(\.\d+)?"), "RTF <R>"),
]
TEXT_SUFFIXES = {".json", ".jsonl", ".csv", ".html", ".txt", ".css", ".js", ".svg"}


def _replace_paths(text: str, tmp: Path) -> str:
    for path, token in ((tmp, "<TMP>"), (ROOT, "<ROOT>"), (Path.home(), "<HOME>")):
        text = text.replace(str(path), token)
        text = text.replace(str(path).replace("/", "\\/"), token)  # JSON-escaped
    return text


def _drop_clock(value):
    if isinstance(value, dict):
        return {k: _drop_clock(v) for k, v in value.items() if k not in CLOCK_KEYS}
    if isinstance(value, list):
        return [_drop_clock(v) for v in value]
    return value


def normalise_json(text: str) -> str:
    """Same serialisation as the writer used, minus clock keys; key order kept."""
    data = _drop_clock(json.loads(text))
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def normalise_text(text: str, tmp: Path) -> str:
    text = _replace_paths(text, tmp)
    for pattern, replacement in CLOCK_TEXT:
        text = pattern.sub(replacement, text)
    return text


def _copy_normalised(src_dir: Path, dst_dir: Path, tmp: Path) -> None:
    for src in sorted(src_dir.rglob("*")):
        if not src.is_file():
            continue
        dst = dst_dir / src.relative_to(src_dir)
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.suffix not in TEXT_SUFFIXES:
            shutil.copyfile(src, dst)
            continue
        text = normalise_text(src.read_text(encoding="utf-8"), tmp)
        if src.suffix == ".json":
            text = normalise_json(text)
        elif src.suffix == ".jsonl":
            text = "".join(normalise_json(line) for line in text.splitlines() if line.strip())
        dst.write_text(text, encoding="utf-8")


def _qa(args: list[str], tmp: Path) -> str:
    env = dict(os.environ, COLUMNS="120", TERM="dumb", NO_COLOR="1")
    result = subprocess.run(
        [sys.executable, "-m", "qa_engine.cli", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, encoding="utf-8",
    )
    if result.returncode != 0:
        sys.exit(f"qa {' '.join(args)} failed (exit {result.returncode}):\n{result.stderr[-3000:]}")
    return f"$ qa {' '.join(args)}\nexit {result.returncode}\n--- stdout\n{result.stdout}--- stderr\n{result.stderr}"


def _workbench(tmp: Path) -> str:
    """The QA leads' tools on the samples: their console output is part of the snapshot too."""
    runs = [
        ["rules", "check", "rules/default.yaml"],
        ["rules", "test", "rules/default.yaml"],
        ["rules", "explain", "phrases"],
        ["rules", "explain", "forbidden.taboo"],
        ["rules", "explain", "forbidden.taboo", "--text", "你问我我问隋"],
        ["rules", "explain", "greeting.standard", "--text", "喂 什么事"],
        ["rules", "diff", "rules/default.yaml", "rules/default.yaml", "samples/transcripts"],
        ["calibrate", "samples/transcripts", "--labels", "samples/labels.csv"],
        ["calibrate", "samples/transcripts", "--labels", "samples/labels.csv", "--markdown"],
        ["rules", "schema"],
    ]
    return "\n".join(_qa(args, tmp) for args in runs)


def take(out: Path, audio: bool) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="qa-snapshot-") as name:
        tmp = Path(name)
        inputs = ["samples/transcripts"] + (["samples/audio"] if audio else [])
        cache = ["--cache-dir", str(tmp / "cache")]
        log = [_qa(["score", *inputs, "--out", str(tmp / "json"), "--html", str(tmp / "html"), *cache], tmp)]
        for fmt in ("jsonl", "csv"):
            log.append(_qa(["score", "samples/transcripts", "--format", fmt, "--out", str(tmp / fmt)], tmp))
        log.append(_workbench(tmp))
        for folder in ("json", "html", "jsonl", "csv"):
            _copy_normalised(tmp / folder, out / folder, tmp)
        (out / "console.txt").write_text(normalise_text("\n".join(log), tmp), encoding="utf-8")
    print(f"snapshot written to {out}")


def compare(before: Path, after: Path) -> int:
    names = {p.relative_to(before) for p in before.rglob("*") if p.is_file()}
    names |= {p.relative_to(after) for p in after.rglob("*") if p.is_file()}
    differences = 0
    for name in sorted(names):
        a, b = before / name, after / name
        if not a.exists() or not b.exists():
            print(f"only in {'after' if not a.exists() else 'before'}: {name}")
            differences += 1
            continue
        da, db = a.read_bytes(), b.read_bytes()
        if da == db:
            continue
        differences += 1
        if name.suffix in TEXT_SUFFIXES:
            diff = difflib.unified_diff(
                da.decode("utf-8").splitlines(), db.decode("utf-8").splitlines(),
                f"before/{name}", f"after/{name}", lineterm="", n=2,
            )
            print("\n".join(list(diff)[:80]))
        else:
            print(f"binary differs: {name} ({hashlib.sha256(da).hexdigest()[:12]} vs {hashlib.sha256(db).hexdigest()[:12]})")
    print(f"{len(names)} files compared, {differences} differ")
    return 1 if differences else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_take = sub.add_parser("take", help="write a normalised snapshot of every sample's outputs")
    p_take.add_argument("out", type=Path)
    p_take.add_argument("--no-audio", action="store_true", help="transcript samples only (fast)")
    p_cmp = sub.add_parser("compare", help="compare two snapshots; exit 1 on any difference")
    p_cmp.add_argument("before", type=Path)
    p_cmp.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.command == "take":
        take(args.out, audio=not args.no_audio)
        return 0
    return compare(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
