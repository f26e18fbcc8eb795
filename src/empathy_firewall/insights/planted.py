"""A ticket-history generator with planted effects, to check the estimator recovers them.

It writes timeline rows straight into a state store: tickets with alternating customer and
agent messages, disruptions between customer messages, and the firewall's interventions.
The next customer message's sentiment is

    0.5 * previous sentiment + the ticket's own mood + group and channel offsets
    - 0.03 * log(1 + age in hours) + the planted effect of each disruption/intervention
    since the previous message + noise,

clipped to [-1, 1]. Disruptions are deliberately confounded: breaches and long waits are
likelier after a negative message, group hops likelier in the gloomiest group, and a hop
usually comes with a reassignment, so a naive comparison is biased and only an adjusted
estimate recovers the planted values.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from math import log1p
from typing import Any

from sqlalchemy import Engine

from empathy_firewall.insights import tables

__all__ = ["DEFAULT_EFFECTS", "DEFAULT_INTERVENTION_EFFECTS", "Planted", "plant"]

#: the planted effects of the issue's check: hops -0.3, breaches -0.2, reopens nothing
DEFAULT_EFFECTS: Mapping[str, float] = {
    "group_hop": -0.3,
    "sla_breach": -0.2,
    "reopen": 0.0,
    "reassignment": -0.05,
    "assignee_overloaded": -0.1,
    "long_wait": -0.15,
}
#: planted effects of the interventions, by rule id
DEFAULT_INTERVENTION_EFFECTS: Mapping[str, float] = {
    "delay-acknowledgement": 0.1,
    "handoff-baton": 0.05,
    "service-recovery": 0.0,
}

_GROUPS = (("support", 0.0, 12), ("billing", -0.05, 8), ("escalations", -0.15, 3))
_CHANNELS = (("email", 0.0), ("web", 0.02), ("chat", 0.05), ("phone", -0.03))
_QUOTES = (
    "Thank you so much, that fixed it!",
    "You have been wonderful, really appreciate the quick help.",
    "Brilliant, thanks for sorting this out so fast.",
)


@dataclass(frozen=True, slots=True)
class Planted:
    """What :func:`plant` wrote."""

    tickets: int
    rows: int


def _clip(value: float, lo: float = -1.0, hi: float = 1.0) -> float:
    return lo if value < lo else hi if value > hi else value


def _tickets(
    count: int,
    effects: Mapping[str, float],
    interventions: Mapping[str, float],
    rng: random.Random,
    now: datetime,
    days: float,
    prefix: str,
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ``(table, row)`` pairs, ticket after ticket."""
    span = timedelta(days=days).total_seconds()
    for number in range(count):
        key = f"{prefix}::{number}"
        group, group_base, agents = rng.choice(_GROUPS)
        channel, channel_base = rng.choice(_CHANNELS)
        created = now - timedelta(seconds=rng.random() * span)
        mood = rng.gauss(0.05, 0.1)
        base = {"ticket_key": key, "channel": channel, "grp": group, "ticket_created": created}
        at = created
        sentiment = _clip(mood + group_base + rng.gauss(0.0, 0.3))
        messages = rng.randint(2, 6)
        agent = f"{prefix}::{group}-{rng.randrange(agents)}"
        for index in range(messages):
            frustration = _clip(0.45 - 0.6 * sentiment + rng.gauss(0.0, 0.15), 0.0, 1.0)
            yield (
                "timeline",
                {
                    **base,
                    "item": f"m:c{index}",
                    "at": at,
                    "kind": "customer",
                    "sentiment": sentiment,
                    "frustration": frustration,
                    "actor": None,
                    "detail": None,
                },
            )
            if sentiment >= 0.6 and rng.random() < 0.3:
                yield (
                    "moments",
                    {
                        "ticket_key": key,
                        "comment_id": f"c{index}",
                        "at": at,
                        "grp": group,
                        "channel": channel,
                        "sentiment": sentiment,
                        "quote": rng.choice(_QUOTES),
                        "url": f"https://helpdesk.example/tickets/{number}",
                    },
                )
            if index == messages - 1:
                break
            happened: list[str] = []
            gloomy = sentiment < -0.2
            odds = {
                "sla_breach": 0.12 + (0.15 if gloomy else 0.0),
                "long_wait": 0.04 + (0.06 if gloomy else 0.0),
                "group_hop": 0.06 + (0.12 if group == "escalations" else 0.0),
                "reopen": 0.08,
                "assignee_overloaded": 0.06,
                "reassignment": 0.08,
            }
            for kind, p in odds.items():
                if rng.random() < p:
                    happened.append(kind)
            if "group_hop" in happened and "reassignment" not in happened and rng.random() < 0.7:
                happened.append("reassignment")
            fired = []
            if ("sla_breach" in happened or "long_wait" in happened) and rng.random() < 0.5:
                fired.append("delay-acknowledgement")
            if "reassignment" in happened and rng.random() < 0.5:
                fired.append("handoff-baton")
            if gloomy and rng.random() < 0.15:
                fired.append("service-recovery")
            gap = timedelta(hours=rng.uniform(1.0, 30.0))
            for offset, kind in enumerate(happened, start=1):
                moment = at + gap * (offset / (len(happened) + 2))
                yield (
                    "timeline",
                    {
                        **base,
                        "item": f"{kind}:{index}",
                        "at": moment,
                        "kind": kind,
                        "sentiment": None,
                        "frustration": None,
                        "actor": None,
                        "detail": None,
                    },
                )
            for rule in fired:
                yield (
                    "timeline",
                    {
                        **base,
                        "item": f"fired:{rule}:{index}",
                        "at": at + gap * 0.9,
                        "kind": "fired",
                        "sentiment": None,
                        "frustration": None,
                        "actor": rule,
                        "detail": "internal_note",
                    },
                )
                if rng.random() < 0.05:  # an agent deleted the note
                    yield (
                        "timeline",
                        {
                            **base,
                            "item": f"undo:{rule}:{index}",
                            "at": at + gap * 0.95,
                            "kind": "undo",
                            "sentiment": None,
                            "frustration": None,
                            "actor": rule,
                            "detail": "internal_note",
                        },
                    )
            reply = at + gap * 0.8
            yield (
                "timeline",
                {
                    **base,
                    "item": f"m:a{index}",
                    "at": reply,
                    "kind": "agent",
                    "sentiment": _clip(0.3 + rng.gauss(0.0, 0.2)),
                    "frustration": 0.0,
                    "actor": agent,
                    "detail": None,
                },
            )
            at = at + gap
            age = (at - created).total_seconds() / 3600.0
            shift = sum(effects.get(k, 0.0) for k in happened)
            shift += sum(interventions.get(r, 0.0) for r in fired)
            sentiment = _clip(
                0.5 * sentiment
                + mood
                + group_base
                + channel_base
                - 0.03 * log1p(age)
                + shift
                + rng.gauss(0.0, 0.2)
            )


def plant(
    engine: Engine,
    *,
    tickets: int = 3000,
    effects: Mapping[str, float] = DEFAULT_EFFECTS,
    interventions: Mapping[str, float] = DEFAULT_INTERVENTION_EFFECTS,
    seed: int = 7,
    now: datetime | None = None,
    days: float = 28.0,
    batch: int = 5000,
    prefix: str = "planted",
) -> Planted:
    """Write ``tickets`` planted tickets into the store behind ``engine``.

    Ticket keys are ``<prefix>::<number>``: use another prefix to add more tickets.
    """
    rng = random.Random(seed)  # noqa: S311 - test data, not security
    moment = now or datetime.now(UTC)
    pending: dict[str, list[dict[str, Any]]] = {"timeline": [], "moments": []}
    targets = {"timeline": tables.timeline, "moments": tables.moments}
    rows = 0
    with engine.begin() as conn:
        for table, row in _tickets(tickets, effects, interventions, rng, moment, days, prefix):
            pending[table].append(row)
            rows += table == "timeline"
            if len(pending[table]) >= batch:
                conn.execute(targets[table].insert(), pending[table])
                pending[table] = []
        for table, items in pending.items():
            if items:
                conn.execute(targets[table].insert(), items)
    return Planted(tickets, rows)
