"""Fit the support-domain scorer and write its weights into the package.

Usage (from the repository root, with the ``train`` extra installed)::

    python scripts/train_scorer.py           # writes the package's scorer_model.json
    python scripts/train_scorer.py --check   # fits, compares with the shipped file, writes nothing

The data is read from ``$EF_SHARED_DIR/data/sentiment/airline_dev.csv`` (default: ``../shared``
next to the repository). It is never copied into the project: only the fitted numbers are
shipped. The features are general (lexicon polarity, cues, a hand-curated support vocabulary),
so no word of the tweets is learned unless it is in that vocabulary. Deterministic: the same
data gives the same file.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from empathy_firewall.signals.scorer import (  # noqa: E402
    DENSE_FEATURES,
    VOCABULARY,
    Features,
    Head,
    ScorerModel,
    extract_features,
)

MODEL_PATH = REPO / "src" / "empathy_firewall" / "signals" / "scorer_model.json"
DATA_NAME = Path("data") / "sentiment" / "airline_dev.csv"
#: inverse regularisation strength of both logistic regressions (fixed before evaluation)
C = 0.5
VOCAB_ENTRIES: tuple[str, ...] = tuple(e for group in VOCABULARY.values() for e in group)
_VOCAB_COLUMN = {entry: i for i, entry in enumerate(VOCAB_ENTRIES)}


@dataclass(frozen=True)
class Row:
    """One labelled message: ``label`` is negative, neutral or positive."""

    label: str
    confidence: float
    text: str


def shared_dir() -> Path:
    """``$EF_SHARED_DIR`` if set, else ``../shared`` beside the repository."""
    override = os.environ.get("EF_SHARED_DIR")
    return Path(override) if override else REPO.parent / "shared"


def load_rows(path: Path | None = None) -> list[Row]:
    """Read the crowd-labelled dev messages."""
    source = path if path is not None else shared_dir() / DATA_NAME
    if not source.is_file():
        raise SystemExit(f"dev data not found at {source}; set EF_SHARED_DIR")
    with source.open(encoding="utf-8", newline="") as handle:
        return [
            Row(r["airline_sentiment"], float(r["airline_sentiment_confidence"]), r["text"])
            for r in csv.DictReader(handle)
        ]


def feature_matrix(features: Sequence[Features]) -> np.ndarray:
    """Dense features then one column per vocabulary entry."""
    n_dense = len(DENSE_FEATURES)
    matrix = np.zeros((len(features), n_dense + len(VOCAB_ENTRIES)))
    for i, feats in enumerate(features):
        matrix[i, :n_dense] = feats.dense
        for entry, count in feats.vocab.items():
            matrix[i, n_dense + _VOCAB_COLUMN[entry]] = count
    return matrix


def fit_head(matrix: np.ndarray, target: np.ndarray, weights: np.ndarray) -> Head:
    """Fit one logistic regression; fold the dense standardisation back into the weights."""
    n_dense = len(DENSE_FEATURES)
    mean = matrix[:, :n_dense].mean(axis=0)
    scale = matrix[:, :n_dense].std(axis=0)
    scale[scale == 0] = 1.0
    scaled = matrix.copy()
    scaled[:, :n_dense] = (matrix[:, :n_dense] - mean) / scale
    model = LogisticRegression(C=C, max_iter=5000)
    model.fit(scaled, target, sample_weight=weights)
    coef = model.coef_[0]
    dense = coef[:n_dense] / scale
    bias = float(model.intercept_[0] - np.dot(dense, mean))
    vocab = {
        entry: round(float(w), 6)
        for entry, w in zip(VOCAB_ENTRIES, coef[n_dense:], strict=True)
        if abs(w) >= 1e-6
    }
    return Head(round(bias, 6), tuple(round(float(w), 6) for w in dense), vocab)


def fit_model(features: Sequence[Features], rows: Sequence[Row]) -> ScorerModel:
    """Polarity head on the positive and negative rows, neutral head on all rows.

    Rows are weighted by the crowd's confidence in their label.
    """
    matrix = feature_matrix(features)
    labels = np.array([r.label for r in rows])
    weights = np.array([r.confidence for r in rows])
    polar = labels != "neutral"
    polarity = fit_head(matrix[polar], (labels[polar] == "positive").astype(int), weights[polar])
    neutral = fit_head(matrix, (labels == "neutral").astype(int), weights)
    return ScorerModel(polarity, neutral)


def main(argv: Sequence[str] | None = None) -> int:
    """Fit on the whole dev file and write (or check) the shipped weights."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args(argv)
    rows = load_rows()
    model = fit_model([extract_features(r.text) for r in rows], rows)
    payload = {
        "about": (
            "Support-domain scorer weights, fitted by scripts/train_scorer.py on crowd-labelled "
            "customer messages (not shipped). Features are general: see scorer.py."
        ),
        "trained_rows": len(rows),
        "C": C,
        **model.to_dict(),
    }
    text = json.dumps(payload, indent=1, sort_keys=True) + "\n"
    if args.check:
        same = args.out.read_text(encoding="utf-8") == text
        print("shipped model is up to date" if same else "shipped model differs: retrain")
        return 0 if same else 1
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out.relative_to(REPO)} from {len(rows)} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
