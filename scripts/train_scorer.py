"""Fit the multilingual support scorer and write its weights into the package.

Usage (from the repository root, with the ``train`` extra installed)::

    python scripts/train_scorer.py           # writes the package's scorer_model.json.gz
    python scripts/train_scorer.py --check   # fits, compares with the shipped file, writes nothing

Data, read from ``$EF_SHARED_DIR/data/sentiment/`` (default: ``../shared`` beside the repository)
and never copied into the project (only the fitted numbers ship):

- ``airline_dev.csv``: English customer-support tweets, negative / neutral / positive;
- ``umsab/<language>/{train,val}_{text,labels}.txt``: tweets in English, Spanish, German,
  French, Portuguese and Italian (0 negative, 1 neutral, 2 positive);
- and, from the repository, the support seed sentences of ``scripts/support_seed.py``.

The model is a multinomial logistic regression (scikit-learn, lbfgs, L2) over the binary,
L2-normalised features of :func:`empathy_firewall.signals.scorer.extract_features`. Features
seen in fewer than ``MIN_DF`` texts are dropped. Deterministic: the same data gives the same
file in the same environment (sorted vocabulary, a deterministic solver, no random state);
another numpy or scipy build can end the solver a little elsewhere. The file records the
feature fingerprint (:func:`~empathy_firewall.signals.scorer.feature_fingerprint`) it was
fitted on; ``--check`` and the test suite fail when the feature code no longer makes it.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix, diags
from sklearn.linear_model import LogisticRegression

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from support_seed import seed_rows  # noqa: E402

from empathy_firewall.signals.language import (  # noqa: E402
    SUPPORTED_LANGUAGES,
    detect_languages,
)
from empathy_firewall.signals.scorer import (  # noqa: E402
    LABELS,
    ScorerModel,
    extract_features,
    feature_fingerprint,
    language_key,
)

MODEL_PATH = REPO / "src" / "empathy_firewall" / "signals" / "scorer_model.json.gz"
#: UMSAB folder -> ISO 639-1 code
UMSAB_LANGUAGES = {
    "english": "en",
    "spanish": "es",
    "german": "de",
    "french": "fr",
    "portuguese": "pt",
    "italian": "it",
}
#: the source name of the English support tweets
SUPPORT = "support-en"
#: the source prefix of the seed sentences of scripts/support_seed.py (trained on, not scored)
SEED = "seed"
#: each seed sentence counts this many times: they are few (about 230 per language) and
#: the only support questions and complaints outside English
SEED_WEIGHT = 8.0
#: inverse L2 strength of the logistic regression
C = 4.0
#: each feature gets a copy per identified supported language (shared + own weights)
LANGUAGE_FEATURES = True
#: the language copies' feature value (their effective regularisation against the shared
#: weights); the shipped weights of the copies are multiplied by it, so the runtime simply
#: adds the shared and the language's weight
LANGUAGE_SCALE = 1.0
#: a feature must occur in at least this many training texts
MIN_DF = 2
#: NB-LR feature scaling (Wang & Manning 2012, "Baselines and bigrams"): each feature's
#: column is multiplied by ``NB_FLOOR + |r|``, r its log-count ratio between positive and
#: negative training texts (presence, class-balanced weights, smoothed by ``NB_ALPHA``). The
#: L2 penalty then falls less on features that separate the polar classes; the shipped weights
#: include the factor, so the runtime is unchanged.
NB_FLOOR = 0.1
NB_ALPHA = 1.0
#: logit temperature of the shipped probabilities: the one with the lowest out-of-fold
#: log-loss. The cross-validated models are tempered with it too, so the temperature
#: ``scripts/evaluate_scorer.py`` prints is a factor on this one (1.0: nothing to change);
#: 0.95 and 1.3 both gave an optimum near 1.24 for the NB-scaled model.
TEMPERATURE = 1.25
#: digits kept for each shipped weight
DIGITS = 3
#: lbfgs runs to this tolerance: far enough that another numpy or scipy build reaches the
#: same weights to ``DIGITS`` (at 1e-4 it stopped short: a refit elsewhere moved a weight by
#: 0.64, and 1e-7 moved one by 0.97)
TOL = 1e-7
MAX_ITER = 20_000


@dataclass(frozen=True)
class Row:
    """One labelled message: its source (``support-en`` or a language code), label, text."""

    source: str
    label: int  # index into LABELS
    text: str


def shared_dir() -> Path:
    """``$EF_SHARED_DIR`` if set, else ``../shared`` beside the repository."""
    override = os.environ.get("EF_SHARED_DIR")
    return Path(override) if override else REPO.parent / "shared"


def load_rows(root: Path | None = None) -> list[Row]:
    """Every labelled message: the support tweets, then UMSAB train+validation per language."""
    base = (root if root is not None else shared_dir()) / "data" / "sentiment"
    airline = base / "airline_dev.csv"
    if not airline.is_file():
        raise SystemExit(f"training data not found under {base}; set EF_SHARED_DIR")
    rows: list[Row] = []
    with airline.open(encoding="utf-8", newline="") as handle:
        for record in csv.DictReader(handle):
            rows.append(Row(SUPPORT, LABELS.index(record["airline_sentiment"]), record["text"]))
    for folder, code in UMSAB_LANGUAGES.items():
        for split in ("train", "val"):
            texts = (base / "umsab" / folder / f"{split}_text.txt").read_text("utf-8")
            labels = (base / "umsab" / folder / f"{split}_labels.txt").read_text("utf-8")
            for text, label in zip(texts.split("\n"), labels.split(), strict=False):
                rows.append(Row(code, int(label), text))
    rows += [Row(f"{SEED}-{code}", label, text) for code, label, text in seed_rows()]
    return rows


@dataclass(frozen=True)
class Sample:
    """A row as the model sees it: counted features and the identified language."""

    features: dict[str, int]
    language: str


def featurise(rows: Sequence[Row]) -> list[Sample]:
    """The runtime features and identified language of every row.

    The language is the one the runtime would identify (not the row's source), so that
    the language's own weights are trained on what they will be applied to.
    """
    languages = detect_languages([row.text for row in rows])
    return [
        Sample(extract_features(row.text), language.code)
        for row, language in zip(rows, languages, strict=True)
    ]


def _names(sample: Sample) -> dict[str, float]:
    """Shared feature names with their counts, plus the language's own copies."""
    prefix = language_key(sample.language) if LANGUAGE_FEATURES else None
    if prefix is None:
        return dict(sample.features)
    return {
        **sample.features,
        **{prefix + k: v * LANGUAGE_SCALE for k, v in sample.features.items()},
    }


def design(
    samples: Sequence[Sample], vocabulary: dict[str, int], indices: Sequence[int]
) -> csr_matrix:
    """Feature counts scaled by 1/sqrt(the text's feature count), as the runtime does."""
    columns: list[int] = []
    values: list[float] = []
    pointers = [0]
    for i in indices:
        sample = samples[i]
        scale = 1.0 / max(sum(sample.features.values()), 1) ** 0.5
        # sorted: a dict's order must not change the float sums
        known = sorted(
            (vocabulary[name], count)
            for name, count in _names(sample).items()
            if name in vocabulary
        )
        columns += [j for j, _ in known]
        values += [count * scale for _, count in known]
        pointers.append(len(columns))
    return csr_matrix(
        (np.array(values), np.array(columns, dtype=np.int64), np.array(pointers)),
        shape=(len(indices), len(vocabulary)),
    )


def balanced(sources: Sequence[str], indices: Sequence[int], target: np.ndarray) -> np.ndarray:
    """Weights that give each class the same total within each source.

    The support tweets are 63% complaints; unweighted, the model would lean negative on
    every plain question. The UMSAB splits are already balanced (weights 1). Seed sentences
    are then weighted ``SEED_WEIGHT``.
    """
    picked = np.array([sources[i] for i in indices])
    weights = np.ones(len(indices))
    for source in np.unique(picked):
        inside = picked == source
        counts = np.bincount(target[inside], minlength=3)
        for label in range(3):
            rows = inside & (target == label)
            if counts[label]:
                weights[rows] = inside.sum() / (3 * counts[label])
        if str(source).startswith(SEED):
            weights[inside] *= SEED_WEIGHT
    return weights


def nb_scale(matrix: csr_matrix, target: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Each column's factor ``NB_FLOOR + |log-count ratio of positive to negative|``."""
    present = (matrix > 0).astype(np.float64)
    rates = []
    for label in (LABELS.index("positive"), LABELS.index("negative")):
        inside = target == label
        counts = np.asarray(present[inside].T @ weights[inside]).ravel() + NB_ALPHA
        rates.append(counts / counts.sum())
    return np.asarray(NB_FLOOR + np.abs(np.log(rates[0] / rates[1])))


_COPY_PREFIXES = frozenset(filter(None, map(language_key, SUPPORTED_LANGUAGES)))


def fit(
    samples: Sequence[Sample],
    labels: Sequence[int],
    indices: Sequence[int],
    sources: Sequence[str],
) -> ScorerModel:
    """Fit on the rows at ``indices``; returns the runtime model (weights against neutral)."""
    counts: Counter[str] = Counter()
    for i in indices:
        counts.update(_names(samples[i]).keys())
    vocabulary = {
        name: j for j, name in enumerate(sorted(f for f, n in counts.items() if n >= MIN_DF))
    }
    target = np.array([labels[i] for i in indices])
    weights = balanced(sources, indices, target)
    matrix = design(samples, vocabulary, indices)
    scale = nb_scale(matrix, target, weights)
    model = LogisticRegression(C=C, max_iter=MAX_ITER, tol=TOL)
    model.fit(matrix @ diags(scale), target, sample_weight=weights)
    coef = (model.coef_ - model.coef_[1]) * scale  # against neutral: softmax is unchanged
    bias = model.intercept_ - model.intercept_[1]
    names = sorted(vocabulary, key=vocabulary.__getitem__)
    negative: dict[str, float] = {}
    positive: dict[str, float] = {}
    for j, name in enumerate(names):
        factor = LANGUAGE_SCALE if name[:3] in _COPY_PREFIXES else 1.0
        w_negative = round(float(coef[0, j]) * factor, DIGITS)
        w_positive = round(float(coef[2, j]) * factor, DIGITS)
        if w_negative:
            negative[name] = w_negative
        if w_positive:
            positive[name] = w_positive
    return ScorerModel(
        (round(float(bias[0]), DIGITS), round(float(bias[2]), DIGITS)),
        negative,
        positive,
        TEMPERATURE,
    )


def payload(model: ScorerModel, rows: Sequence[Row]) -> str:
    """The JSON text shipped in the package."""
    data = {
        "about": (
            "Multilingual support scorer weights (log-odds against neutral), fitted by "
            "scripts/train_scorer.py on labelled tweets that are not shipped. See scorer.py."
        ),
        "trained_rows": dict(sorted(Counter(r.source for r in rows).items())),
        "c": C,
        "min_df": MIN_DF,
        "nb_floor": NB_FLOOR,
        "feature_fingerprint": feature_fingerprint(),
        **model.to_dict(),
    }
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"


def check(path: Path, fresh: str) -> int:
    """Compare the shipped file with a fresh fit (``fresh``, its JSON text); 0 if it is up to
    date, 1 if it must be retrained.

    What must match is the feature fingerprint: the shipped weights were fitted on the
    features the code makes today. The weights themselves are compared and their largest
    difference printed: lbfgs stops at a tolerance, and another numpy or scipy build stops a
    little elsewhere. At ``TOL`` that is at most a rounding unit on a few weights (1e-7
    against 1e-8: 0.001 on 4,870 of 630,884); at the former 1e-4 a refit on another machine
    moved a weight by 0.64 and a bias by 0.04. Either is the solver's arithmetic, not a
    change of what the model reads.
    """
    if not path.is_file():
        print(f"no shipped model at {path}: train one")
        return 1
    shipped = json.loads(gzip.decompress(path.read_bytes()))
    refit = json.loads(fresh)
    if shipped.get("feature_fingerprint") != refit["feature_fingerprint"]:
        print("shipped model was fitted on other features (fingerprint differs): retrain")
        return 1
    if shipped == refit:
        print("shipped model is up to date")
        return 0
    old, new = shipped["weights"], refit["weights"]
    drift = max(
        (
            abs(a - b)
            for name in old.keys() & new.keys()
            for a, b in zip(old[name], new[name], strict=True)
        ),
        default=0.0,
    )
    bias = max(abs(a - b) for a, b in zip(shipped["bias"], refit["bias"], strict=True))
    print(
        "shipped model matches the features; a refit here differs numerically "
        f"(largest weight difference {drift:.3f}, bias {bias:.3f}, "
        f"{len(old.keys() ^ new.keys())} features present in only one): "
        "retrain only to ship this environment's fit"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Fit on every row and write (or check) the shipped weights."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args(argv)
    rows = load_rows()
    samples = featurise(rows)
    model = fit(samples, [r.label for r in rows], range(len(rows)), [r.source for r in rows])
    text = payload(model, rows)
    if args.check:
        return check(args.out, text)
    # gzip with no timestamp: the same weights give the same bytes
    args.out.write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))
    print(f"wrote {args.out} from {len(rows)} rows, {len(model.to_dict()['weights'])} features")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
