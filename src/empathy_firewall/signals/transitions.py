"""One rule set for history events, whatever the helpdesk's history looks like.

Every connector's history reaches the core as field changes: Zendesk audits, RT
transactions and (for helpdesks with no history API) the difference between two stored
snapshots all say "field F went from X to Y at time T, done by A". :func:`transition`
turns one step (the ticket's tracked fields before and after) into
:class:`~empathy_firewall.models.TicketEvent` values, and :func:`replay` walks a list of
field changes through it, so the same story gives the same events on every connector.

The rules (documented in ``docs/signals.md``, "History events"):

* **Handoff** (``reassigned``): the ticket had an agent and now has another one or none
  (agent -> agent, agent -> unassigned). A first take (unassigned -> agent) inside the
  same group is an assignment, not a handoff.
* **Group hop** (``reassigned`` whose ``from_group`` and ``to_group`` differ): the ticket
  moved from one group to another. Routing into a group from none, or leaving every group,
  is not a hop. A step that is both a hop and a handoff gives ONE ``reassigned`` event;
  its ``from_*``/``to_*`` hold the assignee and group before and after the step.
* **Status** (``status_changed``): any change between two known statuses.
* **Reopen** (``reopened``, in addition to ``status_changed``): solved or closed -> any
  status that is neither (new, open, pending, on hold). Both events carry from/to status.
* **Priority** (``priority_changed``): any change between two known priorities; ``detail``
  is ``"low -> high"``.
* Unknown values (``None`` status or priority: a ticket's first read, a history that
  starts mid-life) never give an event; nothing changed gives no event.

Events of one step come in that order (reassigned, status_changed, reopened,
priority_changed), all dated ``at`` with the step's actor when the helpdesk says who.
Pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from empathy_firewall.models import EventType, Priority, Ticket, TicketEvent, TicketStatus

__all__ = [
    "DONE",
    "FieldChange",
    "TicketState",
    "TrackedField",
    "replay",
    "state_of",
    "transition",
]

_E = TypeVar("_E", TicketStatus, Priority)

#: statuses a ticket is reopened from
DONE = frozenset({TicketStatus.SOLVED, TicketStatus.CLOSED})


class TrackedField(StrEnum):
    """The ticket fields whose changes make history events."""

    STATUS = "status"
    PRIORITY = "priority"
    ASSIGNEE = "assignee"
    GROUP = "group"


@dataclass(frozen=True, slots=True)
class TicketState:
    """What the history tracks of a ticket at one moment; ``None`` is unknown or unset.

    ``assignee`` is the agent's id as :attr:`Ticket.assignee` holds it and ``group`` the
    group as :attr:`Ticket.group` holds it (a name where the helpdesk has one).
    """

    status: TicketStatus | None = None
    priority: Priority | None = None
    assignee: str | None = None
    group: str | None = None

    def get(self, name: TrackedField) -> str | None:
        """The value of one field (an enum value for status and priority)."""
        value: str | None = getattr(self, name.value)
        return value

    def set(self, name: TrackedField, value: str | None) -> TicketState:
        """This state with one field set (status and priority read as their enums;
        a value that is no known status or priority is unknown)."""
        if name is TrackedField.STATUS:
            return replace(self, status=_enum(TicketStatus, value))
        if name is TrackedField.PRIORITY:
            return replace(self, priority=_enum(Priority, value))
        if name is TrackedField.ASSIGNEE:
            return replace(self, assignee=value or None)
        return replace(self, group=value or None)


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field change as a helpdesk's history reports it.

    Values are already in the core's terms: a :class:`TicketStatus` or :class:`Priority`
    value, an agent id, a group name; ``None`` for unset (no assignee, no group) or
    unknown (a status the history does not give).
    """

    field: TrackedField
    before: str | None
    after: str | None
    at: datetime
    actor: str | None = None


def _enum(kind: type[_E], value: str | None) -> _E | None:
    if value is None:
        return None
    try:
        return kind(value)
    except ValueError:
        return None


def state_of(ticket: Ticket) -> TicketState:
    """The tracked fields of ``ticket`` as read now."""
    return TicketState(
        status=ticket.status,
        priority=ticket.priority,
        assignee=ticket.assignee.id if ticket.assignee is not None else None,
        group=ticket.group,
    )


def transition(
    before: TicketState, after: TicketState, at: datetime, actor: str | None = None
) -> tuple[TicketEvent, ...]:
    """The history events of one step from ``before`` to ``after`` (see the module doc)."""
    out: list[TicketEvent] = []
    hop = before.group is not None and after.group is not None and before.group != after.group
    handoff = before.assignee is not None and after.assignee != before.assignee
    if hop or handoff:
        out.append(
            TicketEvent(
                type=EventType.REASSIGNED,
                at=at,
                actor_id=actor,
                from_assignee=before.assignee,
                to_assignee=after.assignee,
                from_group=before.group,
                to_group=after.group,
            )
        )
    old, new = before.status, after.status
    if old is not None and new is not None and old != new:
        kinds = [EventType.STATUS_CHANGED]
        if old in DONE and new not in DONE:
            kinds.append(EventType.REOPENED)
        out.extend(
            TicketEvent(type=kind, at=at, actor_id=actor, from_status=old, to_status=new)
            for kind in kinds
        )
    low, high = before.priority, after.priority
    if low is not None and high is not None and low != high:
        out.append(
            TicketEvent(
                type=EventType.PRIORITY_CHANGED,
                at=at,
                actor_id=actor,
                detail=f"{low.value} -> {high.value}",
            )
        )
    return tuple(out)


def replay(
    changes: Iterable[FieldChange], start: TicketState | None = None
) -> tuple[TicketEvent, ...]:
    """The events of a history given as field changes, oldest first.

    Changes are ordered by time (stably: same-time changes keep their given order), and
    consecutive changes with the same time and actor, each of another field, make one step
    (an audit, an update that set several fields at once): a step that moves assignee and
    group gives one ``reassigned`` event, whatever order its fields came in. A change of a
    field the step already changed starts the next step (RT dates transactions to the
    second: resolved and reopened in one second are two steps, and a reopen). A field the
    step does not change keeps the value tracked so far (from ``start``, then from earlier
    steps); a change's own ``before`` wins over the tracked value, as the helpdesk knows
    best.
    """
    state = start or TicketState()
    out: list[TicketEvent] = []
    for step in _steps(sorted(changes, key=lambda c: c.at)):
        before, after = state, state
        for change in step:
            before = before.set(change.field, change.before)
            after = after.set(change.field, change.after)
        out.extend(transition(before, after, step[0].at, step[0].actor))
        state = after
    return tuple(out)


def _steps(ordered: list[FieldChange]) -> list[list[FieldChange]]:
    """Consecutive changes with the same time and actor and no field twice, as steps."""
    steps: list[list[FieldChange]] = []
    for change in ordered:
        step = steps[-1] if steps else None
        if (
            step is None
            or (step[0].at, step[0].actor) != (change.at, change.actor)
            or any(c.field is change.field for c in step)
        ):
            steps.append([change])
        else:
            step.append(change)
    return steps
