"""The evaluation context: the time, the settings, the history and the text cache.

Everything :func:`empathy_firewall.evaluate` may depend on besides the ticket itself is
here, explicitly, so the same ticket and context always give the same plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from empathy_firewall.models import Agent
from empathy_firewall.settings import FirewallSettings
from empathy_firewall.signals.analysis import default_text_analyzer
from empathy_firewall.signals.backlog import Backlog
from empathy_firewall.signals.history import EMPTY_HISTORY, History
from empathy_firewall.signals.text import CommentCache

__all__ = ["EvaluationContext", "default_comment_cache"]


@cache
def default_comment_cache() -> CommentCache:
    """The process-wide cache of per-comment text signals (bounded LRU)."""
    return CommentCache(default_text_analyzer())


@dataclass(frozen=True)
class EvaluationContext:
    """Inputs to an evaluation besides the ticket.

    ``now`` must be timezone-aware: waits, cooldowns and loads are measured against it.
    """

    now: datetime
    settings: FirewallSettings = field(default_factory=FirewallSettings)
    history: History = EMPTY_HISTORY
    texts: CommentCache = field(default_factory=default_comment_cache)
    backlog: Backlog | None = None
    """Open tickets per agent and group (the sync step fills it from the state store);
    None: only what the ticket's agent record says."""
    agents: Mapping[str, Agent] = field(default_factory=dict)
    """The helpdesk's agents by id (name, groups, open tickets, capacity), when known: routing
    suggestions name teammates from it. Empty means unknown: nobody is named."""
    observed_first: bool = False
    """Whether ``history`` already holds what every ticket evaluated with it teaches
    (agents' replies, customers' tickets, whom each ticket is assigned to) before any of
    them is evaluated, as in a sync page or webhook batch (and, for a sync run of several
    pages, what every page teaches: its observation pass). Then a rule gated per agent or
    per customer (``cooldown_per``) acts only on that scope's latest conversation (for an
    agent, among the tickets still assigned to them; see
    :func:`~empathy_firewall.engine.evaluate.scope_carrier`), so which ticket carries it
    depends on the data, never on the order tickets are read. False (the offline pipeline,
    a bare ``evaluate``): the first matching ticket evaluated carries it."""

    def __post_init__(self) -> None:
        if self.now.tzinfo is None or self.now.utcoffset() is None:
            raise ValueError("EvaluationContext.now must be timezone-aware")
