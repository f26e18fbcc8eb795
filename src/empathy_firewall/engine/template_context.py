"""The plain-value context note templates see, and a sample of it for load-time checks."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from empathy_firewall.actions import Quote
from empathy_firewall.context import EvaluationContext
from empathy_firewall.engine.languages import SUPPORTED, customer_language
from empathy_firewall.engine.narrative import feelings, recap
from empathy_firewall.engine.registry import Registry
from empathy_firewall.engine.templates import PRIVATE_TEMPLATE_NAMES, TEMPLATE_NAMES
from empathy_firewall.models import (
    Agent,
    AgentOptIns,
    Comment,
    Customer,
    EventType,
    Role,
    SourceRef,
    Ticket,
    TicketEvent,
)
from empathy_firewall.settings import FirewallSettings
from empathy_firewall.signals.cues import CueKind
from empathy_firewall.signals.enrich import Signals, enrich
from empathy_firewall.signals.text import CommentCache, LexiconTextAnalyzer, TextSignals

__all__ = [
    "GroupGetters",
    "TemplateContext",
    "path_groups",
    "sample_context",
    "template_context",
]

_PATH_GROUPS = ("sentiment", "frustration", "cues", "friction", "handoff", "recovery")


def _first_name(name: str | None) -> str:
    return name.split()[0] if name and name.strip() else ""


def _variant(signals: Signals, count: int = 3) -> int:
    """A stable choice among ``count`` wordings: the same ticket and wait, the same words;
    another ticket or another wait, likely others."""
    seed = f"{signals.ticket.key}|{signals.friction.waiting_since}"
    return int(hashlib.sha256(seed.encode()).hexdigest()[:8], 16) % count


def _reply(signals: Signals, settings: FirewallSettings) -> dict[str, Any]:
    """What a customer-facing text may say, honestly: only what was measured."""
    friction = signals.friction
    language = customer_language(signals) or ""
    breached = friction.breached or (
        friction.minutes_to_breach is not None and friction.minutes_to_breach <= 0
    )
    within: int | None = None
    if not breached:
        left = friction.minutes_to_breach
        if left is None:
            left = friction.sla_target_minutes or 240.0
        within = max(1, round(left / 60))
    offer = settings.replies.interim
    interim: dict[str, Any] | None = None
    if offer is not None:
        text = offer.text.get(language)
        if offer.url or text:
            interim = {"kind": offer.kind, "url": offer.url or "", "text": text or ""}
    return {
        "language": language,
        "supported": language in SUPPORTED,
        "variant": _variant(signals),
        "breached": breached,
        "within_hours": within,
        "update_hours": settings.replies.breach_update_hours,
        "interim": interim,
        "teams_passed": friction.group_hops >= 2,
    }


def _expectation(signals: Signals) -> str:
    """A realistic, honest expectation for the customer's next reply."""
    friction = signals.friction
    if friction.minutes_to_breach is not None and friction.minutes_to_breach > 30:
        hours = max(1, round(friction.minutes_to_breach / 60))
        return f"within the next {hours} hour{'s' if hours != 1 else ''}"
    target = friction.sla_target_minutes or 240.0
    if friction.assignee_overloaded:
        target *= 1.5
    hours = max(1, round(target / 60))
    if hours >= 24:
        days = round(hours / 24)
        return f"within {days} business day{'s' if days != 1 else ''}"
    return f"within {hours} hour{'s' if hours != 1 else ''}"


GroupGetters = dict[str, tuple[tuple[str, Callable[[Signals], Any]], ...]]


def path_groups(registry: Registry) -> GroupGetters:
    """The registry's two-level paths grouped by their first part, for template contexts."""
    groups: dict[str, list[tuple[str, Callable[[Signals], Any]]]] = {}
    for path, spec in registry.paths.items():
        group, _, name = path.partition(".")
        if group in (*_PATH_GROUPS, "ticket", "customer") and "." not in name:
            groups.setdefault(group, []).append((name, spec.get))
    return {group: tuple(items) for group, items in groups.items()}


