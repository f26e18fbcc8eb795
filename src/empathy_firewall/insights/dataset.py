"""From the timeline to one observation per customer message, shaped in SQL.

An observation is a customer message that follows an earlier customer message of the same
ticket. Its outcome is the message's sentiment and whether it was frustrated; its
"treatments" are the disruptions and interventions that happened between the previous
customer message and this one; its covariates are the previous message's sentiment, the
customer's first message's sentiment (their mood when they wrote in), the ticket's age, its
channel and its group.

The database does the shaping with window functions (identical SQL on SQLite and
PostgreSQL): a running count of customer messages splits each ticket into segments (a
customer message and what followed it), a ``GROUP BY`` flags each segment's disruptions,
and ``LAG`` hands each message the previous segment's flags and sentiment. Python only
receives the observations, streamed in chunks into numpy arrays.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, Engine, Float, and_, case, cast, func, literal, select

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

_STREAM = 50_000
_Array = np.ndarray[Any, Any]


@dataclass
class Observations:
    """Column arrays, one entry per observation (see the module docstring)."""

    kinds: tuple[str, ...]
    sentiment: _Array = field(default_factory=lambda: np.zeros(0))
    frustrated: _Array = field(default_factory=lambda: np.zeros(0))
    prior: _Array = field(default_factory=lambda: np.zeros(0))
    first: _Array = field(default_factory=lambda: np.zeros(0))
    age: _Array = field(default_factory=lambda: np.zeros(0))
    channel: _Array = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    group: _Array = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    cluster: _Array = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    treated: dict[str, _Array] = field(default_factory=dict)
    channels: dict[str, int] = field(default_factory=dict)
    groups: dict[str, int] = field(default_factory=dict)
    tickets: int = 0

    def __post_init__(self) -> None:
        for kind in self.kinds:
            self.treated.setdefault(kind, np.zeros(0, dtype=np.int8))

    def __len__(self) -> int:
        return len(self.sentiment)


def ticket_filter(group: str | None) -> ColumnElement[bool] | None:
    """The WHERE clause keeping the tickets that were ever in ``group`` (None: all)."""
    if group is None:
        return None
    tl = tables.timeline
    return tl.c.ticket_key.in_(select(tl.c.ticket_key).where(tl.c.grp == group).distinct())


def _hours(engine: Engine, later: Any, earlier: Any) -> ColumnElement[Any]:
    if engine.dialect.name == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 24.0
    return func.extract("epoch", later - earlier) / 3600.0


def _query(
    engine: Engine,
    since: datetime | None,
    until: datetime | None,
    group: str | None,
    interventions: Mapping[str, str],
    names: tuple[str, ...],
) -> Any:
    tl = tables.timeline
    is_customer = and_(tl.c.kind == "customer", tl.c.sentiment.is_not(None))
    where: list[ColumnElement[bool]] = [tl.c.kind.in_(("customer", "fired", *DISRUPTIONS))]
    if since is not None:
        where.append(tl.c.at >= since)
    if until is not None:
        where.append(tl.c.at <= until)
    scoped = ticket_filter(group)
    if scoped is not None:
        where.append(scoped)
    segment = func.sum(case((is_customer, 1), else_=0)).over(
        partition_by=tl.c.ticket_key, order_by=(tl.c.at, tl.c.item), rows=(None, 0)
    )
    rows = select(
        tl.c.ticket_key,
        tl.c.kind,
        tl.c.actor,
        tl.c.sentiment,
        tl.c.frustration,
        tl.c.channel,
        tl.c.grp,
        _hours(engine, tl.c.at, tl.c.ticket_created).label("age"),
        is_customer.label("is_customer"),
        segment.label("seg"),
    ).where(*where)
    r = rows.subquery("r")
    customer = (
        r.c.is_customer == literal(True)
        if engine.dialect.name != "sqlite"
        else (r.c.is_customer == 1)
    )
    flags = [
        func.max(case((r.c.kind == kind, 1), else_=0)).label(f"d_{kind}") for kind in DISRUPTIONS
    ]
    for name in names:
        rules = [rule for rule, n in interventions.items() if n == name]
        flags.append(
            func.max(case((and_(r.c.kind == "fired", r.c.actor.in_(rules)), 1), else_=0)).label(
                f"i_{name}"
            )
        )
    segments = (
        select(
            r.c.ticket_key,
            r.c.seg,
            func.max(case((customer, r.c.sentiment))).label("sentiment"),
            func.max(case((customer, r.c.frustration))).label("frustration"),
            func.max(case((customer, r.c.channel))).label("channel"),
            func.max(case((customer, r.c.grp))).label("grp"),
            func.max(case((customer, r.c.age))).label("age"),
            *flags,
        )
        .where(r.c.seg >= 1)
        .group_by(r.c.ticket_key, r.c.seg)
        .subquery("s")
    )
    s = segments.c
    flag_names = [f"d_{k}" for k in DISRUPTIONS] + [f"i_{n}" for n in names]
    lagged = select(
        s.ticket_key,
        s.seg,
        cast(s.sentiment, Float).label("sentiment"),
        cast(s.frustration, Float).label("frustration"),
        s.channel,
        s.grp,
        cast(s.age, Float).label("age"),
        func.lag(s.sentiment).over(partition_by=s.ticket_key, order_by=s.seg).label("prior"),
        func.first_value(s.sentiment)
        .over(partition_by=s.ticket_key, order_by=s.seg)
        .label("first"),
        *[
            func.lag(s[c]).over(partition_by=s.ticket_key, order_by=s.seg).label(c)
            for c in flag_names
        ],
    ).subquery("l")
    out = lagged.c
    return (
        select(
            out.sentiment,
            out.frustration,
            out.prior,
            out.first,
            out.age,
            *[out[c] for c in flag_names],
            out.ticket_key,
            out.channel,
            out.grp,
        )
        .where(out.seg >= 2, out.sentiment.is_not(None), out.prior.is_not(None))
        .order_by(out.ticket_key, out.seg)
    )


def _code(table: dict[str, int], value: str | None) -> int:
    name = value or "(none)"
    found = table.get(name)
    if found is None:
        found = table[name] = len(table)
    return found


def collect(
    engine: Engine,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    group: str | None = None,
    interventions: Mapping[str, str] = INTERVENTIONS,
) -> Observations:
    """Stream the timeline's observations into arrays (see the module docstring)."""
    names = tuple(dict.fromkeys(interventions.values()))
    kinds = (*DISRUPTIONS, *names)
    obs = Observations(kinds=kinds)
    numeric = 5 + len(kinds)
    blocks: list[_Array] = []
    channel: list[int] = []
    grp: list[int] = []
    cluster: list[int] = []
    tickets: dict[str, int] = {}
    query = _query(engine, since, until, group, interventions, names)
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=_STREAM).execute(query)
        for part in result.partitions():
            block = np.array([row[:numeric] for row in part], dtype=np.float64)
            blocks.append(block)
            for row in part:
                channel.append(_code(obs.channels, row[numeric + 1]))
                grp.append(_code(obs.groups, row[numeric + 2]))
                key = row[numeric]
                number = tickets.get(key)
                if number is None:
                    number = tickets[key] = len(tickets)
                cluster.append(number)
    if not blocks:
        return obs
    data = np.concatenate(blocks)
    del blocks
    obs.sentiment = data[:, 0].copy()
    obs.frustrated = (np.nan_to_num(data[:, 1]) >= FRUSTRATED_AT).astype(np.float64)
    obs.prior = data[:, 2].copy()
    obs.first = np.nan_to_num(data[:, 3])
    obs.age = np.log1p(np.clip(np.nan_to_num(data[:, 4]), 0.0, None))
    for index, kind in enumerate(kinds, start=5):
        obs.treated[kind] = (np.nan_to_num(data[:, index]) > 0).astype(np.int8)
    obs.channel = np.asarray(channel, dtype=np.int32)
    obs.group = np.asarray(grp, dtype=np.int32)
    obs.cluster = np.asarray(cluster, dtype=np.int32)
    obs.tickets = len(tickets)
    return obs
