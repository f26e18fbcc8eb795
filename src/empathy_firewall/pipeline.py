"""The offline pipeline: tickets in, plans out, history kept in between.

Each ticket, in the order given, goes through the evaluation core that ``sync`` pages and
webhook workers share (:mod:`~empathy_firewall.sync.decide`): :func:`decide` (enrich,
evaluate, remember the firings) then :func:`learn` (customer memory, agent work), with a
:class:`~empathy_firewall.signals.history.MemoryHistory` instead of the state store.
Nothing is applied offline, so nothing is already done: no ledger to drop actions by.
Unlike a sync page, a ticket teaches only the tickets after it (``simulate`` streams a
file and reports as it goes).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from empathy_firewall.actions import Plan
from empathy_firewall.context import EvaluationContext
from empathy_firewall.engine.evaluate import Engine
from empathy_firewall.models import Agent, Ticket
from empathy_firewall.settings import FirewallSettings
from empathy_firewall.signals.analysis import default_text_analyzer
from empathy_firewall.signals.enrich import Signals, observe
from empathy_firewall.signals.history import MemoryHistory
from empathy_firewall.signals.text import CommentCache
from empathy_firewall.sync.decide import decide, learn
from empathy_firewall.ticketfile import iter_tickets, scan_ticket_file

__all__ = ["PIPELINE_CACHE_ENTRIES", "Pipeline", "Processed", "simulate_file"]

#: comments whose text signals a pipeline keeps (each ticket is usually seen once)
PIPELINE_CACHE_ENTRIES = 4096


@dataclass(frozen=True, slots=True)
class Processed:
    """One ticket after the pipeline: its signals and its plan."""

    ticket: Ticket
    signals: Signals
    plan: Plan


class Pipeline:
    """Evaluates tickets one after another, remembering customers, agents and firings."""

    def __init__(
        self,
        engine: Engine,
        settings: FirewallSettings | None = None,
        history: MemoryHistory | None = None,
        texts: CommentCache | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings or FirewallSettings()
        self.history = history or MemoryHistory(
            max_tickets=self.settings.memory.max_tickets,
            keep_hours=max(24.0, self.settings.agent_care.window_hours),
        )
        # not `texts or ...`: an empty CommentCache has len() 0 and would be dropped.
        # A pipeline sees each ticket about once, so its own small cache keeps memory flat
        # in the number of tickets; pass a larger one to re-evaluate many tickets.
        self.agents: dict[str, Agent] = {}
        self.texts = (
            texts
            if texts is not None
            else CommentCache(default_text_analyzer(), max_entries=PIPELINE_CACHE_ENTRIES)
        )

    def process(self, ticket: Ticket, now: datetime) -> Processed:
        """Evaluate one ticket at ``now`` and remember what it teaches."""
        if ticket.assignee is not None:
            # the agents seen so far, latest record wins: routing suggestions name them
            self.agents[ticket.assignee.id] = ticket.assignee
        context = EvaluationContext(
            now=now,
            settings=self.settings,
            history=self.history,
            texts=self.texts,
            agents=self.agents,
        )
        signals, plan = decide(self.engine, ticket, context, self.history)
        learn(self.history, observe(signals, self.settings.agent_care.hard_interaction_at))
        return Processed(ticket, signals, plan)

    def run(self, tickets: Iterable[Ticket], now: datetime) -> Iterator[Processed]:
        """Process tickets in the order given."""
        for ticket in tickets:
            yield self.process(ticket, now)


def simulate_file(
    path: Path, pipeline: Pipeline, now: datetime | None = None
) -> tuple[int, datetime, Iterator[Processed]]:
    """Validate the whole file first, then stream it through the pipeline.

    Returns the ticket count, the evaluation time (``now``, or the latest activity in the
    file) and the iterator of results. A bad line raises
    :class:`~empathy_firewall.errors.InputError` before any ticket is evaluated.
    """
    summary = scan_ticket_file(path)
    at = now or summary.latest_activity or datetime.now(UTC)
    return summary.tickets, at, pipeline.run(iter_tickets(path), at)
