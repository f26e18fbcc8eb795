"""History derived from snapshots, for helpdesks with no history API.

When a connector does not deliver a ticket's history (``Capabilities.history`` is False),
the sync step compares the ticket it reads now with the snapshot it stored the last time
it read it (:mod:`empathy_firewall.state.snapshots`) and turns the differences into
:class:`~empathy_firewall.models.TicketEvent` values:

* assignee or group changed (from a ticket that had an owner): ``reassigned`` with
  ``from_*``/``to_*`` (a group change is a group hop);
* solved or closed -> new, open, pending or on hold: ``reopened``;
* any other status change: ``status_changed``;
* priority changed: ``priority_changed`` (``detail`` is ``"low->high"``).

Limits, by construction: history starts at the first sync (a ticket's first read has no
earlier snapshot to compare with); changes between two reads collapse into one (A -> B ->
C looks like A -> C); each event is dated at the ``updated_at`` of the read that saw it
(the change happened between the two reads, at the latest then). Pure.
"""

from __future__ import annotations

from datetime import datetime

from empathy_firewall.models import EventType, Ticket, TicketEvent, TicketStatus

__all__ = ["derive_events", "with_events"]

_DONE = frozenset({TicketStatus.SOLVED.value, TicketStatus.CLOSED.value})


def derive_events(
    status: str,
    priority: str,
    assignee: str | None,
    group: str | None,
    ticket: Ticket,
) -> tuple[TicketEvent, ...]:
    """Events between a stored state (status, priority, assignee, group) and ``ticket``."""
    at = ticket.updated_at
    out: list[TicketEvent] = []
    to_assignee = ticket.assignee.id if ticket.assignee is not None else None
    moved = (assignee, group) != (to_assignee, ticket.group)
    if moved and (assignee is not None or group is not None):
        out.append(
            TicketEvent(
                type=EventType.REASSIGNED,
                at=at,
                from_assignee=assignee,
                to_assignee=to_assignee,
                from_group=group,
                to_group=ticket.group,
                detail="derived",
            )
        )
    if status != ticket.status.value:
        reopened = status in _DONE and ticket.status.value not in _DONE
        out.append(
            TicketEvent(
                type=EventType.REOPENED if reopened else EventType.STATUS_CHANGED,
                at=at,
                from_status=TicketStatus(status),
                to_status=ticket.status,
                detail="derived",
            )
        )
    if priority != ticket.priority.value:
        out.append(
            TicketEvent(
                type=EventType.PRIORITY_CHANGED,
                at=at,
                detail=f"derived: {priority}->{ticket.priority.value}",
            )
        )
    return tuple(out)


def with_events(ticket: Ticket, events: tuple[TicketEvent, ...]) -> Ticket:
    """``ticket`` with derived ``events`` added (none already on it is repeated)."""
    new = tuple(e for e in events if e not in ticket.events)
    if not new:
        return ticket
    return ticket.model_copy(update={"events": tuple(sorted(ticket.events + new, key=_at))})


def _at(event: TicketEvent) -> datetime:
    return event.at
