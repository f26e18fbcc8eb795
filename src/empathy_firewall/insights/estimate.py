"""Which disruptions hurt, and which interventions helped: adjusted effects with intervals.

One linear model per outcome, fitted by statsmodels' OLS with standard errors clustered by
ticket (messages of one ticket are not independent):

    outcome ~ every disruption and intervention indicator + previous sentiment
              + the ticket's first customer sentiment
              + log(1 + ticket age in hours) + channel + group

The outcomes are the next customer message's sentiment (in [-1, 1]) and whether it was
frustrated (a linear probability model, so its effect reads as a change in the rate).
Fitting every kind in one model adjusts each for the others that happen alongside it
(a group hop often comes with a reassignment). A kind observed fewer than ``min_n`` times
is reported as too thin to tell, with no effect or interval.

Kinds that were observed on exactly the same messages (in the sample every reassignment is
also a group hop) cannot be told apart by any model: they share one column, and each is
reported with their joint effect and ``together_with`` naming the others. A kind whose
indicator is otherwise a combination of the other columns (for example only ever seen in
one group) has no estimate of its own: it is reported as ``cannot be told apart``. So the
fit never meets a singular design, and the numbers shown are never an arbitrary split.

This is an association adjusted for the named confounders, not proof of cause: see
docs/team-leads.md.
"""

from __future__ import annotations

import logging
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from statsmodels.regression.linear_model import OLS

from empathy_firewall.insights.dataset import Observations

__all__ = ["CONFOUNDED", "MIN_N", "THIN", "Effect", "estimate"]

log = logging.getLogger("empathy_firewall.insights")

#: fewer treated messages than this: "too thin to tell"
MIN_N = 30
#: the verdict of a kind with too few observations
THIN = "too thin to tell"
#: the verdict of a kind whose indicator the other columns already determine
CONFOUNDED = "cannot be told apart"
_MAX_LEVELS = 15
# a column whose part not explained by the columns before it is below this share of its
# own size is a combination of them (exact collinearity leaves rounding error, ~1e-16)
_COLLINEAR = 1e-9


