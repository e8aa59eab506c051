"""How much of "upset" the customer's words carry: a trained classifier and a second reader as yardsticks.

The lexicon's upset recall stays near 0.60 on the labelled real calls. This asks whether a
better word list could close the gap, or whether the labels rest on more than the words of
each utterance. It prints three rows over the same customer utterances:

- the default rule set's emotion analyser (what `bench/emotion.py` measures);
- a two-state hidden Markov model over the analyser's evidence (score band × utterance
  length band), read forward as a live call would be, trained leave-one-batch-out: whether
  upset as a state of the call, not of one turn, recovers what single turns miss;
- a logistic regression on character 1-3-grams of the utterance plus the analyser's own
  score and whether the customer was upset one and three turns before, trained and tested
  leave-one-batch-out (each batch of labelled calls is scored by a model that never saw
  it), at several decision thresholds: an upper estimate for any per-utterance text method
  tuned on these labels; then the same with the n-grams of the turns around it (the agent's
  turns just before and after, the customer's previous and next), to see whether the context a
  reader uses is in its neighbours' words;
- one labeller scored against the other, before adjudication (batches 5 to 12, where two
  blind passes exist): how well the labels themselves can be reproduced by a reader;
- when `pysenti` is installed (Apache-2.0 code; its dictionary merges HowNet, Tsinghua and
  BosonNLP word lists, its Bayes model is trained on shopping reviews): its rule score and its
  Bayes model, as a maintained Chinese sentiment package would read the same turns.

Needs scikit-learn, which the engine does not depend on: `pip install scikit-learn`.

    python bench/upset_ceiling.py PATH_TO_DESED_OR_DEV_JSON
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from emotion import UPSET, read_upset  # noqa: E402
from real_calls import BATCH5, BATCH6, BATCH12, CALLS, HELDOUT, LATER_BATCHES, rebuild  # noqa: E402
from upset_scores import UpsetScores  # noqa: E402

from qa_engine.emotion import EmotionTrack, level_rank  # noqa: E402
from qa_engine.engine import Engine  # noqa: E402
from qa_engine.rulefile import load_rules  # noqa: E402
from qa_engine.text import analyze  # noqa: E402

PASSES = HERE / "real_calls" / "passes"
TWO_PASS_BATCHES = ("upset-batch5", "upset-batch6", *(f"batch{n}" for n in range(7, 13)))
THRESHOLDS = (0.3, 0.35, 0.4, 0.45, 0.5, 0.6)


def customer_turns(engine: Engine, source: Path, out: Path) -> list[dict]:
    """Every labelled call's customer utterances with the analyser's reading and their batch."""
    heldout = set(HELDOUT.read_text(encoding="utf-8").split())
    batches: list[tuple[str, list]] = []
    first = rebuild(source, out, CALLS)
    batches.append(("first 48", [c for c in first if c.call_id not in heldout]))
    batches.append(("held-out 16", [c for c in first if c.call_id in heldout]))
    for name, path in (("batch 5", BATCH5), ("batch 6", BATCH6), *((f"batch {n}", p) for n, p in enumerate(LATER_BATCHES, 7)), ("batch 12", BATCH12)):
        batches.append((name, rebuild(source, out, path)))
    labels = read_upset(UPSET)
    rows = []
    for batch, calls in batches:
        for call in calls:
            track = EmotionTrack()
            upset_turns: list[bool] = []
            for index, utterance in enumerate(call.utterances):
                analysis = analyze(utterance.text)
                emotion = engine.emotion.read(track, index, utterance, analysis)
                if utterance.speaker != "customer":
                    continue
                said = level_rank(emotion.level) >= level_rank("upset")
                rows.append(
                    {
                        "batch": batch,
                        "call": call.call_id,
                        "band": _band(emotion.score if emotion.label != "satisfied" else 0.0, len(analysis.compact)),
                        "text": analysis.compact,
                        "raw": utterance.text,
                        "neighbours": _neighbours(call.utterances, index),
                        "said": said,
                        "features": [emotion.score, float(said), float(any(upset_turns[-1:])), float(any(upset_turns[-3:])), min(len(analysis.compact), 60) / 60],
                        "truth": (call.call_id, index) in labels,
                    }
                )
                upset_turns.append(said)
    return rows


def _neighbours(utterances: list, index: int) -> dict[str, str]:
    """The agent's turns just before and after, and the customer's own previous and next turns."""

    def nearest(step: int, speaker: str) -> str:
        position = index + step
        while 0 <= position < len(utterances):
            if utterances[position].speaker == speaker:
                return utterances[position].text
            position += step
        return ""

    return {
        "agent before": nearest(-1, "agent"),
        "agent after": nearest(1, "agent"),
        "customer before": nearest(-1, "customer"),
        "customer after": nearest(1, "customer"),
    }


def _band(score: float, length: int) -> int:
    """One of 12 observation symbols: the analyser's score band times the utterance's length band."""
    score_band = 0 if score == 0 else 1 if score < 1 else 2 if score < 2.5 else 3
    return score_band * 3 + (0 if length < 6 else 1 if length < 20 else 2)


def hidden_markov(rows: list[dict]) -> list[float]:
    """Each utterance's forward probability of the upset state, from a model fitted on the other batches."""
    import numpy as np

    calls: dict[str, list[int]] = {}
    for position, row in enumerate(rows):
        calls.setdefault(row["call"], []).append(position)
    probability = [0.0] * len(rows)
    for held in dict.fromkeys(r["batch"] for r in rows):
        start, move, emit = np.ones(2), np.ones((2, 2)), np.ones((2, 12))  # add-one counts
        for positions in calls.values():
            if rows[positions[0]]["batch"] == held:
                continue
            states = [int(rows[p]["truth"]) for p in positions]
            start[states[0]] += 1
            for p, state in zip(positions, states, strict=True):
                emit[state, rows[p]["band"]] += 1
            for a, b in zip(states, states[1:], strict=False):
                move[a, b] += 1
        start, move, emit = start / start.sum(), move / move.sum(1, keepdims=True), emit / emit.sum(1, keepdims=True)
        for positions in calls.values():
            if rows[positions[0]]["batch"] != held:
                continue
            belief = start
            for index, p in enumerate(positions):
                belief = (belief if index == 0 else belief @ move) * emit[:, rows[p]["band"]]
                belief = belief / belief.sum()
                probability[p] = float(belief[1])
    return probability


