"""Replaying a ticket file into a fake helpdesk in time order (shared by the vendor seeders).

Each seeder supplies a :class:`Replayer` that knows its fake (create a ticket, add one
comment, apply one status change or reassignment); :func:`play` walks every ticket's
moments in time order, moves the fake's clock to each, and calls ``on_tick`` at every
multiple of ``tick`` it passes, as a cron job would run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Protocol

from empathy_firewall.models import EventType, Role, Ticket
from empathy_firewall.testing.clock import FakeClock

__all__ = ["Replayer", "play", "ticks"]

_CREATE, _COMMENT, _CHANGE = 0, 1, 2


class Replayer(Protocol):
    """What a seeder does at each moment of a ticket's life in its fake."""

    def create(self, ticket: Ticket) -> None:
        """Open the ticket (with its opening customer message, if any)."""
        ...

    def comment(self, ticket: Ticket, number: int) -> None:
        """Add the ticket's comment ``number``."""
        ...

    def change(self, ticket: Ticket, number: int) -> None:
        """Apply the ticket's event ``number`` (a status change or reassignment)."""
        ...


def ticks(tick: timedelta) -> Callable[[datetime], list[datetime]]:
    """A function giving, for each later moment, the multiples of ``tick`` (from the hour
    of the first moment) passed on the way to it, in order, each once."""
    state: dict[str, datetime] = {}

    def passed(when: datetime) -> list[datetime]:
        if "next" not in state:
            state["next"] = when.replace(minute=0, second=0, microsecond=0) + tick
        out = []
        while state["next"] <= when:
            out.append(state["next"])
            state["next"] += tick
        return out

    return passed


def play(
    replayer: Replayer,
    clock: FakeClock,
    tickets: Iterable[Ticket],
    *,
    on_tick: Callable[[datetime], None] | None = None,
    tick: timedelta = timedelta(hours=1),
) -> None:
    """Replay every ticket's creation, later comments and status/assignment changes in
    time order (ties: file order, then creation before comments before changes)."""
    steps: list[tuple[datetime, int, int, Ticket, int]] = []
    for order, ticket in enumerate(tickets):
        steps.append((ticket.created_at, order, _CREATE, ticket, -1))
        opening = bool(ticket.comments) and ticket.comments[0].author_role is Role.CUSTOMER
        for number, comment in enumerate(ticket.comments):
            if not (number == 0 and opening):  # the opening message came with the ticket
                steps.append((comment.created_at, order, _COMMENT, ticket, number))
        for number, event in enumerate(ticket.events):
            if event.type in (EventType.STATUS_CHANGED, EventType.REASSIGNED):
                steps.append((event.at, order, _CHANGE, ticket, number))
    steps.sort(key=lambda s: (s[0], s[1], s[2], s[4]))
    passed = ticks(tick)
    for when, _order, kind, ticket, number in steps:
        if on_tick is not None:
            for moment in passed(when):
                clock.advance((moment - clock.wall()).total_seconds())
                on_tick(moment)
        clock.advance(max(0.0, (when - clock.wall()).total_seconds()))
        if kind == _CREATE:
            replayer.create(ticket)
        elif kind == _COMMENT:
            replayer.comment(ticket, number)
        else:
            replayer.change(ticket, number)
