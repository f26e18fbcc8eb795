"""The manager report, computed from the state store.

Everything over time is aggregated in SQL (one ``GROUP BY`` per chart, by day); only the
disruption x sentiment analysis reads rows, streamed (:mod:`.dataset`). Strain is shown per
group and only for groups with at least ``min_group_agents`` agents: never one agent's
figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, Engine, case, cast, func, select
from sqlalchemy.sql.elements import ColumnElement

from empathy_firewall.insights import tables
from empathy_firewall.insights.dataset import (
    FRUSTRATED_AT,
    INTERVENTIONS,
    collect,
    in_window,
    ticket_filter,
)
from empathy_firewall.insights.tables import DISRUPTIONS

__all__ = ["MIN_GROUP_AGENTS", "Report", "ReportOptions", "build_report", "window"]

#: groups with fewer agents than this are left out of the strain view
MIN_GROUP_AGENTS = 5
_TOP_SERIES = 8
_MOMENTS = 12


@dataclass(frozen=True)
class ReportOptions:
    """What to report on: the window, one group or all, and the privacy floor."""

    since: datetime
    until: datetime
    group: str | None = None
    min_group_agents: int = MIN_GROUP_AGENTS
    min_n: int = 30
    interventions: Mapping[str, str] = field(default_factory=lambda: dict(INTERVENTIONS))


@dataclass
class Report:
    """The report's figures (see :meth:`as_dict` for the JSON shape)."""

    options: ReportOptions
    disruptions: list[dict[str, Any]]
    interventions: list[dict[str, Any]]
    observations: int
    friction: dict[str, list[list[Any]]]
    sentiment_by_group: dict[str, list[list[Any]]]
    sentiment_by_channel: dict[str, list[list[Any]]]
    frustration_by_group: dict[str, list[list[Any]]]
    strain: list[dict[str, Any]]
    strain_hidden_groups: int
    moments: list[dict[str, Any]]
    rule_health: list[dict[str, Any]]
    totals: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        """Everything, JSON-ready."""
        o = self.options
        return {
            "insights": {
                "disruptions": self.disruptions,
                "interventions": self.interventions,
                "observations": self.observations,
            },
            "period": {
                "since": o.since.isoformat(),
                "until": o.until.isoformat(),
                "group": o.group,
            },
            "totals": self.totals,
            "friction": self.friction,
            "sentiment": {
                "by_group": self.sentiment_by_group,
                "by_channel": self.sentiment_by_channel,
                "frustration_rate_by_group": self.frustration_by_group,
            },
            "strain": {
                "groups": self.strain,
                "hidden_groups": self.strain_hidden_groups,
                "min_group_agents": o.min_group_agents,
            },
            "moments": self.moments,
            "rule_health": self.rule_health,
        }


def _day(engine: Engine, column: Any) -> ColumnElement[Any]:
    if engine.dialect.name == "sqlite":
        return func.date(column)
    return cast(column, Date)


