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


def strain_of(
    interactions: Sequence[Interaction], now: datetime, settings: AgentCareSettings
) -> AgentStrain:
    """Compute an opted-in agent's strain from their interactions, oldest first."""
    window_start = now - timedelta(hours=settings.window_hours)
    gap = timedelta(minutes=settings.break_gap_minutes)
    hard_at = settings.hard_interaction_at
    load = 0.0
    hard = 0
    stretch_start: datetime | None = None
    previous: datetime | None = None
    for item in interactions:
        at = item.at
        if at < window_start or at > now:
            continue
        if item.weight >= hard_at:
            load += item.weight
            hard += 1
        if previous is None or at - previous >= gap:
            stretch_start = at
        previous = at
    unbroken = 0.0
    if previous is not None and stretch_start is not None and now - previous < gap:
        unbroken = (now - stretch_start).total_seconds() / 60.0
    load = round(load, 6)  # before comparing: 0.6+0.7+0.8+0.9+1.0 sums to 3.9999999999999996
    ratio = load / settings.overloaded_load
    return AgentStrain(
        tracked=True,
        load=load,
        load_ratio=round(ratio, 6),
        hard_interactions=hard,
        unbroken_minutes=round(unbroken, 3),
        overloaded=ratio >= 1.0,
        needs_break=unbroken >= settings.long_stretch_minutes or ratio >= 1.0,
    )