class TemplateContext:
    """Builds, once per ticket and only on demand, the plain values templates may read.

    Each top-level name (``friction``, ``recap``...) is computed the first time a template
    that uses it is rendered, then shared by every rule acting on the same ticket.
    """

    def __init__(
        self, signals: Signals, groups: GroupGetters, settings: FirewallSettings | None = None
    ) -> None:
        self.signals = signals
        self._groups = groups
        self._settings = settings if settings is not None else FirewallSettings()
        self._values: dict[str, Any] = {}
        self._quotes: dict[frozenset[CueKind], tuple[Quote, ...]] = {}

    def quotes(
        self,
        kinds: frozenset[CueKind],
        find: Callable[[Signals, frozenset[CueKind]], tuple[Quote, ...]],
    ) -> tuple[Quote, ...]:
        """The quotes for a set of cue kinds, found once per ticket (rules share kinds)."""
        found = self._quotes.get(kinds)
        if found is None:
            found = self._quotes[kinds] = find(self.signals, kinds)
        return found

    def _group(self, group: str) -> dict[str, Any]:
        signals = self.signals
        out: dict[str, Any] = {}
        for name, get in self._groups.get(group, ()):
            value = get(signals)
            out[name] = list(value) if isinstance(value, tuple) else value
        return out

    def _compute(self, name: str) -> Any:
        signals = self.signals
        ticket = signals.ticket
        if name == "ticket":
            return {
                **self._group("ticket"),
                "id": ticket.source.external_id,
                "subject": ticket.subject,
                "url": ticket.source.url,
            }
        if name == "customer":
            customer = ticket.requester
            return {
                **self._group("customer"),
                "name": customer.name or "",
                "first_name": _first_name(customer.name),
                "organization": customer.organization or "",
                "language": customer.language or "",
            }
        if name == "agent":
            assignee = ticket.assignee
            return {
                "name": (assignee.name or "") if assignee else "",
                "first_name": _first_name(assignee.name) if assignee else "",
            }
        if name == "strain":
            strain = signals.strain
            return {
                "load": strain.load,
                "load_ratio": strain.load_ratio,
                "hard_interactions": strain.hard_interactions,
                "unbroken_minutes": strain.unbroken_minutes,
                "needs_break": strain.needs_break,
            }
        if name == "recovery":
            return {
                **self._group("recovery"),
                "gesture": signals.recovery.gesture,
                "currency": signals.recovery.currency,
                "explain": list(signals.recovery.explain),
            }
        if name == "recap":
            summary = recap(ticket, customer_language(signals))
            return {
                "explained": list(summary.explained),
                "tried": list(summary.tried),
                "dont_ask": list(summary.dont_ask),
                "provided": list(summary.provided),
                "latest": summary.latest,
            }
        if name == "frustration":
            return {**self._group("frustration"), "feelings": feelings(signals.emotion)}
        if name == "expectation":
            return _expectation(signals)
        if name == "reply":
            return _reply(signals, self._settings)
        if name == "routing":
            return {
                "group": ticket.group or "",
                "candidates": [
                    {
                        "name": agent.name or "",
                        "first_name": _first_name(agent.name),
                        "groups": list(agent.groups),
                        "open_tickets": agent.open_tickets,
                        "capacity": agent.capacity or self._settings.friction.default_capacity,
                    }
                    for agent in signals.teammates
                ],
            }
        return self._group(name)

    def build(
        self, names: Iterable[str], quotes: tuple[Quote, ...], rule: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The context for one rule's templates: the names they use, plus quotes and rule."""
        ctx: dict[str, Any] = {}
        for name in names:
            if name == "quotes":
                ctx[name] = [
                    {
                        "cue": q.cue,
                        "text": q.context or q.text,
                        "match": q.text,
                        "comment_id": q.comment_id,
                    }
                    for q in quotes
                ]
            elif name == "rule":
                ctx[name] = dict(rule)
            else:
                if name not in self._values:
                    self._values[name] = self._compute(name)
                ctx[name] = self._values[name]
        return ctx


def template_context(
    signals: Signals,
    registry: Registry,
    quotes: tuple[Quote, ...],
    rule: Mapping[str, Any],
    settings: FirewallSettings | None = None,
) -> dict[str, Any]:
    """The full context for one rule on one ticket (every name; plain values only)."""
    builder = TemplateContext(signals, path_groups(registry), settings)
    return builder.build(TEMPLATE_NAMES | PRIVATE_TEMPLATE_NAMES, quotes, rule)


class _SampleAnalyzer:
    def analyze(self, text: str) -> TextSignals:
        return LexiconTextAnalyzer(_Polarity()).analyze(text)


class _Polarity:
    def score(self, text: str) -> float:
        return -0.6


@cache
def _sample_signals() -> Signals:
    now = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    agent = Agent(
        id="a1", name="Sam Agent", groups=("support",), opt_in=AgentOptIns(strain_tracking=True)
    )
    ticket = Ticket(
        source=SourceRef(connector="sample", external_id="1"),
        subject="Sample",
        created_at=now - timedelta(hours=30),
        updated_at=now - timedelta(hours=2),
        requester=Customer(id="c1", name="Alex Customer", loyalty_tier="gold"),
        assignee=agent,
        group="support",
        comments=(
            Comment(
                id="1",
                author_role=Role.CUSTOMER,
                created_at=now - timedelta(hours=30),
                text="My order #12345 never arrived. I already contacted you twice.",
            ),
            Comment(
                id="2",
                author_role=Role.CUSTOMER,
                created_at=now - timedelta(hours=3),
                text="Still no answer. This is the third time I write!!!",
            ),
        ),
        events=(
            TicketEvent(
                type=EventType.REASSIGNED,
                at=now - timedelta(hours=5),
                from_group="sales",
                to_group="support",
            ),
        ),
    )
    context = EvaluationContext(now=now, texts=CommentCache(_SampleAnalyzer()))
    return enrich(ticket, context)


def sample_context(registry: Registry) -> dict[str, Any]:
    """A representative template context, for test-rendering templates at load time."""
    signals = _sample_signals()
    quotes = (
        Quote(
            comment_id="2",
            cue="repeat_contact",
            text="third time",
            start=24,
            end=34,
            context="This is the third time I write!!!",
        ),
    )
    rule = {"id": "sample", "pack": "sample", "description": "sample rule"}
    settings = FirewallSettings.model_validate(
        {"replies": {"interim": {"kind": "status_page", "url": "https://status.example.com"}}}
    )
    return template_context(signals, registry, quotes, rule, settings)
