"""What the firewall remembers between tickets: the :class:`History` the engine reads.

The engine only reads history (it stays pure); the pipeline records into it after each
ticket. :class:`MemoryHistory` keeps everything in process, for ``simulate`` and tests;
the state store implements the same protocol on SQLite or PostgreSQL.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
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

    def interactions(self, agent_key: str) -> Sequence[Interaction]:
        """Recent interactions of an opted-in agent (any order)."""
        ...

    def last_firing(self, ticket_key: str, rule_id: str) -> Firing | None:
        """When ``rule_id`` last acted on the ticket, if ever."""
        ...

    def agents_with_headroom(self, now: datetime, exclude: str | None) -> Sequence[str]:
        """Opted-in agents (keys) whose recent load leaves room for a hard ticket."""
        ...


class _EmptyHistory:
    def past_tickets(self, customer_key: str) -> Sequence[PastTicket]:
        return ()

    def interactions(self, agent_key: str) -> Sequence[Interaction]:
        return ()

    def last_firing(self, ticket_key: str, rule_id: str) -> Firing | None:
        return None

    def agents_with_headroom(self, now: datetime, exclude: str | None) -> Sequence[str]:
        return ()


#: a history with nothing in it: every ticket is the first, no rule has fired
EMPTY_HISTORY: History = _EmptyHistory()


class MemoryHistory:
    """An in-process :class:`History` with bounded memory.

    Per customer it keeps the latest ``max_tickets`` tickets; per agent the interactions
    of the last ``keep_hours``; per (ticket, rule) the last firing.
    """

    def __init__(
        self, *, max_tickets: int = 20, keep_hours: float = 24.0, headroom_below: float = 2.0
    ) -> None:
        self._max_tickets = max_tickets
        self._keep = timedelta(hours=keep_hours)
        self._headroom_below = headroom_below
        self._customers: dict[str, dict[str, PastTicket]] = {}
        self._agents: dict[str, deque[Interaction]] = {}
        self._seen_comments: dict[str, set[str]] = {}
        self._firings: dict[tuple[str, str], Firing] = {}

    # -- reading -----------------------------------------------------------------
    def past_tickets(self, customer_key: str) -> Sequence[PastTicket]:
        return tuple(self._customers.get(customer_key, {}).values())

    def interactions(self, agent_key: str) -> Sequence[Interaction]:
        return tuple(self._agents.get(agent_key, ()))

    def last_firing(self, ticket_key: str, rule_id: str) -> Firing | None:
        return self._firings.get((ticket_key, rule_id))

    def agents_with_headroom(self, now: datetime, exclude: str | None) -> Sequence[str]:
        window = now - timedelta(hours=4)
        free = []
        for agent, items in sorted(self._agents.items()):
            if agent == exclude:
                continue
            load = sum(i.weight for i in items if i.at >= window)
            if load < self._headroom_below:
                free.append(agent)
        return tuple(free)

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
        queue = self._agents.setdefault(agent_key, deque())
        seen = self._seen_comments.setdefault(agent_key, set())
        for item in sorted(items, key=lambda i: i.at):
            if item.comment_key in seen:
                continue
            seen.add(item.comment_key)
            queue.append(item)
        if queue:
            horizon = max(i.at for i in queue) - self._keep
            while queue and queue[0].at < horizon:
                seen.discard(queue.popleft().comment_key)

    def record_firing(self, ticket_key: str, firing: Firing) -> None:
        """Remember that a rule acted on a ticket."""
        self._firings[(ticket_key, firing.rule_id)] = firing
