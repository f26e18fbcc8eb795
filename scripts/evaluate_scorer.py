"""Evaluate the multilingual support scorer beside VADER and TextBlob, in one command.

Usage (from the repository root, with the ``train`` extra installed)::

    python scripts/evaluate_scorer.py [--folds 5] [--seed 0] [--skip-cv]

Figures per source (English support tweets, then UMSAB tweets per language):

- ``AUC p/n``: ROC AUC of the sentiment on the positive and negative messages;
- ``acc p/n``: binary accuracy of the sentiment's sign on them (0 counts as wrong);
- ``F1 3cls``: 3-class macro-F1 (ours: the most probable label; VADER and TextBlob: their
  customary neutral band of +-0.05 around 0);
- ``AUC compl``: ROC AUC of negative against the rest (ours: P(negative); others: -score);
- ``ECE``: expected calibration error of our most probable label (10 bins).

Our figures are cross-validated: each of k stratified folds (by source and label) is scored by
a model fitted on the other folds only; the shipped weights are never used for them. VADER and
TextBlob need no fitting and score every row. Then, with the shipped model: the share of plain
neutral support questions (tests/data/neutral_questions.jsonl, written for this project) that
would get a frustration tag, per language; and throughput on one core beside VADER.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable, Sequence
from itertools import pairwise

import numpy as np
from sklearn.metrics import f1_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from train_scorer import REPO, SUPPORT, UMSAB_LANGUAGES, Row, featurise, fit, load_rows

from empathy_firewall.settings import EmotionSettings
from empathy_firewall.signals.language import detect_language, detect_languages
from empathy_firewall.signals.scorer import SupportScorer, extract_features
from empathy_firewall.signals.sentiment import TextBlobAnalyzer
from empathy_firewall.signals.text import LexiconTextAnalyzer, TextSignals

NEUTRAL_QUESTIONS = REPO / "tests" / "data" / "neutral_questions.jsonl"
BAND = 0.05
OTHER_LANGUAGES = ("es", "de", "fr", "pt", "it")


def metrics(labels: np.ndarray, probabilities: np.ndarray) -> dict[str, float]:
    """The figures of one source from P(negative), P(neutral), P(positive) per row."""
    sentiment = probabilities[:, 2] - probabilities[:, 0]
    polar = labels != 1
    return {
        "auc": float(roc_auc_score(labels[polar] == 2, sentiment[polar])),
        "acc": float(np.mean((sentiment[polar] > 0) == (labels[polar] == 2))),
        "f1": float(f1_score(labels, probabilities.argmax(1), average="macro")),
        "complaints": float(roc_auc_score(labels == 0, probabilities[:, 0])),
        "ece": expected_calibration_error(labels, probabilities),
    }


def score_metrics(labels: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """The same figures for a plain polarity score in [-1, 1] (no probabilities)."""
    polar = labels != 1
    predicted = np.where(scores > BAND, 2, np.where(scores < -BAND, 0, 1))
    return {
        "auc": float(roc_auc_score(labels[polar] == 2, scores[polar])),
        "acc": float(
            np.mean(
                np.where(scores[polar] == 0, False, (scores[polar] > 0) == (labels[polar] == 2))
            )
        ),
        "f1": float(f1_score(labels, predicted, average="macro")),
        "complaints": float(roc_auc_score(labels == 0, -scores)),
        "ece": math.nan,
    }


def expected_calibration_error(
    labels: np.ndarray, probabilities: np.ndarray, bins: int = 10
) -> float:
    """Top-label ECE: |confidence - accuracy| averaged over confidence bins, weighted by size."""
    confidence = probabilities.max(1)
    correct = probabilities.argmax(1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    total = 0.0
    for low, high in pairwise(edges):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            total += inside.mean() * abs(confidence[inside].mean() - correct[inside].mean())
    return float(total)


def cross_validated(rows: Sequence[Row], folds: int, seed: int) -> np.ndarray:
    """Out-of-fold probabilities for every row."""
    samples = featurise(rows)
    labels = [r.label for r in rows]
    strata = [f"{r.source}:{r.label}" for r in rows]
    out = np.zeros((len(rows), 3))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for k, (train, test) in enumerate(splitter.split(np.zeros(len(rows)), strata), start=1):
        model = fit(samples, labels, train, [r.source for r in rows])
        for i in test:
            out[i] = model.probabilities(samples[i].features, samples[i].language)
        print(f"  fold {k}/{folds} done", flush=True)
    return out


def best_temperature(labels: np.ndarray, probabilities: np.ndarray) -> float:
    """The logit temperature that minimises the out-of-fold log loss (a calibration check)."""
    logits = np.log(np.clip(probabilities, 1e-12, 1.0))
    best, best_loss = 1.0, math.inf
    for temperature in np.arange(0.5, 2.01, 0.05):
        scaled = logits / temperature
        scaled -= scaled.max(1, keepdims=True)
        log_p = scaled - np.log(np.exp(scaled).sum(1, keepdims=True))
        loss = -float(log_p[np.arange(len(labels)), labels].mean())
        if loss < best_loss:
            best, best_loss = float(temperature), loss
    return best


def throughput(function: Callable[[str], object], texts: Sequence[str], repeat: int = 3) -> float:
    """Texts per CPU-second of this process, best of ``repeat`` passes, one core.

    CPU time (not wall time) so that other processes on a shared machine do not count.
    """
    function(texts[0])
    best = math.inf
    for _ in range(repeat):
        start = time.process_time()
        for text in texts:
            function(text)
        best = min(best, time.process_time() - start)
    return len(texts) / best


def batch_throughput(
    function: Callable[[Sequence[str]], object], texts: Sequence[str], repeat: int = 3
) -> float:
    """Texts per CPU-second of one call on all ``texts`` (best of ``repeat``), one core."""
    function(texts[:10])
    best = math.inf
    for _ in range(repeat):
        start = time.process_time()
        function(texts)
        best = min(best, time.process_time() - start)
    return len(texts) / best


def _vader() -> Callable[[str], float]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    return lambda text: float(analyzer.polarity_scores(text)["compound"])


def neutral_questions() -> list[tuple[str, str]]:
    """(language, text) of every neutral support question in the test set."""
    lines = NEUTRAL_QUESTIONS.read_text("utf-8").splitlines()
    return [(item["lang"], item["text"]) for item in map(json.loads, lines) if item]


def print_table(title: str, table: dict[str, dict[str, dict[str, float]]]) -> None:
    """One block per scorer: a row per source."""
    print(f"\n{title}")
    print("| source | scorer | AUC p/n | acc p/n | F1 3cls | AUC compl | ECE |")
    print("|---|---|---:|---:|---:|---:|---:|")
    sources = list(next(iter(table.values())))
    for source in sources:
        for name, per_source in table.items():
            m = per_source[source]
            ece = "" if math.isnan(m["ece"]) else f"{m['ece']:.3f}"
            print(
                f"| {source} | {name} | {m['auc']:.3f} | {m['acc']:.3f} | {m['f1']:.3f} "
                f"| {m['complaints']:.3f} | {ece} |"
            )


def _mean(per_source: dict[str, dict[str, float]], key: str) -> float:
    return float(np.mean([per_source[code][key] for code in OTHER_LANGUAGES]))


def main(argv: Sequence[str] | None = None) -> int:
    """Print every figure the targets are checked against."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-cv", action="store_true", help="only questions and speed")
    args = parser.parse_args(argv)
    rows = load_rows()
    sources = np.array([r.source for r in rows])
    labels = np.array([r.label for r in rows])
    order = [SUPPORT, *UMSAB_LANGUAGES.values()]
    print(f"data: {len(rows)} labelled messages; sources: {', '.join(order)}")
    if not args.skip_cv:
        vader, textblob = _vader(), TextBlobAnalyzer().score
        table: dict[str, dict[str, dict[str, float]]] = {}
        print(f"cross-validating ({args.folds} folds, seed {args.seed})...", flush=True)
        oof = cross_validated(rows, args.folds, args.seed)
        table[f"ours ({args.folds}-fold CV)"] = {
            s: metrics(labels[sources == s], oof[sources == s]) for s in order
        }
        for name, score in (("VADER", vader), ("TextBlob", textblob)):
            values = np.array([score(r.text) for r in rows])
            table[name] = {
                s: score_metrics(labels[sources == s], values[sources == s]) for s in order
            }
        print_table("per source (support-en: English support tweets; others: UMSAB tweets)", table)
        print("\nmean over es, de, fr, pt, it:")
        for name, per_source in table.items():
            print(
                f"  {name}: AUC p/n {_mean(per_source, 'auc'):.3f}, "
                f"3-class macro-F1 {_mean(per_source, 'f1'):.3f}"
            )
        print(
            f"\ncalibration: overall ECE {expected_calibration_error(labels, oof):.3f}; "
            f"out-of-fold log-loss is lowest at temperature {best_temperature(labels, oof):.2f}"
        )
    scorer = SupportScorer()
    low = EmotionSettings().frustration_levels[0]
    questions = neutral_questions()
    blob = LexiconTextAnalyzer(TextBlobAnalyzer())
    print(f"\nneutral support questions tagged (frustration >= {low}), shipped model:")
    print("| language | n | ours | TextBlob analyzer | ours: language identified |")
    print("|---|---:|---:|---:|---:|")
    for code in ("en", *OTHER_LANGUAGES):
        texts = [t for lang, t in questions if lang == code]
        ours: list[TextSignals] = [scorer.analyze(t) for t in texts]
        tagged = np.mean([s.frustration >= low for s in ours])
        tagged_blob = np.mean([blob.analyze(t).frustration >= low for t in texts])
        identified = np.mean([s.language == code for s in ours])
        print(f"| {code} | {len(texts)} | {tagged:.1%} | {tagged_blob:.1%} | {identified:.1%} |")
    tweets = [r.text for r in rows if r.source != SUPPORT]
    mean_chars = sum(map(len, tweets)) / len(tweets)
    vader = _vader()
    print(
        f"\nthroughput (texts per CPU-second, one core), {len(tweets)} tweets of "
        f"{mean_chars:.0f} characters on average:"
    )
    speeds = {
        "ours: analyze_many, one call for all (batch language identification)": (
            batch_throughput(scorer.analyze_many, tweets)
        ),
        "ours: analyze, one call per text (language, label, probabilities, cues...)": throughput(
            scorer.analyze, tweets
        ),
        "ours: probabilities only": throughput(scorer.probabilities, tweets),
        "ours: language only, per text (py3langid)": throughput(detect_language, tweets),
        "ours: language only, batch (py3langid's model, numpy walk)": batch_throughput(
            detect_languages, tweets
        ),
        "ours: features only": throughput(extract_features, tweets),
        "VADER compound": throughput(vader, tweets),
        "TextBlob polarity": throughput(TextBlobAnalyzer().score, tweets),
    }
    reference = speeds["VADER compound"]
    for name, speed in speeds.items():
        print(f"  {name:<74} {speed:>9,.0f} texts/s  ({speed / reference:.2f}x VADER)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
