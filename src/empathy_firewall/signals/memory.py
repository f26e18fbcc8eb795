"""Customer memory: how earlier tickets went, fading with age, and loyalty from field mapping.

``past_sentiment`` is the mean sentiment of the customer's earlier tickets, each weighted
by ``0.5 ** (age_days / half_life_days)`` so last week counts more than last year
(unit: sentiment in [-1, 1]). Loyalty tier, lifetime value and order count come from the
customer record, or from helpdesk fields named in :class:`CustomerFieldMapping`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from empathy_firewall.models import FieldValue, Ticket
from empathy_firewall.settings import CustomerFieldMapping, MemorySettings

__all__ = ["CustomerMemory", "PastTicket", "customer_key", "memory_of"]


@dataclass(frozen=True, slots=True)
class PastTicket:
    """What we remember of one earlier ticket of a customer."""

    ticket_key: str
    at: datetime
    sentiment: float
    negative: bool
    created_at: datetime | None = None
    """When the ticket was opened: only tickets opened before the current one count as
    earlier (ties by key), so memory never depends on the order tickets are read."""


@dataclass(frozen=True, slots=True)
class CustomerMemory:
    """The customer's standing and emotional history with us."""

    tier: str | None
    lifetime_value: float | None
    order_count: int | None
    past_tickets: int
    past_negative_tickets: int
    past_sentiment: float | None
    days_since_last_ticket: float | None


def customer_key(ticket: Ticket) -> str:
    """Identity of the requester across tickets of one helpdesk account."""
    src = ticket.source
    return f"{src.connector}:{src.account or ''}:{ticket.requester.id}"


def _field(fields: Sequence[Mapping[str, FieldValue]], name: str | None) -> FieldValue:
    if name is None:
        return None
    for mapping in fields:
        value = mapping.get(name)
        if value is not None and value != "":
            return value
    return None


def _number(value: FieldValue) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def memory_of(
    ticket: Ticket,
    past: Sequence[PastTicket],
    now: datetime,
    mapping: CustomerFieldMapping,
    settings: MemorySettings,
) -> CustomerMemory:
    """Summarize a customer's loyalty and earlier tickets (the current one excluded)."""
    customer = ticket.requester
    sources = (customer.fields, ticket.custom_fields)
    tier = customer.loyalty_tier
    if tier is None:
        raw_tier = _field(sources, mapping.tier_field)
        tier = str(raw_tier) if raw_tier is not None else None
    if tier is not None:
        tier = tier.strip().lower()
        aliases = {k.lower(): v.lower() for k, v in mapping.tier_aliases.items()}
        tier = aliases.get(tier, tier)
    value = customer.lifetime_value
    if value is None:
        value = _number(_field(sources, mapping.lifetime_value_field))
    orders = customer.order_count
    if orders is None:
        raw_orders = _number(_field(sources, mapping.order_count_field))
        orders = int(raw_orders) if raw_orders is not None else None

    opened = (ticket.created_at, ticket.key)
    earlier = [
        p
        for p in past
        if p.ticket_key != ticket.key
        and p.at <= now
        and (p.created_at is None or (p.created_at, p.ticket_key) < opened)
    ]
    weighted = total = 0.0
    last: datetime | None = None
    for item in earlier:
        age_days = max(0.0, (now - item.at).total_seconds() / 86400.0)
        weight = 0.5 ** (age_days / settings.half_life_days)
        weighted += weight * item.sentiment
        total += weight
        last = item.at if last is None or item.at > last else last
    return CustomerMemory(
        tier=tier,
        lifetime_value=value,
        order_count=orders,
        past_tickets=len(earlier),
        past_negative_tickets=sum(1 for p in earlier if p.negative),
        past_sentiment=round(weighted / total, 6) if total > 0 else None,
        days_since_last_ticket=(
            round((now - last).total_seconds() / 86400.0, 3) if last is not None else None
        ),
    )
