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
from scipy.optimize import minimize

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from empathy_firewall.signals.cues import FRUSTRATION_KINDS, CueKind  # noqa: E402
from empathy_firewall.signals.scorer import (  # noqa: E402
    _VOCAB_GROUP,
    DENSE_FEATURES,
    VOCABULARY,
    Features,
    Head,
    ScorerModel,
    extract_features,
)

MODEL_PATH = REPO / "src" / "empathy_firewall" / "signals" / "scorer_model.json"
DATA_NAME = Path("data") / "sentiment" / "airline_dev.csv"
VOCAB_ENTRIES: tuple[str, ...] = tuple(e for group in VOCABULARY.values() for e in group)
_VOCAB_COLUMN = {entry: i for i, entry in enumerate(VOCAB_ENTRIES)}
FRUSTRATION_CUES: tuple[str, ...] = tuple(k.value for k in (*FRUSTRATION_KINDS, CueKind.SARCASM))


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


# Domain knowledge the fit may not contradict: +1 means the weight may not be negative, -1 that
# it may not be positive, for P(positive) and for P(neutral). A noisy data set (one industry,
# sarcasm, crowd labels) can otherwise give "escalate" or "angry" a positive weight, which
# would not carry over to other businesses. Unlisted features are free.
_POLARITY_SIGNS: dict[str, int] = {
    "lex_after_contrast": 1,
    "praise_minus_trouble_after_contrast": 1,
    "thanks_then_complaint": -1,
    "lex_pos": 1,
    "lex_neg": -1,
    "lex_mean": 1,
    "lex_max": 1,
    "lex_min": 1,
    "negated_pos": -1,
    "group_praise": 1,
    "group_complaint": -1,
    "group_problem": -1,
    "cue_gratitude": 1,
    "polite_problem": -1,
    "praise_with_trouble": -1,
    "emoji_pos": 1,
    "emoji_neg": -1,
    "frustration_cues": -1,
    **{f"cue_{kind}": -1 for kind in FRUSTRATION_CUES},
}
_NEUTRAL_SIGNS: dict[str, int] = {
    "lex_pos": -1,
    "lex_neg": -1,
    "group_praise": -1,
    "group_complaint": -1,
    "cue_gratitude": -1,
    "praise_with_trouble": -1,
    "emoji_pos": -1,
    "emoji_neg": -1,
    "frustration_cues": -1,
    **{f"cue_{kind}": -1 for kind in FRUSTRATION_CUES},
}
_POLARITY_GROUP_SIGNS = {"praise": 1, "complaint": -1, "problem": -1}
_NEUTRAL_GROUP_SIGNS = {"praise": -1, "complaint": -1}
#: L2 penalties (per unit of sample weight) on the dense and on the vocabulary weights
L2_DENSE = 1e-3
L2_VOCAB = 3e-3
#: how far each head's classes are rebalanced: 0 keeps the data's shares, 1 weighs both sides
#: equally. Half-way keeps most of the accuracy while making the scores less dependent on how
#: many complaints (78% of polar rows here) or neutral messages one business happens to get,
#: so a plain request lands near 0 instead of at the data set's complaint rate.
BALANCE_POLARITY = 0.5
BALANCE_NEUTRAL = 0.5


def _bounds(
    dense_signs: dict[str, int], group_signs: dict[str, int]
) -> list[tuple[float | None, float | None]]:
    def bound(sign: int) -> tuple[float | None, float | None]:
        return (0.0, None) if sign > 0 else (None, 0.0) if sign < 0 else (None, None)

    dense = [bound(dense_signs.get(name, 0)) for name in DENSE_FEATURES]
    vocab = [bound(group_signs.get(_VOCAB_GROUP[entry], 0)) for entry in VOCAB_ENTRIES]
    return [(None, None), *dense, *vocab]  # the bias comes first and is free


def fit_head(
    matrix: np.ndarray,
    target: np.ndarray,
    weights: np.ndarray,
    bounds: list[tuple[float | None, float | None]],
) -> Head:
    """Sign-constrained, L2-regularised logistic regression (L-BFGS-B).

    Dense features are standardised for the fit; the scaling is folded back into the weights,
    so the runtime multiplies raw feature values.
    """
    n_dense = len(DENSE_FEATURES)
    mean = matrix[:, :n_dense].mean(axis=0)
    scale = matrix[:, :n_dense].std(axis=0)
    scale[scale == 0] = 1.0
    scaled = matrix.copy()
    scaled[:, :n_dense] = (matrix[:, :n_dense] - mean) / scale
    design = np.hstack([np.ones((len(scaled), 1)), scaled])
    sample = weights / weights.sum()
    penalty = np.concatenate(
        [[0.0], np.full(n_dense, L2_DENSE), np.full(len(VOCAB_ENTRIES), L2_VOCAB)]
    )
    y = target.astype(float)

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        z = design @ theta
        # log(1 + e^z) - y z, computed stably
        nll = np.logaddexp(0.0, z) - y * z
        prob = 0.5 * (1.0 + np.tanh(0.5 * z))
        grad = design.T @ (sample * (prob - y)) + penalty * theta
        return float(sample @ nll + 0.5 * penalty @ (theta * theta)), grad

    start = np.zeros(design.shape[1])
    fitted = minimize(
        loss,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 5000, "gtol": 1e-9, "ftol": 1e-12},
    )
    theta = fitted.x
    dense = theta[1 : n_dense + 1] / scale
    bias = float(theta[0] - np.dot(dense, mean))
    vocab = {
        entry: round(float(w), 6)
        for entry, w in zip(VOCAB_ENTRIES, theta[n_dense + 1 :], strict=True)
        if abs(w) >= 1e-6
    }
    return Head(round(bias, 6), tuple(round(float(w), 6) for w in dense), vocab)


def rebalanced(weights: np.ndarray, minority: np.ndarray, power: float) -> np.ndarray:
    """Scale the minority rows' weights by (majority total / minority total) ** power."""
    ratio = weights[~minority].sum() / weights[minority].sum()
    out = weights.copy()
    out[minority] *= ratio**power
    return out


def fit_model(features: Sequence[Features], rows: Sequence[Row]) -> ScorerModel:
    """Polarity head on the positive and negative rows, neutral head on all rows.

    Rows are weighted by the crowd's confidence in their label, then rebalanced half-way.
    """
    matrix = feature_matrix(features)
    labels = np.array([r.label for r in rows])
    weights = np.array([r.confidence for r in rows])
    polar = labels != "neutral"
    positive = labels[polar] == "positive"
    polarity = fit_head(
        matrix[polar],
        positive.astype(int),
        rebalanced(weights[polar], positive, BALANCE_POLARITY),
        _bounds(_POLARITY_SIGNS, _POLARITY_GROUP_SIGNS),
    )
    neutral = fit_head(
        matrix,
        (~polar).astype(int),
        rebalanced(weights, ~polar, BALANCE_NEUTRAL),
        _bounds(_NEUTRAL_SIGNS, _NEUTRAL_GROUP_SIGNS),
    )
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
        "l2": {"dense": L2_DENSE, "vocab": L2_VOCAB},
        "rebalance": {"polarity": BALANCE_POLARITY, "neutral": BALANCE_NEUTRAL},
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
