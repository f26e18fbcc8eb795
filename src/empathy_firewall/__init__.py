"""empathy-firewall: keeps internal friction from reaching the customer, protects agents.

The public API in one import::

    from datetime import UTC, datetime
    from empathy_firewall import EvaluationContext, evaluate

    plan = evaluate(ticket, EvaluationContext(now=datetime.now(UTC)))
    for planned in plan.actions:
        print(planned.action.kind, [m.rule_id for m in planned.because])

See ``docs/python-api.md`` for the whole tour.
"""

from empathy_firewall.actions import (
    Action,
    AddTags,
    AgentPrompt,
    ApplyMacro,
    DraftReply,
    Evidence,
    InternalNote,
    Plan,
    PlannedAction,
    PublicReply,
    Quote,
    RemoveTags,
    RoutingSuggestion,
    RuleMatch,
    SetPriority,
    Suppressed,
)
from empathy_firewall.context import EvaluationContext
from empathy_firewall.engine.evaluate import Engine, evaluate
from empathy_firewall.engine.loader import load_rule_packs
from empathy_firewall.engine.registry import Registry, condition, default_registry, rule
from empathy_firewall.engine.rules import RuleSet
from empathy_firewall.errors import (
    AuthenticationError,
    ConfigError,
    EmpathyFirewallError,
    InputError,
    RateLimitedError,
    RetryableError,
    RulePackError,
    SkipError,
)
from empathy_firewall.models import (
    Agent,
    AgentOptIns,
    Channel,
    Comment,
    Customer,
    EventType,
    Priority,
    Role,
    SlaInfo,
    SourceRef,
    Ticket,
    TicketEvent,
    TicketMetrics,
    TicketStatus,
)
from empathy_firewall.pipeline import Pipeline
from empathy_firewall.settings import FirewallSettings
from empathy_firewall.signals.analysis import analyze_text
from empathy_firewall.signals.enrich import Signals, enrich
from empathy_firewall.signals.history import History, MemoryHistory
from empathy_firewall.signals.text import TextSignals

__version__ = "0.1.0.dev0"

__all__ = [
    "Action",
    "AddTags",
    "Agent",
    "AgentOptIns",
    "AgentPrompt",
    "ApplyMacro",
    "AuthenticationError",
    "Channel",
    "Comment",
    "ConfigError",
    "Customer",
    "DraftReply",
    "EmpathyFirewallError",
    "Engine",
    "EvaluationContext",
    "EventType",
    "Evidence",
    "FirewallSettings",
    "History",
    "InputError",
    "InternalNote",
    "MemoryHistory",
    "Pipeline",
    "Plan",
    "PlannedAction",
    "Priority",
    "PublicReply",
    "Quote",
    "RateLimitedError",
    "Registry",
    "RemoveTags",
    "RetryableError",
    "Role",
    "RoutingSuggestion",
    "RuleMatch",
    "RulePackError",
    "RuleSet",
    "SetPriority",
    "Signals",
    "SkipError",
    "SlaInfo",
    "SourceRef",
    "Suppressed",
    "TextSignals",
    "Ticket",
    "TicketEvent",
    "TicketMetrics",
    "TicketStatus",
    "__version__",
    "analyze_text",
    "condition",
    "default_registry",
    "enrich",
    "evaluate",
    "load_rule_packs",
    "rule",
]
