"""From the timeline to one observation per customer message, streamed.

An observation is a customer message that follows an earlier customer message of the same
ticket. Its outcome is the message's sentiment and whether it was frustrated; its
"treatments" are the disruptions and interventions that happened between the previous
customer message and this one; its covariates are the previous message's sentiment, the
customer's first message's sentiment (their mood when they wrote in), the ticket's age, its
channel and its group. Rows are read in ticket order with a server-side
cursor and packed into compact arrays, so memory grows with the observations, not with
the rows read.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from math import log1p
from typing import Any

from sqlalchemy import Engine, select

from empathy_firewall.insights import tables
from empathy_firewall.insights.tables import DISRUPTIONS

__all__ = ["FRUSTRATED_AT", "INTERVENTIONS", "Observations", "collect", "ticket_filter"]

#: a customer message with frustration at least this counts as frustrated
FRUSTRATED_AT = 0.5

#: the firewall's interventions, by the rule that makes them (default pack ids)
INTERVENTIONS: Mapping[str, str] = {
    "delay-acknowledgement": "delay_acknowledgement",
    "handoff-baton": "baton",
    "service-recovery": "recovery",
}

_STREAM = 20_000


@dataclass
class Observations:
    """Column arrays, one entry per observation (see the module docstring)."""

    kinds: tuple[str, ...]
    sentiment: array[float] = field(default_factory=lambda: array("d"))
    frustrated: array[float] = field(default_factory=lambda: array("d"))
    prior: array[float] = field(default_factory=lambda: array("d"))
    first: array[float] = field(default_factory=lambda: array("d"))
    age: array[float] = field(default_factory=lambda: array("d"))
    channel: array[int] = field(default_factory=lambda: array("i"))
    group: array[int] = field(default_factory=lambda: array("i"))
    cluster: array[int] = field(default_factory=lambda: array("i"))
    treated: dict[str, array[int]] = field(default_factory=dict)
    channels: dict[str, int] = field(default_factory=dict)
    groups: dict[str, int] = field(default_factory=dict)
    rows_read: int = 0

    def __post_init__(self) -> None:
        for kind in self.kinds:
            self.treated.setdefault(kind, array("b"))

    def __len__(self) -> int:
        return len(self.sentiment)

    def _code(self, table: dict[str, int], value: str | None) -> int:
        name = value or "(none)"
        return table.setdefault(name, len(table))

    def add(
        self,
        *,
        sentiment: float,
        frustration: float | None,
        prior: float,
        first: float,
        age_hours: float,
        channel: str,
        group: str | None,
        cluster: int,
        seen: set[str],
    ) -> None:
        """Append one observation."""
        self.sentiment.append(sentiment)
        self.frustrated.append(1.0 if (frustration or 0.0) >= FRUSTRATED_AT else 0.0)
        self.prior.append(prior)
        self.first.append(first)
        self.age.append(log1p(max(age_hours, 0.0)))
        self.channel.append(self._code(self.channels, channel))
        self.group.append(self._code(self.groups, group))
        self.cluster.append(cluster)
        for kind in self.kinds:
            self.treated[kind].append(1 if kind in seen else 0)


def ticket_filter(group: str | None) -> object | None:
    """The WHERE clause keeping the tickets that were ever in ``group`` (None: all)."""
    if group is None:
        return None
    tl = tables.timeline
    return tl.c.ticket_key.in_(select(tl.c.ticket_key).where(tl.c.grp == group).distinct())


def _rows(
    engine: Engine, since: datetime | None, until: datetime | None, group: str | None
) -> Iterator[Any]:
    tl = tables.timeline
    query = select(
        tl.c.ticket_key,
        tl.c.kind,
        tl.c.at,
        tl.c.sentiment,
        tl.c.frustration,
        tl.c.channel,
        tl.c.grp,
        tl.c.ticket_created,
        tl.c.actor,
    ).where(tl.c.kind.in_(("customer", "fired", *DISRUPTIONS)))
    if since is not None:
        query = query.where(tl.c.at >= since)
    if until is not None:
        query = query.where(tl.c.at <= until)
    where = ticket_filter(group)
    if where is not None:
        query = query.where(where)  # type: ignore[arg-type]
    query = query.order_by(tl.c.ticket_key, tl.c.at, tl.c.item)
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=_STREAM).execute(query)
        yield from result


def collect(
    engine: Engine,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    group: str | None = None,
    interventions: Mapping[str, str] = INTERVENTIONS,
) -> Observations:
    """Stream the timeline into observations (see the module docstring)."""
    names = tuple(dict.fromkeys(interventions.values()))
    obs = Observations(kinds=(*DISRUPTIONS, *names))
    current: str | None = None
    cluster = -1
    prior: float | None = None
    first = 0.0
    seen: set[str] = set()
    for key, kind, at, sentiment, frustration, channel, grp, created, actor in _rows(
        engine, since, until, group
    ):
        obs.rows_read += 1
        if key != current:
            current, prior, cluster = key, None, cluster + 1
            seen = set()
        if kind == "customer":
            if sentiment is None:
                continue
            if prior is not None:
                obs.add(
                    sentiment=sentiment,
                    frustration=frustration,
                    prior=prior,
                    first=first,
                    age_hours=(at - created).total_seconds() / 3600.0,
                    channel=channel,
                    group=grp,
                    cluster=cluster,
                    seen=seen,
                )
            else:
                first = sentiment
            prior = sentiment
            seen = set()
        elif kind == "fired":
            name = interventions.get(actor or "")
            if name is not None:
                seen.add(name)
        else:
            seen.add(kind)
    return obs
