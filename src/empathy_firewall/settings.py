"""Tunable thresholds and policies behind the signals and the default rule pack.

Every field has a documented default that suits a typical support team; the sync and serve
configuration files carry a ``[settings]`` table with the same keys. Units are in the names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from empathy_firewall.models import Priority

__all__ = [
    "AgentCareSettings",
    "CustomerFieldMapping",
    "EmotionSettings",
    "FirewallSettings",
    "FrictionSettings",
    "InterimOffer",
    "MemorySettings",
    "RecoveryPolicy",
    "ReplySettings",
]


class _Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EmotionSettings(_Settings):
    """How sentiment scores become trajectories and frustration levels."""

    negative_below: float = Field(default=-0.2, ge=-1, le=0)
    """A customer message with sentiment below this counts as negative."""
    positive_above: float = Field(default=0.2, ge=0, le=1)
    """A customer message with sentiment above this counts as positive."""
    trend_window: int = Field(default=5, ge=2, le=50)
    """How many recent customer messages the trend is fitted over."""
    frustration_levels: tuple[float, float, float] = (0.25, 0.45, 0.7)
    """Lower bounds of the low, medium and high frustration levels."""

    @model_validator(mode="after")
    def _levels_increase(self) -> EmotionSettings:
        low, medium, high = self.frustration_levels
        if not 0 < low < medium < high <= 1:
            raise ValueError("frustration_levels must increase strictly within (0, 1]")
        return self


#: agent phrases that only hold or move a ticket ("we're looking into it"), several languages
DEFAULT_HOLDING_PHRASES: tuple[str, ...] = (
    "looking into",
    "look into this",
    "moved your ticket",
    "moved this to",
    "transferred",
    "passed this on",
    "passing this on",
    "passing this to",
    "passed your ticket",
    "handed this over",
    "handing this over",
    "escalated this",
    "escalated your",
    "get back to you",
    "come back to you",
    "will update you",
    "keep you posted",
    "bear with us",
    "checking this with",
    "estoy revisando",
    "te mantendremos informad",
    "je regarde cela",
    "je reviens vers vous",
    "ich schaue mir das",
    "ich melde mich",
    "estou verificando",
    "retorno em breve",
)


class FrictionSettings(_Settings):
    """Internal friction: SLA targets used when the helpdesk gives none, and overload."""

    reply_target_minutes: Mapping[Priority, float] = Field(
        default_factory=lambda: {
            Priority.URGENT: 60.0,
            Priority.HIGH: 240.0,
            Priority.NORMAL: 480.0,
            Priority.LOW: 1440.0,
        }
    )
    """Reply-time targets by priority, used when a ticket carries no SLA of its own."""
    default_capacity: int = Field(default=25, ge=1)
    """Open tickets an agent can carry comfortably, unless the agent record says otherwise."""
    overloaded_at: float = Field(default=1.0, gt=0)
    """Backlog / capacity ratio from which an assignee counts as overloaded."""
    capacity_per_agent: Mapping[str, Annotated[int, Field(ge=1)]] = Field(default_factory=dict)
    """Capacity by agent id, when the agent record gives none."""
    capacity_per_group: Mapping[str, Annotated[int, Field(ge=1)]] = Field(default_factory=dict)
    """Capacity of the agents working a group's tickets (by the ticket's group), when
    neither the agent record nor ``capacity_per_agent`` gives one."""
    holding_replies_end_wait: bool = False
    """Whether a public agent reply that only holds or moves the ticket ends the customer's
    wait (false: the wait goes on, as the customer feels it; see docs/signals.md)."""
    holding_phrases: tuple[str, ...] = DEFAULT_HOLDING_PHRASES
    """Phrases (case-insensitive) that make a public agent reply a holding reply, unless it
    asks the customer something (contains "?")."""
    handoff_reply_minutes: float = Field(default=10.0, ge=0)
    """A public agent reply at most this long before a reassignment is a handoff reply
    (a holding reply), unless it asks the customer something."""


class AgentCareSettings(_Settings):
    """Agent strain, for agents who opted in."""

    window_hours: float = Field(default=4.0, gt=0, le=72)
    """Rolling window over which hard interactions are counted."""
    hard_interaction_at: float = Field(default=0.45, gt=0, le=1)
    """A reply counts as hard when the message it answered had frustration or negativity
    at least this high; its weight is that value."""
    overloaded_load: float = Field(default=4.0, gt=0)
    """Emotional load (sum of weights in the window) from which an agent is overloaded."""
    break_gap_minutes: float = Field(default=20.0, gt=0)
    """A pause at least this long counts as a break."""
    long_stretch_minutes: float = Field(default=150.0, gt=0)
    """An unbroken stretch this long suggests a break."""
    headroom_below: float = Field(default=0.5, gt=0, le=1)
    """An opted-in agent has headroom while their load is below this share of
    ``overloaded_load``; only they are suggested for hard tickets."""


class CustomerFieldMapping(_Settings):
    """Which helpdesk fields hold loyalty data, and how tier names map onto ours."""

    tier_field: str | None = None
    """Customer (or ticket) field holding the loyalty tier, used when the connector gave none."""
    lifetime_value_field: str | None = None
    order_count_field: str | None = None
    tier_aliases: Mapping[str, str] = Field(default_factory=dict)
    """Maps helpdesk tier names (case-insensitive) to ours, e.g. ``{"vip": "platinum"}``."""


class MemorySettings(_Settings):
    """Customer memory: how fast the past fades."""

    half_life_days: float = Field(default=30.0, gt=0)
    """An earlier ticket's sentiment weighs half as much after this many days."""
    max_tickets: int = Field(default=20, ge=1, le=500)
    """Earlier tickets remembered per customer."""