def scores(said: list[bool], truth: list[bool]) -> tuple[float, float]:
    counts = UpsetScores()
    for guess, label in zip(said, truth, strict=True):
        counts.add(guess, label)
    return counts.precision, counts.recall


def cross_validated(rows: list[dict], with_neighbours: bool = False) -> list[float]:
    """Each utterance's probability of upset from a model trained on the other batches; with
    `with_neighbours`, the n-grams of the turns around it are features too (each its own block)."""
    import numpy as np
    from scipy.sparse import csr_matrix, hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    batch = np.array([r["batch"] for r in rows])
    truth = np.array([r["truth"] for r in rows])
    extra = csr_matrix(np.array([r["features"] for r in rows]))
    columns = [[r["text"] for r in rows]]
    if with_neighbours:
        columns += [[r["neighbours"][name] for r in rows] for name in rows[0]["neighbours"]]
    probability = np.zeros(len(rows))
    for held in dict.fromkeys(batch):
        train, test = np.where(batch != held)[0], np.where(batch == held)[0]
        blocks_train, blocks_test = [extra[train]], [extra[test]]
        for texts in columns:
            grams = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=2, sublinear_tf=True)
            blocks_train.append(grams.fit_transform([texts[i] for i in train]))
            blocks_test.append(grams.transform([texts[i] for i in test]))
        model = LogisticRegression(C=4.0, max_iter=3000).fit(hstack(blocks_train).tocsr(), truth[train])
        probability[test] = model.predict_proba(hstack(blocks_test).tocsr())[:, 1]
    return probability.tolist()


def reader_against_reader() -> tuple[float, float]:
    """Pass A scored against pass B as if B were the truth, over every two-pass batch."""

    first = second = both = 0
    for batch in TWO_PASS_BATCHES:
        a, b = read_upset(PASSES / f"{batch}-passA.csv"), read_upset(PASSES / f"{batch}-passB.csv")
        first, second, both = first + len(a), second + len(b), both + len(a & b)
    return both / first, both / second


def sentiment_package(rows: list[dict], truth: list[bool]) -> None:
    """pysenti's two readings of the same turns, when it is installed (it is not a dependency)."""
    try:
        from pysenti import rule_classifier
        from pysenti.model_classifier import ModelClassifier
    except ImportError:
        print(f"{'pysenti (not installed: pip install pysenti)':<58}{'-':>6}{'-':>6}")
        return
    rule_scores = [rule_classifier.classify(r["raw"])["score"] for r in rows]
    bayes = ModelClassifier()
    negative = [bayes.classify(r["raw"])["negative_prob"] for r in rows]
    for threshold in (0, -1, -2, -4):
        precision, recall = scores([s < threshold for s in rule_scores], truth)
        print(f"{f'pysenti rule score < {threshold}':<58}{precision:>6.2f}{recall:>6.2f}")
    for threshold in (0.5, 0.7, 0.9):
        precision, recall = scores([n > threshold for n in negative], truth)
        print(f"{f'pysenti Bayes negative > {threshold}':<58}{precision:>6.2f}{recall:>6.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="DESED checkout, or its dev.json")
    parser.add_argument("--out", type=Path, default=Path("out/real_calls"))
    args = parser.parse_args()
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise SystemExit("bench/upset_ceiling.py needs scikit-learn (not an engine dependency): pip install scikit-learn") from None

    rows = customer_turns(Engine(load_rules(None), keep_pii=True), args.source, args.out)
    truth = [r["truth"] for r in rows]
    print(f"{len(rows)} customer utterances, {sum(truth)} labelled upset, {len({r['batch'] for r in rows})} batches\n")
    print(f"{'method':<58}{'P':>6}{'R':>6}")
    precision, recall = scores([r["said"] for r in rows], truth)
    print(f"{'default rules: emotion lexicon':<58}{precision:>6.2f}{recall:>6.2f}")
    probability = hidden_markov(rows)
    for threshold in (0.4, 0.5, 0.6, 0.7):
        precision, recall = scores([p >= threshold for p in probability], truth)
        name = f"upset as a call state (HMM, forward), p >= {threshold}"
        print(f"{name:<58}{precision:>6.2f}{recall:>6.2f}")
    probability = cross_validated(rows)
    for threshold in THRESHOLDS:
        precision, recall = scores([p >= threshold for p in probability], truth)
        name = f"char n-grams + lexicon, leave-one-batch-out, p >= {threshold}"
        print(f"{name:<58}{precision:>6.2f}{recall:>6.2f}")
    probability = cross_validated(rows, with_neighbours=True)
    for threshold in (0.35, 0.5, 0.6):
        precision, recall = scores([p >= threshold for p in probability], truth)
        name = f"the same + the turns around it, p >= {threshold}"
        print(f"{name:<58}{precision:>6.2f}{recall:>6.2f}")
    sentiment_package(rows, truth)
    precision, recall = reader_against_reader()
    print(f"{'one labeller against the other (batches 5-12)':<58}{precision:>6.2f}{recall:>6.2f}")
    print("\nbar: P >= 0.85 and R >= 0.75")


if __name__ == "__main__":
    main()
