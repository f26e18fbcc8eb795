"""The plain-value context note templates see, and a sample of it for load-time checks."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from empathy_firewall.actions import Quote
from empathy_firewall.context import EvaluationContext
from empathy_firewall.engine.narrative import recap
from empathy_firewall.engine.registry import Registry
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
from empathy_firewall.signals.enrich import Signals, enrich
from empathy_firewall.signals.text import CommentCache, LexiconTextAnalyzer, TextSignals

__all__ = ["sample_context", "template_context"]

_PATH_GROUPS = ("sentiment", "frustration", "cues", "friction", "handoff", "recovery")


def _first_name(name: str | None) -> str:
    return name.split()[0] if name and name.strip() else ""


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


def template_context(
    signals: Signals, registry: Registry, quotes: tuple[Quote, ...], rule: Mapping[str, Any]
) -> dict[str, Any]:
    """Build the context for one rule's templates on one ticket: plain values only."""
    ticket = signals.ticket
    ctx: dict[str, Any] = {group: {} for group in _PATH_GROUPS}
    ctx["ticket"] = {}
    ctx["customer"] = {}
    for path, spec in registry.paths.items():
        group, _, name = path.partition(".")
        if group in ctx and "." not in name:
            value = spec.get(signals)
            ctx[group][name] = list(value) if isinstance(value, tuple) else value
    ctx["ticket"].update(
        id=ticket.source.external_id,
        subject=ticket.subject,
        url=ticket.source.url,
    )
    customer = ticket.requester
    ctx["customer"].update(
        name=customer.name or "",
        first_name=_first_name(customer.name),
        organization=customer.organization or "",
        language=customer.language or "",
    )
    assignee = ticket.assignee
    ctx["agent"] = {
        "name": (assignee.name or "") if assignee else "",
        "first_name": _first_name(assignee.name) if assignee else "",
    }
    strain = signals.strain
    ctx["strain"] = {
        "load": strain.load,
        "load_ratio": strain.load_ratio,
        "hard_interactions": strain.hard_interactions,
        "unbroken_minutes": strain.unbroken_minutes,
        "needs_break": strain.needs_break,
    }
    ctx["recovery"].update(gesture=signals.recovery.gesture, currency=signals.recovery.currency)
    ctx["quotes"] = [{"cue": q.cue, "text": q.text, "comment_id": q.comment_id} for q in quotes]
    summary = recap(ticket)
    ctx["recap"] = {
        "explained": list(summary.explained),
        "tried": list(summary.tried),
        "provided": list(summary.provided),
    }
    ctx["expectation"] = _expectation(signals)
    ctx["rule"] = dict(rule)
    return ctx


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
    quotes = (Quote(comment_id="2", cue="repeat_contact", text="third time", start=0, end=10),)
    rule = {"id": "sample", "pack": "sample", "description": "sample rule"}
    return template_context(signals, registry, quotes, rule)
