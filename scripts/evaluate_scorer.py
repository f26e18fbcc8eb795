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
from train_scorer import Row, fit_model, load_rows

from empathy_firewall.signals.scorer import SupportScorer, extract_features

#: the neutral band SOURCES.md's baselines appear to use (VADER's customary +-0.05)
BAND = 0.05


def binary_metrics(
    labels: Sequence[str], scores: Sequence[float]
) -> tuple[float, float, float, float]:
    """Accuracy, accuracy with a neutral band, macro-F1 and AUC on the positive/negative rows.

    A neutral answer (a score of exactly 0, or within +-``BAND`` for the second figure) counts
    as wrong. Macro-F1 averages the F1 of the negative and the positive class.
    """
    polar = [
        (label, score) for label, score in zip(labels, scores, strict=True) if label != "neutral"
    ]
    truth = [label for label, _ in polar]
    raw = np.array([score for _, score in polar])

    def predict(band: float) -> list[str]:
        return ["positive" if s > band else "negative" if s < -band else "neutral" for s in raw]

    predicted = predict(0.0)
    accuracy = float(np.mean([p == t for p, t in zip(predicted, truth, strict=True)]))
    banded = float(np.mean([p == t for p, t in zip(predict(BAND), truth, strict=True)]))
    macro_f1 = float(
        f1_score(
            truth, predicted, labels=["negative", "positive"], average="macro", zero_division=0
        )
    )
    auc = float(roc_auc_score([t == "positive" for t in truth], raw))
    return accuracy, banded, macro_f1, auc


#: Hand-written messages from other businesses (internet, shop, software, bank, utility), to
#: check that the scorer carries over beyond the airline tweets. Written for this project
#: (no data set text); never used for fitting. Labels are what an agent would say.
GENERAL_SET: tuple[tuple[str, str], ...] = (
    # negative
    ("negative", "My internet has been down since Monday and no one has called me back."),
    ("negative", "I returned the jacket three weeks ago and still haven't got my refund."),
    ("negative", "Your app logged me out again and now my password reset link doesn't work."),
    ("negative", "I was billed for a plan I cancelled in March. Please fix this."),
    ("negative", "The replacement part you sent is the wrong size, again."),
    (
        "negative",
        "I've explained this to four different agents now. Can someone actually read my ticket?",
    ),
    (
        "negative",
        "Card declined at checkout even though the bank says everything is fine. Very annoying.",
    ),
    ("negative", "Delivery window was 9 to 12, it's 5pm and nothing. I took the day off for this."),
    (
        "negative",
        "Hi, the invoice shows a late fee but I paid on time. I'd appreciate a correction.",
    ),
    ("negative", "Wonderful, the update deleted all my saved drafts."),
    ("negative", "If this isn't sorted by Friday I'm moving my account to another bank."),
    ("negative", "The technician never showed up and nobody let us know."),
    # neutral
    ("neutral", "How do I add a second user to our workspace?"),
    ("neutral", "Can I change the delivery address on order 4411?"),
    ("neutral", "What payment methods do you accept?"),
    ("neutral", "Please send me the VAT invoice for last month."),
    ("neutral", "Is the blue version coming back in stock?"),
    ("neutral", "I'd like to upgrade to the annual plan, what are the steps?"),
    ("neutral", "Do you have an API for exporting reports?"),
    ("neutral", "Hello, my account email is changing next week. Anything I need to do?"),
    ("neutral", "Could you tell me when my contract renews?"),
    ("neutral", "Where do I find the warranty terms?"),
    ("neutral", "Following up on my earlier message about the tax form."),
    ("neutral", "Hi there, what are your support hours on weekends?"),
    # positive
    ("positive", "That worked perfectly, thank you for the quick help!"),
    ("positive", "Got the package today, everything is great. Thanks!"),
    ("positive", "Sara on chat was super patient and sorted it out in minutes."),
    ("positive", "Refund received, much appreciated."),
    ("positive", "Love the new dashboard, it's so much easier to use."),
    ("positive", "Thanks for calling back so fast, problem solved."),
    ("positive", "Just wanted to say your team went above and beyond for us this week."),
    ("positive", "All good now, the app is working again. Cheers!"),
    ("positive", "Brilliant service as always, thank you."),
    ("positive", "It took a while, but you fixed it and I'm happy. Thank you."),
    ("positive", "Excellent, the new router is much faster."),
    ("positive", "Thank you! The technician was friendly and explained everything."),
)


