"""The evaluation core every path shares: learn from a ticket, decide its plan. Pure of I/O.

``sync`` pages, webhook workers (through :class:`~empathy_firewall.sync.step.TicketStep`)
and the offline :class:`~empathy_firewall.pipeline.Pipeline` all evaluate a ticket with
:func:`decide` and record what it teaches with :func:`learn`; the history they write into
is the state store's page buffer or a :class:`~empathy_firewall.signals.history.MemoryHistory`.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from typing import Protocol

from empathy_firewall.actions import Plan, PlannedAction
from empathy_firewall.context import EvaluationContext
from empathy_firewall.engine.evaluate import Engine
from empathy_firewall.models import Ticket
from empathy_firewall.signals.enrich import Observation, Signals, enrich
from empathy_firewall.signals.history import Firing, History
from empathy_firewall.signals.memory import PastTicket
from empathy_firewall.signals.strain import Interaction
from empathy_firewall.sync.dedupe import fresh_action

__all__ = ["RecordingHistory", "decide", "fresh_actions", "learn"]


class RecordingHistory(History, Protocol):
    """A history the evaluation can also record into (a page buffer, a memory history)."""

    def record_ticket(self, customer_key: str, past: PastTicket) -> None:
        """Remember (or update) one ticket of a customer."""
        ...

    def record_interactions(self, agent_key: str, items: Iterable[Interaction]) -> None:
        """Add an agent's interactions."""
        ...

    def record_firing(self, ticket_key: str, firing: Firing) -> None:
        """Remember that a rule acted in a scope."""
        ...

    def record_assignee(self, ticket_key: str, agent_key: str | None) -> None:
        """Remember whom a ticket is assigned to now (None: nobody)."""
        ...


def learn(history: RecordingHistory, seen: Observation) -> None:
    """Record what a ticket teaches: the customer's ticket, its assignee, the assignee's
    work."""
    if seen.ticket_key is not None:
        history.record_assignee(seen.ticket_key, seen.assignee_key)
    if seen.past_ticket is not None:
        history.record_ticket(seen.customer_key, seen.past_ticket)
    if seen.agent_key is not None:
        history.record_interactions(seen.agent_key, seen.interactions)


def decide(
    engine: Engine, ticket: Ticket, context: EvaluationContext, history: RecordingHistory
) -> tuple[Signals, Plan]:
    """Enrich and evaluate ``ticket``; remember which rules acted (cooldowns, once per
    ticket) in ``history`` (the one ``context`` reads)."""
    signals = enrich(ticket, context)
    plan = engine.evaluate_signals(signals, context)
    for match in plan.matches:
        history.record_firing(
            match.scope or plan.ticket.key,
            Firing(rule_id=match.rule_id, at=plan.evaluated_at, episode=match.episode),
        )
    return signals, plan


def fresh_actions(plan: Plan, known: Set[str]) -> tuple[PlannedAction, ...]:
    """The plan's actions (tags, note sections) whose keys are not in ``known``."""
    key = plan.ticket.key
    return tuple(f for a in plan.actions if (f := fresh_action(a, known, key)) is not None)
