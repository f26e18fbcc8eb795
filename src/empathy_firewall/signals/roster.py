"""Who could take a hard conversation next: teammates named, with room in their queue.

The emotional headroom (agents who opted in to strain tracking and carry a light load) comes
from the history; the roster (names, groups, open tickets, capacity) from the helpdesk's
agent records the caller knows. A teammate is suggested only if they work in the ticket's
group (when both are known), and their open tickets are below the overload ratio of their
capacity; the lightest queues come first. The assignee is never among them, and nothing
here says why the assignee should be spared: that reason is for the assignee alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from empathy_firewall.models import Agent, Ticket
from empathy_firewall.settings import FrictionSettings
from empathy_firewall.signals.backlog import Backlog

__all__ = ["MAX_SUGGESTED", "load_ratio", "roster_of", "teammates_for"]

#: at most this many teammates are suggested
MAX_SUGGESTED = 3


def load_ratio(agent: Agent, settings: FrictionSettings) -> float | None:
    """Open tickets / capacity (the agent's, else the default), or None when unknown."""
    if agent.open_tickets is None:
        return None
    capacity = agent.capacity or settings.default_capacity
    return agent.open_tickets / capacity


def teammates_for(
    ticket: Ticket,
    headroom_ids: Iterable[str],
    roster: Mapping[str, Agent],
    settings: FrictionSettings,
) -> tuple[Agent, ...]:
    """The teammates to suggest, lightest queue first (known ones only, at most three)."""
    assignee = ticket.assignee.id if ticket.assignee is not None else None
    found: list[tuple[float, str, Agent]] = []
    for agent_id in dict.fromkeys(headroom_ids):
        agent = roster.get(agent_id)
        if agent is None or agent_id == assignee:
            continue
        if ticket.group and agent.groups and ticket.group not in agent.groups:
            continue
        ratio = load_ratio(agent, settings)
        if ratio is not None and ratio >= settings.overloaded_at:
            continue
        found.append((ratio if ratio is not None else 1.0, agent.name or agent.id, agent))
    found.sort(key=lambda item: (item[0], item[1]))
    return tuple(agent for _, _, agent in found[:MAX_SUGGESTED])


def roster_of(
    listed: Iterable[Agent], page: Iterable[Ticket], backlog: Backlog | None = None
) -> dict[str, Agent]:
    """The agents a page's routing suggestions may name, whatever order the page came in.

    ``listed`` is the helpdesk's agent directory (it wins: names, groups, e-mail); the page's
    assignees fill the gaps, the most recently updated ticket's record winning, ties broken by
    ticket key. Where the backlog knows an agent's open tickets, that count replaces the
    agent record's own. Pure.
    """
    roster: dict[str, Agent] = {}
    for ticket in sorted(page, key=lambda t: (t.updated_at, t.key)):
        if ticket.assignee is not None:
            roster[ticket.assignee.id] = ticket.assignee
    roster.update((agent.id, agent) for agent in listed)
    if backlog is None:
        return roster
    return {
        agent_id: (
            agent.model_copy(update={"open_tickets": backlog.agents[agent_id]})
            if agent_id in backlog.agents
            else agent
        )
        for agent_id, agent in roster.items()
    }