@dataclass(frozen=True, slots=True)
class Effect:
    """The adjusted change in the next customer message after ``kind``."""

    kind: str
    n: int
    effect: float | None
    ci95: tuple[float, float] | None
    frustration_effect: float | None
    frustration_ci95: tuple[float, float] | None
    verdict: str
    #: kinds seen on exactly the same messages: the effect is theirs jointly
    together_with: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of ``report --json``."""
        return {
            "kind": self.kind,
            "n": self.n,
            "effect": _round(self.effect),
            "ci95": None if self.ci95 is None else [_round(v) for v in self.ci95],
            "frustration_rate_change": _round(self.frustration_effect),
            "frustration_ci95": (
                None
                if self.frustration_ci95 is None
                else [_round(v) for v in self.frustration_ci95]
            ),
            "verdict": self.verdict,
            "together_with": list(self.together_with),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def _dummies(
    codes: np.ndarray[Any, Any], name: str
) -> tuple[list[np.ndarray[Any, Any]], list[str]]:
    """Indicator columns for the most frequent levels (the rest pooled, the top one dropped)."""
    counts = Counter(codes.tolist())
    levels = [level for level, _ in counts.most_common(_MAX_LEVELS)]
    return [(codes == level).astype(np.float64) for level in levels[1:]], [
        f"{name}={level}" for level in levels[1:]
    ]


def _verdict(lo: float, hi: float) -> str:
    if hi < 0:
        return "worse"
    if lo > 0:
        return "better"
    return "no clear effect"


def _independent(design: np.ndarray[Any, Any]) -> list[bool]:
    """For each column, whether it adds something the columns kept before it do not.

    Sequential on the k x k Gram matrix (k is a few dozen; the n x k design is not copied):
    a column is kept when its residual sum of squares on the kept columns is more than
    ``_COLLINEAR`` of its own sum of squares.
    """
    gram = design.T @ design
    kept: list[int] = []
    out: list[bool] = []
    for j in range(gram.shape[0]):
        total = float(gram[j, j])
        residual = total
        if kept and total > 0:
            block = gram[np.ix_(kept, kept)]
            cross = gram[kept, j]
            residual = total - float(cross @ np.linalg.solve(block, cross))
        independent = total > 0 and residual > _COLLINEAR * total
        out.append(independent)
        if independent:
            kept.append(j)
    return out


def estimate(obs: Observations, kinds: Sequence[str], *, min_n: int = MIN_N) -> list[Effect]:
    """Adjusted effects for ``kinds`` (each a disruption or intervention in ``obs``)."""
    counts = {k: int(np.sum(obs.treated[k])) for k in obs.kinds}
    fitted = [k for k in obs.kinds if counts[k] >= min_n]
    # kinds observed on exactly the same messages share one column (their joint effect)
    blocks: dict[bytes, list[str]] = {}
    for kind in fitted:
        blocks.setdefault(np.asarray(obs.treated[kind], dtype=bool).tobytes(), []).append(kind)
    together = {
        kind: tuple(k for k in block if k != kind) for block in blocks.values() for kind in block
    }
    results: dict[str, tuple[float, tuple[float, float], float, tuple[float, float]]] = {}
    confounded: set[str] = set()
    if blocks and len(obs) > len(blocks) + 10:
        members = {block[0]: block for block in blocks.values()}  # a leader and its block
        leaders = list(members)
        # the confounders first: a kind they already determine is the one left without
        # an estimate, never a confounder silently dropped
        columns: list[np.ndarray[Any, Any]] = [np.ones(len(obs)), obs.prior, obs.first, obs.age]
        for codes, name in ((obs.channel, "channel"), (obs.group, "group")):
            extra, _ = _dummies(codes, name)
            columns += extra
        controls = len(columns)
        columns += [obs.treated[k].astype(np.float64) for k in leaders]
        design = np.column_stack(columns)
        del columns
        keep = _independent(design)
        position: dict[str, int] = {}
        for offset, leader in enumerate(leaders):
            if keep[controls + offset]:
                position[leader] = sum(keep[: controls + offset])
            else:
                confounded.update(members[leader])
        if not all(keep):
            design = design[:, keep]
        clusters = obs.cluster
        fits = []
        for outcome in (obs.sentiment, obs.frustrated):
            # pinv: the cluster-robust covariance needs the pseudo-inverse anyway, so "qr"
            # would only add an n x k Q matrix (measured +49 MB at 290k observations)
            model = OLS(outcome, design, missing="none", hasconst=True)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                fit = model.fit(method="pinv", cov_type="cluster", cov_kwds={"groups": clusters})
            for warning in caught:  # statsmodels' advice is for the log, not the terminal
                log.debug("report estimate: %s: %s", warning.category.__name__, warning.message)
            fits.append((np.asarray(fit.params), np.asarray(fit.conf_int(alpha=0.05))))
            del model, fit  # the first fit's n x k arrays go before the second is built
        del design
        (p1, c1), (p2, c2) = fits
        for leader, i in position.items():
            joint = (
                float(p1[i]),
                (float(c1[i][0]), float(c1[i][1])),
                float(p2[i]),
                (float(c2[i][0]), float(c2[i][1])),
            )
            for kind in members[leader]:
                results[kind] = joint
    out: list[Effect] = []
    for kind in kinds:
        n = counts.get(kind, 0)
        found = results.get(kind)
        if kind in confounded:
            out.append(Effect(kind, n, None, None, None, None, CONFOUNDED, together.get(kind, ())))
        elif found is None:
            out.append(Effect(kind, n, None, None, None, None, THIN))
        else:
            effect, ci, frus, frus_ci = found
            out.append(
                Effect(kind, n, effect, ci, frus, frus_ci, _verdict(*ci), together.get(kind, ()))
            )
    return out