def general_check(score: Callable[[str], float]) -> tuple[float, float]:
    """On GENERAL_SET: binary accuracy on the polar messages, share of neutral ones |s| < 0.2."""
    polar = [(label, score(text)) for label, text in GENERAL_SET if label != "neutral"]
    right = sum(
        (s > 0 and label == "positive") or (s < 0 and label == "negative") for label, s in polar
    )
    calm = [abs(score(text)) < 0.2 for label, text in GENERAL_SET if label == "neutral"]
    return right / len(polar), sum(calm) / len(calm)


def cross_validated_scores(
    rows: Sequence[Row], folds: int, seed: int
) -> tuple[list[float], list[tuple[float, float, float, float]]]:
    """Out-of-fold sentiment for every row, and the metrics of each held-out fold.

    Each fold is scored by a model fitted on the other folds only.
    """
    labels = [r.label for r in rows]
    features = [extract_features(r.text) for r in rows]
    scores = [0.0] * len(rows)
    per_fold: list[tuple[float, float, float, float]] = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(np.zeros(len(labels)), labels):
        model = fit_model([features[i] for i in train], [rows[i] for i in train])
        for i in test:
            scores[i] = model.sentiment(features[i])
        per_fold.append(binary_metrics([labels[i] for i in test], [scores[i] for i in test]))
    return scores, per_fold


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
    results: list[tuple[str, tuple[float, float, float, float], float]] = []
    cv, per_fold = cross_validated_scores(rows, args.folds, args.seed)
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
    print(f"| {'scorer':<32} | accuracy | acc \u00b1{BAND} | macro-F1 |   AUC | texts/s |")
    print(f"|{'-' * 34}|---------:|----------:|---------:|------:|--------:|")
    for name, (accuracy, banded, macro_f1, auc), speed in results:
        print(
            f"| {name:<32} | {accuracy:8.3f} | {banded:9.3f} | {macro_f1:8.3f} | {auc:5.3f} "
            f"| {speed:7,.0f} |"
        )
    spread = np.array(per_fold)
    print(
        f"\nacross the {args.folds} held-out folds: accuracy {spread[:, 0].min():.3f}"
        f"-{spread[:, 0].max():.3f}, macro-F1 {spread[:, 2].min():.3f}-{spread[:, 2].max():.3f}, "
        f"AUC {spread[:, 3].min():.3f}-{spread[:, 3].max():.3f}"
    )
    print(
        f"\nhand-written messages from other businesses ({len(GENERAL_SET)}, not used for fitting):"
    )
    print("| scorer | polar accuracy | neutral with abs(s) < 0.2 |")
    print("|---|---:|---:|")
    general_scorers: list[tuple[str, Callable[[str], float]]] = [
        ("empathy-firewall (shipped model)", scorer.score),
        ("TextBlob polarity", textblob),
    ]
    if vader is not None:
        general_scorers.append(("VADER compound", vader))
    for name, score in general_scorers:
        accuracy, calm = general_check(score)
        print(f"| {name} | {accuracy:.3f} | {calm:.3f} |")
    longer = [" ".join(texts[i : i + 4]) for i in range(0, len(texts) - 3, 4)]
    mean_chars = sum(map(len, longer)) / len(longer)
    print(
        f"\nthroughput on {mean_chars:.0f}-character texts (four messages joined): "
        f"{throughput(scorer.analyze, longer):,.0f} texts/s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
