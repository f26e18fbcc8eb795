"""What the firewall remembers between tickets: the :class:`History` the engine reads.

The engine only reads history (it stays pure); the pipeline records into it after each
ticket. :class:`MemoryHistory` keeps everything in process, for ``simulate`` and tests;
the state store implements the same protocol on SQLite or PostgreSQL.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from empathy_firewall.signals.memory import PastTicket
from empathy_firewall.signals.strain import Interaction

__all__ = ["EMPTY_HISTORY", "Firing", "History", "MemoryHistory"]


@dataclass(frozen=True, slots=True)
class Firing:
    """The last time a rule acted on a ticket, and for which episode."""

    rule_id: str
    at: datetime
    episode: str | None


class History(Protocol):
    """Read access to what happened before this evaluation."""

    def past_tickets(self, customer_key: str) -> Sequence[PastTicket]:
        """Earlier tickets of a customer (any order; may include the current one)."""
        ...

    def interactions(self, agent_key: str, since: datetime) -> Sequence[Interaction]:
        """Interactions of an opted-in agent at or after ``since``, oldest first."""
        ...

    def last_firing(self, ticket_key: str, rule_id: str) -> Firing | None:
        """When ``rule_id`` last acted on the ticket, if ever."""
        ...

    def current_assignees(self, ticket_keys: Iterable[str]) -> Mapping[str, str | None]:
        """The agent key each of these tickets was assigned to when last observed (None:
        unassigned). Tickets never observed are left out: nothing is known of them."""
        ...

    def agents_with_headroom(
        self, since: datetime, until: datetime, below: float, exclude: str | None
    ) -> Sequence[str]:
        """Opted-in agents (keys) whose load (sum of interaction weights in the window)
        is below ``below``, sorted, without ``exclude``."""
        ...


class _EmptyHistory:
    def past_tickets(self, customer_key: str) -> Sequence[PastTicket]:
        return ()

    def interactions(self, agent_key: str, since: datetime) -> Sequence[Interaction]:
        return ()

    def last_firing(self, ticket_key: str, rule_id: str) -> Firing | None:
        return None

    def current_assignees(self, ticket_keys: Iterable[str]) -> Mapping[str, str | None]:
        return {}

    def agents_with_headroom(
        self, since: datetime, until: datetime, below: float, exclude: str | None
    ) -> Sequence[str]:
        return ()


#: a history with nothing in it: every ticket is the first, no rule has fired
EMPTY_HISTORY: History = _EmptyHistory()


_MAX_CACHED_WINDOWS = 1024
#: tickets whose assignee a MemoryHistory remembers (the oldest observed are forgotten)
_MAX_ASSIGNMENTS = 50_000


class MemoryHistory:
    """An in-process :class:`History` with bounded memory.

    Per customer it keeps the latest ``max_tickets`` tickets; per agent the interactions
    of the last ``keep_hours``, in time order; per (scope, rule) the last firing; the
    assignee of the latest tickets observed.
    """

    def __init__(self, *, max_tickets: int = 20, keep_hours: float = 24.0) -> None:
        self._max_tickets = max_tickets
        self._keep = timedelta(hours=keep_hours)
        self._customers: dict[str, dict[str, PastTicket]] = {}
        self._agents: dict[str, list[Interaction]] = {}
        self._seen_comments: dict[str, set[str]] = {}
        self._firings: dict[tuple[str, str], Firing] = {}
        self._assignees: dict[str, str | None] = {}
        self._version = 0
        self._windows: dict[tuple[str, datetime], tuple[int, tuple[Interaction, ...]]] = {}
        self._loads: tuple[tuple[datetime, datetime, int], dict[str, float]] | None = None

    # -- reading -----------------------------------------------------------------
    def past_tickets(self, customer_key: str) -> Sequence[PastTicket]:
        return tuple(self._customers.get(customer_key, {}).values())

    def _window(
        self, agent_key: str, since: datetime, until: datetime | None = None
    ) -> list[Interaction]:
        items = self._agents.get(agent_key, [])
        lo = bisect_left(items, since, key=_at)
        hi = len(items) if until is None else bisect_right(items, until, key=_at)
        return items[lo:hi]

    def interactions(self, agent_key: str, since: datetime) -> Sequence[Interaction]:
        """The window, as the same tuple object until something new is recorded."""
        cache_key = (agent_key, since)
        cached = self._windows.get(cache_key)
        if cached is not None and cached[0] == self._version:
            return cached[1]
        if len(self._windows) > _MAX_CACHED_WINDOWS:
            self._windows.clear()
        window = tuple(self._window(agent_key, since))
        self._windows[cache_key] = (self._version, window)
        return window

    def last_firing(self, ticket_key: str, rule_id: str) -> Firing | None:
        return self._firings.get((ticket_key, rule_id))

    def current_assignees(self, ticket_keys: Iterable[str]) -> Mapping[str, str | None]:
        known = self._assignees
        return {k: known[k] for k in ticket_keys if k in known}

    def agents_with_headroom(
        self, since: datetime, until: datetime, below: float, exclude: str | None
    ) -> Sequence[str]:
        stamp = (since, until, self._version)
        if self._loads is None or self._loads[0] != stamp:
            loads = {
                agent: sum(i.weight for i in self._window(agent, since, until))
                for agent in self._agents
            }
            self._loads = (stamp, loads)
        loads = self._loads[1]
        return tuple(a for a in sorted(loads) if a != exclude and loads[a] < below)

    # -- recording ---------------------------------------------------------------
    def record_ticket(self, customer_key: str, past: PastTicket) -> None:
        """Remember (or update) one ticket of a customer."""
        tickets = self._customers.setdefault(customer_key, {})
        tickets.pop(past.ticket_key, None)
        tickets[past.ticket_key] = past
        while len(tickets) > self._max_tickets:
            del tickets[next(iter(tickets))]

    def record_interactions(self, agent_key: str, items: Iterable[Interaction]) -> None:
        """Add an agent's interactions, ignoring ones already recorded."""
        timeline = self._agents.setdefault(agent_key, [])
        seen = self._seen_comments.setdefault(agent_key, set())
        for item in items:
            if item.comment_key in seen:
                continue
            seen.add(item.comment_key)
            insort(timeline, item, key=_at)
            self._version += 1
        if timeline:
            horizon = timeline[-1].at - self._keep
            cut = bisect_left(timeline, horizon, key=_at)
            for old in timeline[:cut]:
                seen.discard(old.comment_key)
            del timeline[:cut]

    def record_firing(self, ticket_key: str, firing: Firing) -> None:
        """Remember that a rule acted on a ticket (or agent, or customer: the scope)."""
        self._firings[(ticket_key, firing.rule_id)] = firing

    def record_assignee(self, ticket_key: str, agent_key: str | None) -> None:
        """Remember whom a ticket is assigned to now (None: nobody)."""
        known = self._assignees
        known.pop(ticket_key, None)
        known[ticket_key] = agent_key
        if len(known) > _MAX_ASSIGNMENTS:
            del known[next(iter(known))]


def _at(item: Interaction) -> datetime:
    return item.at
