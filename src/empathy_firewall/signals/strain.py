"""Agent strain, only for agents who opted in: rolling emotional load and unbroken stretches.

Definitions, at the evaluation time ``now``:

- an *interaction* is an agent's public reply; it is *hard* when the customer message it
  answered had frustration or negativity (``-sentiment``) of at least
  ``hard_interaction_at``, and its *weight* is that value (so 0.45 .. 1.0);
- *load* is the sum of the weights of hard interactions in the last ``window_hours``
  (unit: weighted hard interactions); ``load_ratio`` = load / ``overloaded_load``;
- an *unbroken stretch* is the run of interactions, ending now, with no pause of
  ``break_gap_minutes`` or more; ``unbroken_minutes`` is its length.

Nothing is computed or stored for agents who have not opted in.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from empathy_firewall.settings import AgentCareSettings

__all__ = ["NOT_TRACKED", "AgentStrain", "Interaction", "strain_of"]


@dataclass(frozen=True, slots=True)
class Interaction:
    """One public reply by an agent, with the weight of what it answered (0 if easy)."""

    comment_key: str
    at: datetime
    weight: float


@dataclass(frozen=True, slots=True)
class AgentStrain:
    """The emotional load an opted-in agent is carrying."""

    tracked: bool
    load: float | None
    load_ratio: float | None
    hard_interactions: int | None
    unbroken_minutes: float | None
    overloaded: bool
    needs_break: bool


NOT_TRACKED = AgentStrain(False, None, None, None, None, False, False)


def _at(item: Interaction) -> datetime:
    return item.at


def strain_of(
    interactions: Sequence[Interaction], now: datetime, settings: AgentCareSettings
) -> AgentStrain:
    """Compute an opted-in agent's strain from their interactions, oldest first."""
    window_start = now - timedelta(hours=settings.window_hours)
    lo = bisect_left(interactions, window_start, key=_at)
    hi = bisect_right(interactions, now, key=_at)
    recent = interactions[lo:hi]
    hard_at = settings.hard_interaction_at
    hard = [item.weight for item in recent if item.weight >= hard_at]
    # sum of the weights, rounded so 0.6+0.7+0.8+0.9+1.0 counts as the 4.0 it is
    load = round(sum(hard), 6)
    gap = timedelta(minutes=settings.break_gap_minutes)
    unbroken = 0.0
    if recent and now - recent[-1].at < gap:
        start = recent[-1].at
        for index in range(len(recent) - 2, -1, -1):
            earlier = recent[index].at
            if start - earlier >= gap:
                break
            start = earlier
        unbroken = (now - start).total_seconds() / 60.0
    ratio = round(load / settings.overloaded_load, 6)
    return AgentStrain(
        tracked=True,
        load=load,
        load_ratio=ratio,
        hard_interactions=len(hard),
        unbroken_minutes=round(unbroken, 3),
        overloaded=ratio >= 1.0,
        needs_break=unbroken >= settings.long_stretch_minutes or ratio >= 1.0,
    )
