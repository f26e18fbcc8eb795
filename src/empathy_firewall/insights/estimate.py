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
is reported as too thin to tell, with no effect or interval. This is an association
adjusted for the named confounders, not proof of cause: see docs/team-leads.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from statsmodels.regression.linear_model import OLS

from empathy_firewall.insights.dataset import Observations

__all__ = ["MIN_N", "Effect", "estimate"]

#: fewer treated messages than this: "too thin to tell"
MIN_N = 30
_MAX_LEVELS = 15


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


def estimate(obs: Observations, kinds: Sequence[str], *, min_n: int = MIN_N) -> list[Effect]:
    """Adjusted effects for ``kinds`` (each a disruption or intervention in ``obs``)."""
    counts = {k: int(np.sum(obs.treated[k])) for k in obs.kinds}
    fitted = [k for k in obs.kinds if counts[k] >= min_n]
    results: dict[str, tuple[float, tuple[float, float], float, tuple[float, float]]] = {}
    if fitted and len(obs) > len(fitted) + 10:
        columns: list[np.ndarray[Any, Any]] = [np.ones(len(obs))]
        columns += [obs.treated[k].astype(np.float64) for k in fitted]
        columns += [obs.prior, obs.first, obs.age]
        for codes, name in ((obs.channel, "channel"), (obs.group, "group")):
            extra, _ = _dummies(codes, name)
            columns += extra
        design = np.column_stack(columns)
        del columns
        clusters = obs.cluster
        fits = []
        for outcome in (obs.sentiment, obs.frustrated):
            y = outcome
            model = OLS(y, design, missing="none", hasconst=True)
            fit = model.fit(method="qr", cov_type="cluster", cov_kwds={"groups": clusters})
            fits.append((np.asarray(fit.params), np.asarray(fit.conf_int(alpha=0.05))))
            del model, fit  # the first fit's n x k arrays go before the second is built
        del design
        for i, kind in enumerate(fitted, start=1):
            (p1, c1), (p2, c2) = fits
            results[kind] = (
                float(p1[i]),
                (float(c1[i][0]), float(c1[i][1])),
                float(p2[i]),
                (float(c2[i][0]), float(c2[i][1])),
            )
    out: list[Effect] = []
    for kind in kinds:
        n = counts.get(kind, 0)
        found = results.get(kind)
        if found is None:
            out.append(Effect(kind, n, None, None, None, None, "too thin to tell"))
            continue
        effect, ci, frus, frus_ci = found
        out.append(Effect(kind, n, effect, ci, frus, frus_ci, _verdict(*ci)))
    return out
