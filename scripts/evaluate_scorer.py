"""Evaluate the support-domain scorer against TextBlob and VADER, in one command.

Usage (from the repository root, with the ``train`` extra installed; VADER is optional)::

    python scripts/evaluate_scorer.py [--folds 10] [--seed 0]

Prints binary accuracy, macro-F1 and ROC AUC on the positive and negative rows of the dev data
(``$EF_SHARED_DIR/data/sentiment/airline_dev.csv``, default ``../shared``), the way the data's
SOURCES.md defines the baselines: a score of exactly 0 is a neutral answer and counts as wrong.
The scorer's figures are cross-validated: for each of k stratified folds the two heads are fitted
on the other folds and score only the held-out one; the shipped weights are never used for
these figures. TextBlob and VADER need no fitting and score every row. Throughput is measured
on one core with the shipped model, for the full ``analyze`` (cues, sentiment, frustration).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence

import numpy as np
from sklearn.metrics import f1_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from train_scorer import fit_model, load_rows

from empathy_firewall.signals.scorer import SupportScorer, extract_features


def binary_metrics(labels: Sequence[str], scores: Sequence[float]) -> tuple[float, float, float]:
    """Accuracy, macro-F1 and AUC on the positive/negative rows; a 0 score is a wrong answer."""
    polar = [
        (label, score) for label, score in zip(labels, scores, strict=True) if label != "neutral"
    ]
    truth = [label for label, _ in polar]
    raw = np.array([score for _, score in polar])
    predicted = ["positive" if s > 0 else "negative" if s < 0 else "neutral" for s in raw]
    accuracy = float(np.mean([p == t for p, t in zip(predicted, truth, strict=True)]))
    macro_f1 = float(
        f1_score(
            truth, predicted, labels=["negative", "positive"], average="macro", zero_division=0
        )
    )
    auc = float(roc_auc_score([t == "positive" for t in truth], raw))
    return accuracy, macro_f1, auc


def cross_validated_scores(
    texts: Sequence[str], labels: Sequence[str], folds: int, seed: int
) -> list[float]:
    """Out-of-fold sentiment for every row: each fold scored by a model fitted without it."""
    rows = load_rows()
    features = [extract_features(t) for t in texts]
    scores = [0.0] * len(texts)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(np.zeros(len(labels)), labels):
        model = fit_model([features[i] for i in train], [rows[i] for i in train])
        for i in test:
            scores[i] = model.sentiment(features[i])
    return scores


def throughput(score: Callable[[str], object], texts: Sequence[str], repeat: int = 3) -> float:
    """Texts per second, best of ``repeat`` passes, one core."""
    score(texts[0])
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for text in texts:
            score(text)
        best = min(best, time.perf_counter() - start)
    return len(texts) / best


def _textblob() -> Callable[[str], float]:
    from empathy_firewall.signals.sentiment import TextBlobAnalyzer

    return TextBlobAnalyzer().score


def _vader() -> Callable[[str], float] | None:
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError:
        return None
    analyzer = SentimentIntensityAnalyzer()
    return lambda text: float(analyzer.polarity_scores(text)["compound"])


def main(argv: Sequence[str] | None = None) -> int:
    """Print the comparison table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rows = load_rows()
    texts = [r.text for r in rows]
    labels = [r.label for r in rows]
    polar = sum(label != "neutral" for label in labels)
    print(f"dev data: {len(rows)} messages, {polar} positive or negative")
    results: list[tuple[str, tuple[float, float, float], float]] = []
    cv = cross_validated_scores(texts, labels, args.folds, args.seed)
    scorer = SupportScorer()
    results.append(
        (
            f"empathy-firewall ({args.folds}-fold CV)",
            binary_metrics(labels, cv),
            throughput(scorer.analyze, texts),
        )
    )
    textblob = _textblob()
    results.append(
        (
            "TextBlob polarity",
            binary_metrics(labels, [textblob(t) for t in texts]),
            throughput(textblob, texts),
        )
    )
    vader = _vader()
    if vader is None:
        print("(vaderSentiment not installed: VADER row skipped)")
    else:
        results.append(
            (
                "VADER compound",
                binary_metrics(labels, [vader(t) for t in texts]),
                throughput(vader, texts),
            )
        )
    print()
    print(f"| {'scorer':<32} | accuracy | macro-F1 |   AUC | texts/s |")
    print(f"|{'-' * 34}|---------:|---------:|------:|--------:|")
    for name, (accuracy, macro_f1, auc), speed in results:
        print(f"| {name:<32} | {accuracy:8.3f} | {macro_f1:8.3f} | {auc:5.3f} | {speed:7,.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
