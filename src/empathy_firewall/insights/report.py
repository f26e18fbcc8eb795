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
from empathy_firewall.insights.dataset import FRUSTRATED_AT, INTERVENTIONS, collect, ticket_filter
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


def _window(options: ReportOptions) -> list[ColumnElement[bool]]:
    tl = tables.timeline
    where: list[ColumnElement[bool]] = [tl.c.at >= options.since, tl.c.at <= options.until]
    scoped = ticket_filter(options.group)
    if scoped is not None:
        where.append(scoped)  # type: ignore[arg-type]
    return where


def _friction(engine: Engine, options: ReportOptions) -> dict[str, list[list[Any]]]:
    tl = tables.timeline
    day = _day(engine, tl.c.at)
    query = (
        select(day, tl.c.kind, func.count(), func.count(func.distinct(tl.c.ticket_key)))
        .where(*_window(options), tl.c.kind.in_((*DISRUPTIONS, "customer")))
        .group_by(day, tl.c.kind)
        .order_by(day)
    )
    out: dict[str, list[list[Any]]] = {k: [] for k in (*DISRUPTIONS, "active_tickets")}
    with engine.connect() as conn:
        for when, kind, count, tickets in conn.execute(query):
            if kind == "customer":
                out["active_tickets"].append([_day_text(when), int(tickets)])
            else:
                out[kind].append([_day_text(when), int(count)])
    return out


def _over_time(
    engine: Engine, options: ReportOptions, by: Any
) -> tuple[dict[str, list[list[Any]]], dict[str, list[list[Any]]]]:
    """Mean sentiment and frustration rate of customer messages per day, by ``by``."""
    tl = tables.timeline
    day = _day(engine, tl.c.at)
    frustrated = func.avg(case((tl.c.frustration >= FRUSTRATED_AT, 1.0), else_=0.0))
    where = [*_window(options), tl.c.kind == "customer", tl.c.sentiment.is_not(None)]
    with engine.connect() as conn:
        top = [
            r[0]
            for r in conn.execute(
                select(by, func.count())
                .where(*where)
                .group_by(by)
                .order_by(func.count().desc())
                .limit(_TOP_SERIES)
            )
        ]
        sentiment: dict[str, list[list[Any]]] = {}
        rate: dict[str, list[list[Any]]] = {}
        rows = conn.execute(
            select(day, by, func.avg(tl.c.sentiment), frustrated, func.count())
            .where(*where, by.in_([t for t in top if t is not None]))
            .group_by(day, by)
            .order_by(day)
        )
        for when, name, mean, share, _ in rows:
            label = str(name)
            sentiment.setdefault(label, []).append([_day_text(when), round(float(mean), 4)])
            rate.setdefault(label, []).append([_day_text(when), round(float(share), 4)])
    return sentiment, rate


def _strain(engine: Engine, options: ReportOptions) -> tuple[list[dict[str, Any]], int]:
    """Per group: agents, replies per agent, frustrated customer messages per agent."""
    tl = tables.timeline
    where = _window(options)
    with engine.connect() as conn:
        agents = {
            grp: (int(n), int(replies))
            for grp, n, replies in conn.execute(
                select(tl.c.grp, func.count(func.distinct(tl.c.actor)), func.count())
                .where(*where, tl.c.kind == "agent", tl.c.actor.is_not(None))
                .group_by(tl.c.grp)
            )
        }
        hard = {
            grp: int(n)
            for grp, n in conn.execute(
                select(tl.c.grp, func.count())
                .where(*where, tl.c.kind == "customer", tl.c.frustration >= FRUSTRATED_AT)
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
        frustrated = hard.get(grp, 0)
        shown.append(
            {
                "group": grp or "(no group)",
                "agents": count,
                "replies_per_agent": round(replies / count, 1),
                "frustrated_messages_per_agent": round(frustrated / count, 1),
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
        .where(*_window(options), tl.c.kind.in_(("fired", "undo")))
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


def _totals(engine: Engine, options: ReportOptions) -> dict[str, int]:
    tl = tables.timeline
    query = (
        select(tl.c.kind, func.count())
        .where(*_window(options), tl.c.kind.in_(("customer", "agent")))
        .group_by(tl.c.kind)
    )
    tickets = select(func.count(func.distinct(tl.c.ticket_key))).where(*_window(options))
    with engine.connect() as conn:
        counts = {kind: int(n) for kind, n in conn.execute(query)}
        count = int(conn.execute(tickets).scalar_one())
    return {
        "tickets": count,
        "customer_messages": counts.get("customer", 0),
        "agent_messages": counts.get("agent", 0),
    }


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
    observations = len(obs)
    del obs
    by_group, frustration = _over_time(engine, options, tables.timeline.c.grp)
    by_channel, _ = _over_time(engine, options, tables.timeline.c.channel)
    strain, hidden = _strain(engine, options)
    return Report(
        options=options,
        disruptions=_ranked([effects[k] for k in DISRUPTIONS]),
        interventions=sorted(
            (effects[k] for k in names),
            key=lambda e: (e["effect"] is None, -(e["effect"] or 0.0)),
        ),
        observations=observations,
        friction=_friction(engine, options),
        sentiment_by_group=by_group,
        sentiment_by_channel=by_channel,
        frustration_by_group=frustration,
        strain=strain,
        strain_hidden_groups=hidden,
        moments=_moments(engine, options),
        rule_health=_rule_health(engine, options),
        totals=_totals(engine, options),
    )


def window(since: timedelta, now: datetime | None = None) -> tuple[datetime, datetime]:
    """``(now - since, now)`` in UTC."""
    until = now or datetime.now(UTC)
    return until - since, until