class RecoveryPolicy(_Settings):
    """Service-recovery policy: the gestures an agent may offer, capped by tier."""

    credit_cap: Mapping[str, float] = Field(
        default_factory=lambda: {"standard": 0.0, "silver": 10.0, "gold": 25.0, "platinum": 50.0}
    )
    """The largest goodwill credit (in the account's currency) to suggest, by loyalty tier."""
    currency: str = "EUR"
    default_tier: str = "standard"
    valued_tiers: tuple[str, ...] = ("platinum",)
    """Tiers whose customers count as highly valued (one step more severe when something
    went wrong)."""
    valued_lifetime_value: float = Field(default=5000.0, ge=0)
    """A lifetime value from which a customer counts as highly valued."""
    valued_order_count: int = Field(default=50, ge=1)
    """An order count from which a customer counts as highly valued."""
    long_breach_ratio: float = Field(default=2.0, gt=1)
    """A wait of this many times the reply target counts as a second thing gone wrong."""


class InterimOffer(_Settings):
    """Something of value a waiting customer can use before the answer comes."""

    kind: Literal["status_page", "workaround", "article"]
    """What it is: a status page to follow, a workaround, or a self-service article."""
    url: str | None = None
    """Where it is (shown as is)."""
    text: Mapping[str, str] = Field(default_factory=dict)
    """A short description per language (``{"en": "...", "es": "..."}``), e.g. the
    workaround's steps. A language without one gets the link alone."""

    @model_validator(mode="after")
    def _something(self) -> InterimOffer:
        if not self.url and not self.text:
            raise ValueError("an interim offer needs a url or a text")
        return self


class ReplySettings(_Settings):
    """Customer-facing text: drafts by default, sending only if the admin opts in."""

    allow_public_replies: bool = False
    """If false (the default), every customer-facing text is a draft for the agent."""
    public_reply_rules: tuple[str, ...] = ()
    """Rule ids allowed to send public replies when ``allow_public_replies`` is on;
    empty means every rule that asks to."""
    breach_update_hours: float = Field(default=2.0, gt=0, le=72)
    """After a breach a delay draft promises no new full reply target: it says the request
    was escalated and that the agent writes again within this many hours."""
    interim: InterimOffer | None = None
    """Offered in delay drafts while the customer waits; none by default."""


class FirewallSettings(_Settings):
    """All the knobs, grouped by concern. ``FirewallSettings()`` gives the defaults."""

    emotion: EmotionSettings = Field(default_factory=EmotionSettings)
    friction: FrictionSettings = Field(default_factory=FrictionSettings)
    agent_care: AgentCareSettings = Field(default_factory=AgentCareSettings)
    customer_fields: CustomerFieldMapping = Field(default_factory=CustomerFieldMapping)
    memory: MemorySettings = Field(default_factory=MemorySettings)
    recovery: RecoveryPolicy = Field(default_factory=RecoveryPolicy)
    replies: ReplySettings = Field(default_factory=ReplySettings)