def _day_text(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def _window(engine: Engine, options: ReportOptions) -> list[ColumnElement[bool]]:
    where = in_window(engine, options.since, options.until)
    scoped = ticket_filter(options.group)
    if scoped is not None:
        where.append(scoped)
    return where


@dataclass
class _Daily:
    """The one aggregate every chart over time is cut from."""

    friction: dict[str, list[list[Any]]]
    by_group: dict[str, list[list[Any]]]
    by_channel: dict[str, list[list[Any]]]
    frustration_by_group: dict[str, list[list[Any]]]
    frustrated_by_group: dict[str | None, int]
    messages: dict[str, int]


def _series(
    cells: dict[tuple[str, str], list[float]], top: list[str], index: int
) -> dict[str, list[list[Any]]]:
    out: dict[str, list[list[Any]]] = {}
    for (day, name), (_count, sent, frus, scored) in sorted(cells.items()):
        if name not in top or not scored:
            continue
        value = (sent if index == 1 else frus) / scored
        out.setdefault(name, []).append([day, round(value, 4)])
    return out


def _daily(engine: Engine, options: ReportOptions) -> _Daily:
    """One ``GROUP BY day, kind, group, channel`` scan; everything over time comes from it."""
    tl = tables.timeline
    day = _day(engine, tl.c.at)
    frustrated = func.sum(case((tl.c.frustration >= FRUSTRATED_AT, 1), else_=0))
    query = (
        select(
            day,
            tl.c.kind,
            tl.c.grp,
            tl.c.channel,
            func.count(),
            func.sum(tl.c.sentiment),
            frustrated,
            func.count(tl.c.sentiment),
        )
        .where(*_window(engine, options), tl.c.kind.in_((*DISRUPTIONS, "customer", "agent")))
        .group_by(day, tl.c.kind, tl.c.grp, tl.c.channel)
    )
    friction: dict[str, dict[str, int]] = {k: {} for k in (*DISRUPTIONS, "customer_messages")}
    groups: dict[tuple[str, str], list[float]] = {}
    channels: dict[tuple[str, str], list[float]] = {}
    group_sizes: dict[str, int] = {}
    channel_sizes: dict[str, int] = {}
    hard: dict[str | None, int] = {}
    messages = {"customer": 0, "agent": 0}
    with engine.connect() as conn:
        for when, kind, grp, channel, count, sent, frus, scored in conn.execute(query):
            text = _day_text(when)
            count = int(count)
            if kind in messages:
                messages[kind] += count
            if kind != "customer":
                if kind in friction:
                    friction[kind][text] = friction[kind].get(text, 0) + count
                continue
            friction["customer_messages"][text] = friction["customer_messages"].get(text, 0) + count
            hard[grp] = hard.get(grp, 0) + int(frus or 0)
            cell = [count, float(sent or 0.0), float(frus or 0), int(scored or 0)]
            for table, sizes, name in (
                (groups, group_sizes, str(grp or "(no group)")),
                (channels, channel_sizes, str(channel)),
            ):
                sizes[name] = sizes.get(name, 0) + count
                found = table.setdefault((text, name), [0, 0.0, 0.0, 0])
                for i in range(4):
                    found[i] += cell[i]
    top_groups = sorted(group_sizes, key=lambda g: -group_sizes[g])[:_TOP_SERIES]
    top_channels = sorted(channel_sizes, key=lambda c: -channel_sizes[c])[:_TOP_SERIES]
    return _Daily(
        friction={k: [[d, n] for d, n in sorted(v.items())] for k, v in friction.items()},
        by_group=_series(groups, top_groups, 1),
        by_channel=_series(channels, top_channels, 1),
        frustration_by_group=_series(groups, top_groups, 2),
        frustrated_by_group=hard,
        messages=messages,
    )


def _strain(
    engine: Engine, options: ReportOptions, hard: dict[str | None, int]
) -> tuple[list[dict[str, Any]], int]:
    """Per group: agents, replies per agent, frustrated customer messages per agent."""
    tl = tables.timeline
    with engine.connect() as conn:
        agents = {
            grp: (int(n), int(replies))
            for grp, n, replies in conn.execute(
                select(tl.c.grp, func.count(func.distinct(tl.c.actor)), func.count())
                .where(*_window(engine, options), tl.c.kind == "agent", tl.c.actor.is_not(None))
                .group_by(tl.c.grp)
            )
        }
    shown: list[dict[str, Any]] = []
    hidden = 0
    for grp in sorted(agents, key=lambda g: str(g)):
        count, replies = agents[grp]
        if count < options.min_group_agents:
            hidden += 1
            continue
        shown.append(
            {
                "group": grp or "(no group)",
                "agents": count,
                "replies_per_agent": round(replies / count, 1),
                "frustrated_messages_per_agent": round(hard.get(grp, 0) / count, 1),
            }
        )
    return shown, hidden


def _moments(engine: Engine, options: ReportOptions) -> list[dict[str, Any]]:
    m = tables.moments
    query = select(m.c.ticket_key, m.c.at, m.c.grp, m.c.channel, m.c.quote, m.c.url).where(
        m.c.at >= options.since, m.c.at <= options.until
    )
    if options.group is not None:
        query = query.where(m.c.grp == options.group)
    query = query.order_by(m.c.sentiment.desc(), m.c.at.desc()).limit(_MOMENTS)
    with engine.connect() as conn:
        return [
            {
                "ticket": key,
                "at": at.isoformat(),
                "group": grp,
                "channel": channel,
                "quote": quote,
                "url": url,
            }
            for key, at, grp, channel, quote, url in conn.execute(query)
        ]


def _rule_health(engine: Engine, options: ReportOptions) -> list[dict[str, Any]]:
    tl = tables.timeline
    undone = func.sum(case((tl.c.kind == "undo", 1), else_=0))
    fired = func.sum(case((tl.c.kind == "fired", 1), else_=0))
    query = (
        select(tl.c.actor, fired, undone)
        .where(*_window(engine, options), tl.c.kind.in_(("fired", "undo")))
        .group_by(tl.c.actor)
        .order_by(fired.desc())
    )
    out = []
    with engine.connect() as conn:
        for rule, firings, undos in conn.execute(query):
            firings, undos = int(firings or 0), int(undos or 0)
            out.append(
                {
                    "rule": rule,
                    "firings": firings,
                    "undone": undos,
                    "precision": round(1.0 - undos / firings, 3) if firings else None,
                }
            )
    return out


def _ranked(effects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Most harmful first; too-thin kinds last."""
    return sorted(
        effects,
        key=lambda e: (e["effect"] is None, e["effect"] if e["effect"] is not None else 0.0),
    )


def build_report(engine: Engine, options: ReportOptions) -> Report:
    """Compute every figure of the report (see the module docstring)."""
    from empathy_firewall.insights.estimate import estimate  # numpy/statsmodels on demand

    obs = collect(
        engine,
        since=options.since,
        until=options.until,
        group=options.group,
        interventions=options.interventions,
    )
    names = tuple(dict.fromkeys(options.interventions.values()))
    effects = {e.kind: e.as_dict() for e in estimate(obs, obs.kinds, min_n=options.min_n)}
    observations, tickets = len(obs), obs.tickets
    del obs
    daily = _daily(engine, options)
    strain, hidden = _strain(engine, options, daily.frustrated_by_group)
    return Report(
        options=options,
        disruptions=_ranked([effects[k] for k in DISRUPTIONS]),
        interventions=sorted(
            (effects[k] for k in names),
            key=lambda e: (e["effect"] is None, -(e["effect"] or 0.0)),
        ),
        observations=observations,
        friction=daily.friction,
        sentiment_by_group=daily.by_group,
        sentiment_by_channel=daily.by_channel,
        frustration_by_group=daily.frustration_by_group,
        strain=strain,
        strain_hidden_groups=hidden,
        moments=_moments(engine, options),
        rule_health=_rule_health(engine, options),
        totals={
            "customer_messages": daily.messages["customer"],
            "agent_messages": daily.messages["agent"],
            "tickets_analysed": tickets,
        },
    )


def window(since: timedelta, now: datetime | None = None) -> tuple[datetime, datetime]:
    """``(now - since, now)`` in UTC."""
    until = now or datetime.now(UTC)
    return until - since, until
