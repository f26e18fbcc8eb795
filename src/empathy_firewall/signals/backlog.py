"""Agent and group backlog: open tickets per assignee and per group at evaluation time.

The sync step counts the open ticket snapshots in the state store
(:func:`empathy_firewall.state.snapshots.count_open`) and corrects them for the page being
evaluated (each ticket of the page counts as it reads now, not as it was stored), so every
ticket of a page sees the same counts whatever its place in the page. Until a first sync
has finished, the connector's own count query
(:meth:`~empathy_firewall.connectors.Connector.count_open`) stands in for an assignee.
Pure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from empathy_firewall.models import Ticket, TicketStatus

__all__ = ["OPEN", "Backlog", "page_backlog"]

#: the statuses that count towards a backlog
OPEN = frozenset({TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.ON_HOLD})


@dataclass(frozen=True, slots=True)
class Backlog:
    """Open tickets per agent id and per group name, as known at evaluation time."""

    agents: Mapping[str, int] = field(default_factory=dict)
    groups: Mapping[str, int] = field(default_factory=dict)
    complete: bool = True
    """True when the counts cover the whole helpdesk (a sync has read it all once); else
    only ``agents`` given by the helpdesk itself are known."""

    def for_agent(self, agent_id: str) -> int | None:
        """Open tickets assigned to ``agent_id`` (None when unknown)."""
        return self.agents.get(agent_id, 0 if self.complete else None)

    def for_group(self, group: str) -> int | None:
        """Open tickets in ``group`` (None when unknown)."""
        return self.groups.get(group, 0 if self.complete else None)


def page_backlog(
    agents: Mapping[str, int],
    groups: Mapping[str, int],
    stored: Iterable[tuple[str | None, str | None, bool]],
    page: Iterable[Ticket],
    overrides: Mapping[str, int] | None = None,
) -> Backlog:
    """Stored counts with the page's tickets counted as they read now.

    ``stored`` holds (assignee, group, open) of the page's tickets as the store counted
    them; ``overrides`` are counts from the helpdesk itself, used as they are.
    """
    by_agent: Counter[str] = Counter(agents)
    by_group: Counter[str] = Counter(groups)
    for assignee, group, is_open in stored:
        if is_open and assignee is not None:
            by_agent[assignee] -= 1
        if is_open and group is not None:
            by_group[group] -= 1
    for ticket in page:
        if ticket.status not in OPEN:
            continue
        if ticket.assignee is not None:
            by_agent[ticket.assignee.id] += 1
        if ticket.group is not None:
            by_group[ticket.group] += 1
    merged = {a: max(0, n) for a, n in by_agent.items()}
    merged.update(overrides or {})
    return Backlog(merged, {g: max(0, n) for g, n in by_group.items()})
