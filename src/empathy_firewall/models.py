"""The normalized vocabulary every connector produces and every rule reads.

All models are frozen pydantic v2 models that refuse unknown fields, so a typo in a
JSONL export or a connector bug is caught at the border. Vendor JSON may ride along in
``raw`` for debugging; rules never read it.

Times are timezone-aware datetimes. Durations in signals are minutes unless stated.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "Agent",
    "AgentOptIns",
    "Channel",
    "Comment",
    "Customer",
    "EventType",
    "FieldValue",
    "Priority",
    "Role",
    "SlaInfo",
    "SourceRef",
    "Ticket",
    "TicketEvent",
    "TicketMetrics",
    "TicketStatus",
]

#: a scalar value of a helpdesk custom field
FieldValue = str | int | float | bool | None


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)


class Role(StrEnum):
    """Who wrote a comment."""

    CUSTOMER = "customer"
    AGENT = "agent"
    SYSTEM = "system"


class Channel(StrEnum):
    """How a message or ticket arrived."""

    EMAIL = "email"
    WEB = "web"
    CHAT = "chat"
    PHONE = "phone"
    MESSAGING = "messaging"
    SOCIAL = "social"
    API = "api"
    OTHER = "other"


class TicketStatus(StrEnum):
    """Lifecycle states common to Zendesk and Freshdesk."""

    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    ON_HOLD = "on_hold"
    SOLVED = "solved"
    CLOSED = "closed"


class Priority(StrEnum):
    """Ticket priority, lowest first."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        """0 for low .. 3 for urgent, for comparisons."""
        return _PRIORITY_RANK[self]


_PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


class EventType(StrEnum):
    """Things that happen to a ticket, as far as the firewall cares."""

    CREATED = "created"
    CUSTOMER_REPLIED = "customer_replied"
    AGENT_REPLIED = "agent_replied"
    REASSIGNED = "reassigned"
    REOPENED = "reopened"
    STATUS_CHANGED = "status_changed"
    PRIORITY_CHANGED = "priority_changed"
    SLA_WARNING = "sla_warning"


class SourceRef(_Model):
    """Where a record came from: connector name, helpdesk account and the vendor's id."""

    connector: str = Field(min_length=1)
    external_id: str = Field(min_length=1)
    account: str | None = None
    url: str | None = None

    @property
    def key(self) -> str:
        """A stable identity across runs: ``connector:account:external_id``."""
        return f"{self.connector}:{self.account or ''}:{self.external_id}"


class Comment(_Model):
    """One message on a ticket: a customer's words, an agent's reply, or a system note."""

    id: str = Field(min_length=1)
    author_role: Role
    author_id: str | None = None
    public: bool = True
    channel: Channel = Channel.OTHER
    created_at: AwareDatetime
    text: str = ""


class Customer(_Model):
    """The requester, with what we know of their loyalty and value.

    ``loyalty_tier``, ``lifetime_value`` and ``order_count`` are filled either by the
    connector or from ``fields`` through the configurable customer field mapping.
    """

    id: str = Field(min_length=1)
    name: str | None = None
    email: str | None = None
    organization: str | None = None
    loyalty_tier: str | None = None
    lifetime_value: float | None = Field(default=None, ge=0)
    order_count: int | None = Field(default=None, ge=0)
    language: str | None = None
    fields: Mapping[str, FieldValue] = Field(default_factory=dict)


class AgentOptIns(_Model):
    """What an agent has chosen to let the firewall do for them. Everything defaults off."""

    strain_tracking: bool = False
    break_prompts: bool = False
    recognition: bool = False


class Agent(_Model):
    """A helpdesk agent, with the groups they work in and their opt-ins."""

    id: str = Field(min_length=1)
    name: str | None = None
    groups: tuple[str, ...] = ()
    opt_in: AgentOptIns = Field(default_factory=AgentOptIns)
    open_tickets: int | None = Field(default=None, ge=0)
    capacity: int | None = Field(default=None, ge=1)
    email: str | None = None
    """Where the agent's private digest may go (from the helpdesk's agent record)."""


class TicketEvent(_Model):
    """A change in a ticket's life. ``from_*``/``to_*`` are set where they apply."""

    type: EventType
    at: AwareDatetime
    actor_id: str | None = None
    from_group: str | None = None
    to_group: str | None = None
    from_assignee: str | None = None
    to_assignee: str | None = None
    from_status: TicketStatus | None = None
    to_status: TicketStatus | None = None
    detail: str | None = None


class SlaInfo(_Model):
    """The service-level target that applies to the customer's current wait."""

    policy: str | None = None
    reply_target_minutes: float | None = Field(default=None, gt=0)
    breach_at: AwareDatetime | None = None


class TicketMetrics(_Model):
    """Counters the helpdesk keeps itself (Zendesk ticket metrics, Freshdesk stats)."""

    reassignments: int | None = Field(default=None, ge=0)
    group_hops: int | None = Field(default=None, ge=0)
    reopens: int | None = Field(default=None, ge=0)
    first_reply_minutes: float | None = Field(default=None, ge=0)


class Ticket(_Model):
    """A normalized ticket with its conversation, events and people."""

    source: SourceRef
    subject: str = ""
    status: TicketStatus = TicketStatus.OPEN
    priority: Priority = Priority.NORMAL
    channel: Channel = Channel.OTHER
    created_at: AwareDatetime
    updated_at: AwareDatetime
    requester: Customer
    assignee: Agent | None = None
    group: str | None = None
    tags: tuple[str, ...] = ()
    comments: tuple[Comment, ...] = ()
    events: tuple[TicketEvent, ...] = ()
    sla: SlaInfo | None = None
    metrics: TicketMetrics | None = None
    custom_fields: Mapping[str, FieldValue] = Field(default_factory=dict)
    raw: Mapping[str, Any] | None = Field(default=None, repr=False)

    @field_validator("tags")
    @classmethod
    def _normalize_tags(cls, tags: tuple[str, ...]) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for tag in tags:
            cleaned = tag.strip()
            if not cleaned:
                raise ValueError("tags must not be empty strings")
            seen.setdefault(cleaned, None)
        return tuple(seen)

    @field_validator("comments")
    @classmethod
    def _comments_in_time_order(cls, comments: tuple[Comment, ...]) -> tuple[Comment, ...]:
        return tuple(sorted(comments, key=lambda c: c.created_at))

    @field_validator("events")
    @classmethod
    def _events_in_time_order(cls, events: tuple[TicketEvent, ...]) -> tuple[TicketEvent, ...]:
        return tuple(sorted(events, key=lambda e: e.at))

    @property
    def key(self) -> str:
        """Stable identity of this ticket across runs (see :attr:`SourceRef.key`)."""
        return self.source.key

    @property
    def last_activity_at(self) -> datetime:
        """The later of ``updated_at`` and the newest comment."""
        if self.comments and self.comments[-1].created_at > self.updated_at:
            return self.comments[-1].created_at
        return self.updated_at
