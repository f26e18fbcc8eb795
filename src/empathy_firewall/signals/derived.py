"""History derived from snapshots, for helpdesks with no history API.

When a connector does not deliver a ticket's history (``Capabilities.history`` is False),
the sync step compares the ticket it reads now with the snapshot it stored the last time
it read it (:mod:`empathy_firewall.state.snapshots`) and turns the differences into
:class:`~empathy_firewall.models.TicketEvent` values with the one rule set every
connector's history goes through (:func:`empathy_firewall.signals.transitions.transition`):
a handoff is a change away from an agent, a group hop a move between two groups, a reopen
is solved/closed -> anything else and also a ``status_changed``; a first take inside a
group is no reassignment. Derived events carry no actor (a snapshot does not say who).

Limits, by construction: history starts at the first sync (a ticket's first read has no
earlier snapshot to compare with); changes between two reads collapse into one (A -> B ->
C looks like A -> C); each event is dated at the ``updated_at`` of the read that saw it
(the change happened between the two reads, at the latest then). Pure.
"""

from __future__ import annotations

from datetime import datetime

from empathy_firewall.models import EventType, Ticket, TicketEvent
from empathy_firewall.signals.reply_handoffs import answered_before, reply_handoffs
from empathy_firewall.signals.transitions import TicketState, TrackedField, state_of, transition

__all__ = ["derive_events", "with_events"]


def derive_events(
    status: str,
    priority: str,
    assignee: str | None,
    group: str | None,
    ticket: Ticket,
) -> tuple[TicketEvent, ...]:
    """Events between a stored state (status, priority, assignee, group) and ``ticket``,
    dated at ``ticket.updated_at`` (a handoff the new owner has already answered: at the
    previous owner's last word before the answer,
    :func:`~empathy_firewall.signals.reply_handoffs.answered_before`) and with no actor (a
    snapshot does not say who)."""
    before = TicketState(assignee=assignee, group=group)
    before = before.set(TrackedField.STATUS, status).set(TrackedField.PRIORITY, priority)
    events = transition(before, state_of(ticket), ticket.updated_at)
    return tuple(
        e.model_copy(update={"at": answered_before(ticket, e)})
        if e.type is EventType.REASSIGNED
        else e
        for e in events
    )


def with_events(ticket: Ticket, events: tuple[TicketEvent, ...]) -> Ticket:
    """``ticket`` with derived ``events`` added (none already on it is repeated).

    The handoffs the conversation shows before that history's first reassignment are
    added too (:mod:`empathy_firewall.signals.reply_handoffs`): history that starts at
    the first sync would otherwise miss every handoff before it.
    """
    events = events + reply_handoffs(ticket, events)
    new = tuple(e for e in events if e not in ticket.events)
    if not new:
        return ticket
    return ticket.model_copy(update={"events": tuple(sorted(ticket.events + new, key=_at))})


def _at(event: TicketEvent) -> datetime:
    return event.at
