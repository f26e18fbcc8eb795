"""Page-at-a-time history: read once per page, write once per page, in one transaction.

:class:`PageHistory` implements :class:`~empathy_firewall.signals.history.History` for the
tickets of one page. It loads what those tickets can ask about (their customers' memory,
their agents' recent interactions, the firings of their scopes) in a few queries, lets the
pipeline record into it in order (a ticket sees what the previous ticket of the page
taught), and writes everything new in :meth:`PageHistory.flush`, inside the transaction
that also records the ledger and advances the bookmark.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import Connection

from empathy_firewall.models import Ticket
from empathy_firewall.signals.enrich import agent_key
from empathy_firewall.signals.history import Firing
from empathy_firewall.signals.memory import PastTicket, customer_key
from empathy_firewall.signals.strain import Interaction
from empathy_firewall.state.snapshots import load_snapshots
from empathy_firewall.state.store import StateStore

__all__ = ["PageHistory", "scopes_of"]


def scopes_of(ticket: Ticket) -> tuple[str, str, str | None]:
    """A ticket's customer key, ticket key and assignee's agent key (None if unassigned)."""
    agent = agent_key(ticket, ticket.assignee.id) if ticket.assignee is not None else None
    return customer_key(ticket), ticket.key, agent


def _at(item: Interaction) -> datetime:
    return item.at


def _when(past: PastTicket) -> tuple[datetime, str]:
    return past.at, past.ticket_key


class PageHistory:
    """The history one page of tickets reads and writes (see the module docstring)."""

    def __init__(
        self,
        store: StateStore,
        tickets: Sequence[Ticket],
        now: datetime,
        *,
        snapshots: tuple[str, str] | None = None,
    ) -> None:
        """Load what ``tickets`` can ask about. ``snapshots`` (connector name, account) says
        where the stored ticket snapshots of this helpdesk account are: they tell whom
        tickets outside the page are assigned to now (:meth:`current_assignees`)."""
        self._store = store
        self._snapshots = snapshots
        # the key prefix of the page's tickets (and of their agents' keys)
        self._prefixes = sorted({t.key[: -len(t.source.external_id)] for t in tickets})
        self._assignees: dict[str, str | None] = {}
        self._looked_up: set[str] = set()  # keys whose snapshots were asked for
        self._now = now
        self._since = now - store.keep
        customers: set[str] = set()
        agents: set[str] = set()
        scopes: set[str] = set()
        for ticket in tickets:
            ckey, tkey, akey = scopes_of(ticket)
            customers.add(ckey)
            scopes.update((tkey, "customer:" + ckey))
            if akey is not None:
                agents.add(akey)
                scopes.add("agent:" + akey)
        with store.engine.connect() as conn:
            past = store.load_past_tickets(conn, customers)
            timeline = store.load_interactions(conn, agents, self._since)
            self._firings = store.load_firings(conn, scopes)
        self._customers: dict[str, dict[str, PastTicket]] = {
            c: {p.ticket_key: p for p in items} for c, items in past.items()
        }
        self._agents: dict[str, list[Interaction]] = timeline
        self._seen = {a: {i.comment_key for i in items} for a, items in timeline.items()}
        self._loads: dict[tuple[datetime, datetime], dict[str, float]] = {}
        self._new_past: dict[tuple[str, str], PastTicket] = {}
        self._forgotten: list[tuple[str, str]] = []
        self._new_interactions: list[tuple[str, Interaction]] = []
        self._new_firings: dict[tuple[str, str], tuple[str | None, Firing]] = {}
        self._current: str | None = None

    # -- History -----------------------------------------------------------------------

    def past_tickets(self, customer_key: str) -> Sequence[PastTicket]:
        """Remembered tickets of a customer, including ones recorded in this page."""
        return tuple(self._customers.get(customer_key, {}).values())

    def interactions(self, agent_key: str, since: datetime) -> Sequence[Interaction]:
        """The agent's interactions at or after ``since``, oldest first."""
        items = self._agents.get(agent_key, [])
        return items[bisect_left(items, since, key=_at) :]

    def last_firing(self, ticket_key: str, rule_id: str) -> Firing | None:
        """The last firing in a scope, including this page's."""
        return self._firings.get((ticket_key, rule_id))

    def current_assignees(self, ticket_keys: Iterable[str]) -> Mapping[str, str | None]:
        """Whom these tickets are assigned to: as this page observed them, else as their
        stored snapshots say (the last sync or webhook that read them)."""
        keys = set(ticket_keys)
        missing = keys - self._assignees.keys() - self._looked_up
        if missing and self._snapshots is not None:
            self._looked_up |= missing
            self._load_assignees(missing, *self._snapshots)
        known = self._assignees
        return {k: known[k] for k in keys if k in known}

    def _load_assignees(self, keys: set[str], connector: str, account: str) -> None:
        ids: dict[str, tuple[str, str]] = {}  # external id -> (prefix, ticket key)
        for key in keys:
            for prefix in self._prefixes:
                if key.startswith(prefix) and len(key) > len(prefix):
                    ids[key[len(prefix) :]] = (prefix, key)
        if not ids:
            return
        with self._store.engine.connect() as conn:
            found = load_snapshots(conn, connector, account, ids)
        for external_id, snap in found.items():
            prefix, key = ids[external_id]
            if key not in self._assignees:  # what this page observed wins
                self._assignees[key] = None if snap.assignee is None else prefix + snap.assignee

    def agents_with_headroom(
        self, since: datetime, until: datetime, below: float, exclude: str | None
    ) -> Sequence[str]:
        """Agents below ``below`` in the window: stored loads plus this page's additions."""
        stamp = (since, until)
        if stamp not in self._loads:
            with self._store.engine.connect() as conn:
                self._loads[stamp] = self._store.load_agent_loads(conn, since, until)
            for akey, item in self._new_interactions:
                self._add_load(stamp, akey, item)
        loads = self._loads[stamp]
        return tuple(a for a in sorted(loads) if a != exclude and loads[a] < below)

    def _add_load(self, stamp: tuple[datetime, datetime], akey: str, item: Interaction) -> None:
        loads = self._loads[stamp]
        inside = stamp[0] <= item.at <= stamp[1]
        loads[akey] = loads.get(akey, 0.0) + (item.weight if inside else 0.0)

    # -- recording ---------------------------------------------------------------------

    def begin_ticket(self, ticket_key: str) -> None:
        """Firings recorded from now on belong to this ticket (see :meth:`flush`)."""
        self._current = ticket_key

    def record_ticket(self, customer_key: str, past: PastTicket) -> None:
        """Remember (or update) one ticket of a customer."""
        tickets = self._customers.setdefault(customer_key, {})
        tickets.pop(past.ticket_key, None)
        tickets[past.ticket_key] = past
        self._new_past[(customer_key, past.ticket_key)] = past
        extra = len(tickets) - self._store.max_tickets
        if extra > 0:  # forget the oldest, here and (at flush) in the store
            for old in sorted(tickets.values(), key=_when)[:extra]:
                del tickets[old.ticket_key]
                self._new_past.pop((customer_key, old.ticket_key), None)
                self._forgotten.append((customer_key, old.ticket_key))

    def record_interactions(self, agent_key: str, items: Iterable[Interaction]) -> None:
        """Add an agent's interactions, ignoring ones already known."""
        timeline = self._agents.setdefault(agent_key, [])
        seen = self._seen.setdefault(agent_key, set())
        for item in items:
            if item.comment_key in seen or item.at < self._since:
                continue
            seen.add(item.comment_key)
            insort(timeline, item, key=_at)
            self._new_interactions.append((agent_key, item))
            for stamp in self._loads:
                self._add_load(stamp, agent_key, item)

    def record_firing(self, ticket_key: str, firing: Firing) -> None:
        """Remember that a rule acted in a scope."""
        self._firings[(ticket_key, firing.rule_id)] = firing
        self._new_firings[(ticket_key, firing.rule_id)] = (self._current, firing)

    def record_assignee(self, ticket_key: str, agent_key: str | None) -> None:
        """Whom a ticket of the page is assigned to now (its snapshot records it for later
        pages and runs)."""
        self._assignees[ticket_key] = agent_key

    # -- writing -----------------------------------------------------------------------

    def flush(self, conn: Connection, *, drop_firings_of: Iterable[str] = ()) -> None:
        """Write this page's additions inside ``conn``'s transaction.

        Firings recorded while evaluating the tickets in ``drop_firings_of`` are left out
        (their actions were not all applied, so cooldowns must not hold them back).
        """
        dropped = set(drop_firings_of)
        store = self._store
        store.write_past_tickets(conn, [(c, p) for (c, _), p in self._new_past.items()])
        store.forget_past_tickets(conn, self._forgotten)
        store.write_interactions(conn, self._new_interactions)
        store.prune_interactions(conn, self._now)
        store.write_firings(
            conn,
            [
                (scope, firing)
                for (scope, _), (owner, firing) in self._new_firings.items()
                if owner not in dropped
            ],
        )
