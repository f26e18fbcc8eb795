"""A ticket's whole timeline, derived from its comments and events. Pure.

Every public customer or agent message becomes a row with its time, author role, sentiment
and frustration (never its text). Every disruption becomes a row at the moment it happened:

- ``sla_breach``: a customer's unanswered wait crossed the reply target (the ticket's own
  target, else the configured one for its priority; the helpdesk's breach time for the
  current wait when it gives one);
- ``long_wait``: an unanswered wait crossed :data:`LONG_WAIT_MINUTES` (a day), whatever the SLA;
- ``group_hop``: a reassignment that moved the ticket to another group;
- ``reassignment``: a reassignment to another agent;
- ``reopen``: the ticket was reopened;
- ``assignee_overloaded``: the assignee's backlog was at or over capacity when the ticket
  was read (the first time it was seen so).

Because everything comes from the ticket as the helpdesk shows it, a ticket evaluated once
yields its whole past timeline (the backfill), and reading it again yields the same rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from empathy_firewall.models import Channel, EventType, Role, Ticket, TicketStatus
from empathy_firewall.settings import FrictionSettings
from empathy_firewall.signals.friction import Friction

__all__ = ["LONG_WAIT_MINUTES", "TimelineRow", "disruptions_of", "group_at", "messages_of"]

#: an unanswered wait longer than this is a ``long_wait`` disruption
LONG_WAIT_MINUTES = 24 * 60.0

_CLOSED = frozenset({TicketStatus.SOLVED, TicketStatus.CLOSED})


@dataclass(frozen=True, slots=True)
class TimelineRow:
    """One moment of a ticket's life, as stored in ``ef_timeline``."""

    ticket_key: str
    item: str
    at: datetime
    kind: str
    channel: str
    group: str | None
    ticket_created: datetime
    sentiment: float | None = None
    frustration: float | None = None
    actor: str | None = None
    detail: str | None = None

    def as_row(self) -> dict[str, object]:
        """The row for the table (``group`` is stored as ``grp``)."""
        return {
            "ticket_key": self.ticket_key,
            "item": self.item[:300],
            "at": self.at,
            "kind": self.kind,
            "channel": self.channel,
            "grp": self.group,
            "ticket_created": self.ticket_created,
            "sentiment": self.sentiment,
            "frustration": self.frustration,
            "actor": self.actor,
            "detail": self.detail[:300] if self.detail else self.detail,
        }


def group_at(ticket: Ticket, at: datetime) -> str | None:
    """The group the ticket was in at ``at``, replaying its group changes."""
    changes = [
        e for e in ticket.events if e.type is EventType.REASSIGNED and (e.from_group or e.to_group)
    ]
    group = changes[0].from_group if changes else ticket.group
    for event in changes:
        if event.at > at:
            break
        group = event.to_group or group
    return group


def _channel(ticket: Ticket, channel: Channel) -> str:
    return (channel if channel is not Channel.OTHER else ticket.channel).value


def messages_of(
    ticket: Ticket, scores: Mapping[str, tuple[float, float]], agent_key_prefix: str
) -> Iterator[TimelineRow]:
    """One row per public customer or agent message; ``scores`` maps comment id to
    ``(sentiment, frustration)`` (messages without a score get none)."""
    for comment in ticket.comments:
        if not comment.public or comment.author_role is Role.SYSTEM:
            continue
        score = scores.get(comment.id)
        agent = comment.author_role is Role.AGENT
        yield TimelineRow(
            ticket_key=ticket.key,
            item="m:" + comment.id,
            at=comment.created_at,
            kind="agent" if agent else "customer",
            channel=_channel(ticket, comment.channel),
            group=group_at(ticket, comment.created_at),
            ticket_created=ticket.created_at,
            sentiment=score[0] if score else None,
            frustration=score[1] if score else None,
            actor=agent_key_prefix + comment.author_id if agent and comment.author_id else None,
        )


def _waits(ticket: Ticket, now: datetime) -> Iterator[tuple[datetime, datetime, bool]]:
    """Unanswered customer waits as ``(start, end, current)``."""
    start: datetime | None = None
    for comment in ticket.comments:
        if not comment.public:
            continue
        if comment.author_role is Role.CUSTOMER and start is None:
            start = comment.created_at
        elif comment.author_role is Role.AGENT and start is not None:
            yield start, comment.created_at, False
            start = None
    if start is not None:
        end = min(now, ticket.updated_at) if ticket.status in _CLOSED else now
        yield start, end, True


def disruptions_of(
    ticket: Ticket, friction: Friction, now: datetime, settings: FrictionSettings
) -> Iterator[TimelineRow]:
    """Every disruption moment of the ticket up to ``now`` (see the module docstring)."""

    def row(kind: str, at: datetime, item: str, detail: str | None = None) -> TimelineRow:
        return TimelineRow(
            ticket_key=ticket.key,
            item=item,
            at=at,
            kind=kind,
            channel=ticket.channel.value,
            group=group_at(ticket, at),
            ticket_created=ticket.created_at,
            detail=detail,
        )

    target = None
    if ticket.sla is not None and ticket.sla.reply_target_minutes is not None:
        target = ticket.sla.reply_target_minutes
    else:
        target = settings.reply_target_minutes.get(ticket.priority)
    for start, end, current in _waits(ticket, now):
        breach = start + timedelta(minutes=target) if target is not None else None
        if current and ticket.sla is not None and ticket.sla.breach_at is not None:
            breach = max(ticket.sla.breach_at, start)
        if breach is not None and breach < end:
            yield row("sla_breach", breach, f"sla_breach:{start.isoformat()}")
        long_at = start + timedelta(minutes=LONG_WAIT_MINUTES)
        if long_at < end:
            yield row("long_wait", long_at, f"long_wait:{start.isoformat()}")
    for event in ticket.events:
        if event.at > now:
            continue
        stamp = event.at.isoformat()
        if event.type is EventType.REOPENED:
            yield row("reopen", event.at, f"reopen:{stamp}")
        elif event.type is EventType.REASSIGNED:
            hop = bool(event.from_group and event.to_group and event.from_group != event.to_group)
            if hop:
                yield row("group_hop", event.at, f"group_hop:{stamp}", event.to_group)
            moved = event.from_assignee != event.to_assignee and event.to_assignee is not None
            if moved or not hop:
                yield row("reassignment", event.at, f"reassignment:{stamp}")
    if friction.assignee_overloaded and ticket.assignee is not None:
        yield row("assignee_overloaded", now, f"assignee_overloaded:{ticket.assignee.id}")
