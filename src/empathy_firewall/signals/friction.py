"""Internal friction: waits against the SLA, reassignments, group hops, reopens, backlog.

Definitions (all durations in minutes, measured at the evaluation time ``now``):

- *waiting*: the customer wrote and no agent has publicly replied since. ``waiting_minutes``
  counts from the first customer message of that unanswered run. Solved and closed
  tickets are never waiting. A *holding reply* does not end the wait (the customer is
  still waiting for an answer): a public agent reply that contains one of
  ``holding_phrases`` ("I'm looking into it", "I've moved your ticket to billing") or that
  came at most ``handoff_reply_minutes`` before a reassignment, and that asks the customer
  nothing (no "?"). ``holding_replies_end_wait = true`` restores "any public reply".
- *SLA target*: the ticket's own reply target when the helpdesk gives one, else the
  configured target for its priority. ``sla_used_ratio`` = waiting / target.
- *breach*: the helpdesk's breach time when known, else waiting start + target.
  ``minutes_to_breach`` is negative once breached.
- *reassignments*, *group hops*, *reopens*: the larger of the helpdesk's own counters and
  what the ticket's events show.
- *backlog*: open tickets of the assignee: the agent record's ``open_tickets``, else the
  store's count (``backlog``); *capacity*: the agent record's, else ``capacity_per_agent``,
  else ``capacity_per_group`` for the ticket's group, else ``default_capacity``.
- *handoff*: the latest reassignment; ``pending`` while the new assignee has not yet
  replied publicly since.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from empathy_firewall.models import Comment, EventType, Role, Ticket, TicketEvent, TicketStatus
from empathy_firewall.settings import FrictionSettings
from empathy_firewall.signals.backlog import Backlog

__all__ = ["Friction", "Handoff", "capacity_of", "friction_of", "handoff_of", "is_holding_reply"]

_CLOSED = frozenset({TicketStatus.SOLVED, TicketStatus.CLOSED})


@dataclass(frozen=True, slots=True)
class Friction:
    """What inside the company is making the customer wait."""

    waiting: bool
    waiting_since: datetime | None
    waiting_minutes: float | None
    sla_target_minutes: float | None
    sla_used_ratio: float | None
    minutes_to_breach: float | None
    breached: bool
    reassignments: int
    group_hops: int
    reopens: int
    assignee_backlog: int | None
    assignee_capacity: int | None
    assignee_load_ratio: float | None
    assignee_overloaded: bool
    group_backlog: int | None = None


@dataclass(frozen=True, slots=True)
class Handoff:
    """The latest reassignment, if any."""

    event: TicketEvent | None
    pending: bool
    minutes_since: float | None


def _minutes(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 60.0


def is_holding_reply(ticket: Ticket, comment: Comment, settings: FrictionSettings) -> bool:
    """True when a public agent reply only holds or moves the ticket (see the module doc)."""
    if comment.author_role is not Role.AGENT or not comment.public or "?" in comment.text:
        return False
    text = comment.text.casefold()
    if any(phrase.casefold() in text for phrase in settings.holding_phrases):
        return True
    window = timedelta(minutes=settings.handoff_reply_minutes)
    return any(
        e.type is EventType.REASSIGNED and comment.created_at <= e.at <= comment.created_at + window
        for e in ticket.events
    )


def _waiting_since(ticket: Ticket, settings: FrictionSettings) -> datetime | None:
    if ticket.status in _CLOSED:
        return None
    since: datetime | None = None
    for comment in ticket.comments:
        if not comment.public:
            continue
        if comment.author_role is Role.CUSTOMER:
            if since is None:
                since = comment.created_at
        elif comment.author_role is Role.AGENT and (
            settings.holding_replies_end_wait or not is_holding_reply(ticket, comment, settings)
        ):
            since = None
    return since


def capacity_of(ticket: Ticket, settings: FrictionSettings) -> int:
    """The assignee's capacity: agent record, per agent, per group, else the default."""
    agent = ticket.assignee
    if agent is not None and agent.capacity is not None:
        return agent.capacity
    if agent is not None and agent.id in settings.capacity_per_agent:
        return settings.capacity_per_agent[agent.id]
    if ticket.group is not None and ticket.group in settings.capacity_per_group:
        return settings.capacity_per_group[ticket.group]
    return settings.default_capacity


def friction_of(
    ticket: Ticket, now: datetime, settings: FrictionSettings, backlog: Backlog | None = None
) -> Friction:
    """Compute the friction signals of one ticket at ``now`` (``backlog``: open tickets per
    agent and group known to the store; the agent record's ``open_tickets`` wins)."""
    since = _waiting_since(ticket, settings)
    waiting_minutes = max(0.0, _minutes(now, since)) if since is not None else None
    target = None
    if ticket.sla is not None and ticket.sla.reply_target_minutes is not None:
        target = ticket.sla.reply_target_minutes
    else:
        target = settings.reply_target_minutes.get(ticket.priority)
    breach_at = ticket.sla.breach_at if ticket.sla is not None else None
    if breach_at is None and since is not None and target is not None:
        breach_at = since + timedelta(minutes=target)
    to_breach = _minutes(breach_at, now) if breach_at is not None and since is not None else None
    ratio = waiting_minutes / target if waiting_minutes is not None and target else None

    reassigned = [e for e in ticket.events if e.type is EventType.REASSIGNED]
    hops = sum(1 for e in reassigned if e.from_group and e.to_group and e.from_group != e.to_group)
    reopens = sum(1 for e in ticket.events if e.type is EventType.REOPENED)
    metrics = ticket.metrics
    if metrics is not None:
        reassignments = max(len(reassigned), metrics.reassignments or 0)
        hops = max(hops, metrics.group_hops or 0)
        reopens = max(reopens, metrics.reopens or 0)
    else:
        reassignments = len(reassigned)

    open_count = capacity = None
    load_ratio = None
    if ticket.assignee is not None:
        open_count = ticket.assignee.open_tickets
        if open_count is None and backlog is not None:
            open_count = backlog.for_agent(ticket.assignee.id)
    if open_count is not None:
        capacity = capacity_of(ticket, settings)
        load_ratio = open_count / capacity
    group_backlog = None
    if backlog is not None and ticket.group is not None:
        group_backlog = backlog.for_group(ticket.group)
    return Friction(
        waiting=since is not None,
        waiting_since=since,
        waiting_minutes=waiting_minutes,
        sla_target_minutes=target,
        sla_used_ratio=ratio,
        minutes_to_breach=to_breach,
        breached=to_breach is not None and to_breach <= 0,
        reassignments=reassignments,
        group_hops=hops,
        reopens=reopens,
        assignee_backlog=open_count,
        assignee_capacity=capacity,
        assignee_load_ratio=load_ratio,
        assignee_overloaded=load_ratio is not None and load_ratio >= settings.overloaded_at,
        group_backlog=group_backlog,
    )


def handoff_of(ticket: Ticket, now: datetime) -> Handoff:
    """Find the latest reassignment and whether the new owner has picked it up yet."""
    latest = None
    for event in ticket.events:
        if event.type is EventType.REASSIGNED:
            latest = event
    if latest is None:
        return Handoff(None, False, None)
    replied_since = any(
        c.author_role is Role.AGENT and c.public and c.created_at > latest.at
        for c in ticket.comments
    )
    return Handoff(latest, not replied_since, max(0.0, _minutes(now, latest.at)))
