"""The effect estimate never splits an effect arbitrarily between kinds it cannot separate."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from empathy_firewall.insights.dataset import Observations
from empathy_firewall.insights.estimate import CONFOUNDED, THIN, Effect, estimate

N = 600


def _observations(
    treated: dict[str, np.ndarray], sentiment: np.ndarray, group: np.ndarray | None = None
) -> Observations:
    rng = np.random.default_rng(7)
    return Observations(
        kinds=tuple(treated),
        sentiment=sentiment,
        frustrated=(sentiment < -0.3).astype(np.float64),
        prior=rng.uniform(-1, 1, N),
        first=rng.uniform(-1, 1, N),
        age=np.log1p(rng.uniform(0, 100, N)),
        channel=np.zeros(N, dtype=np.int32),
        group=np.zeros(N, dtype=np.int32) if group is None else group,
        cluster=np.arange(N, dtype=np.int32) // 3,
        treated={k: v.astype(np.int8) for k, v in treated.items()},
    )


def _by_kind(effects: list[Effect]) -> dict[str, Effect]:
    return {e.kind: e for e in effects}


def test_kinds_seen_on_the_same_messages_share_their_joint_effect_without_a_warning() -> None:
    rng = np.random.default_rng(1)
    hop = rng.random(N) < 0.3
    other = rng.random(N) < 0.3
    sentiment = -0.4 * hop - 0.2 * other + rng.normal(0, 0.1, N)
    obs = _observations(
        {"group_hop": hop, "reassignment": hop.copy(), "sla_breach": other}, sentiment
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a singular design used to warn (and split -0.4 in two)
        found = _by_kind(estimate(obs, obs.kinds))
    hop_effect, reassign_effect = found["group_hop"], found["reassignment"]
    assert hop_effect.effect == reassign_effect.effect
    assert hop_effect.effect == pytest.approx(-0.4, abs=0.03)
    assert hop_effect.together_with == ("reassignment",)
    assert reassign_effect.together_with == ("group_hop",)
    assert hop_effect.verdict == "worse"
    assert found["sla_breach"].effect == pytest.approx(-0.2, abs=0.03)
    assert found["sla_breach"].together_with == ()
    assert found["group_hop"].as_dict()["together_with"] == ["reassignment"]


def test_a_kind_the_ticket_group_already_determines_has_no_estimate_of_its_own() -> None:
    rng = np.random.default_rng(2)
    group = (rng.random(N) < 0.4).astype(np.int32)
    in_small_group = group == 1  # the less frequent level keeps its dummy column
    sentiment = -0.3 * in_small_group + rng.normal(0, 0.1, N)
    obs = _observations(
        {"long_wait": in_small_group, "reopen": rng.random(N) < 0.2}, sentiment, group=group
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = _by_kind(estimate(obs, obs.kinds))
    assert found["long_wait"].verdict == CONFOUNDED
    assert found["long_wait"].effect is None
    assert found["long_wait"].ci95 is None
    assert found["reopen"].ci95 is not None
    assert found["reopen"].verdict == "no clear effect"


def test_a_rare_kind_is_still_too_thin_to_tell() -> None:
    rng = np.random.default_rng(3)
    rare = np.zeros(N, dtype=bool)
    rare[:5] = True
    obs = _observations({"reopen": rare}, rng.normal(0, 0.1, N))
    (effect,) = estimate(obs, obs.kinds)
    assert effect.verdict == THIN
    assert effect.effect is None


@settings(max_examples=40, deadline=None)
@given(
    layout=st.lists(st.integers(min_value=0, max_value=3), min_size=2, max_size=6),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_any_layout_of_duplicate_kinds_fits_without_a_warning(layout: list[int], seed: int) -> None:
    """Kinds drawn from four indicator patterns: duplicates always share one joint effect."""
    rng = np.random.default_rng(seed)
    patterns = [rng.random(N) < share for share in (0.2, 0.3, 0.4, 0.5)]
    treated = {f"kind{i}": patterns[p].copy() for i, p in enumerate(layout)}
    obs = _observations(treated, rng.normal(0, 0.2, N))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = _by_kind(estimate(obs, obs.kinds))
    for i, p in enumerate(layout):
        twins = {f"kind{j}" for j, q in enumerate(layout) if q == p and j != i}
        effect = found[f"kind{i}"]
        assert set(effect.together_with) == twins
        assert effect.ci95 is not None
        for twin in twins:
            assert found[twin].effect == effect.effect
