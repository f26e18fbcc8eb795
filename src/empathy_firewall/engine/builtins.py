"""The built-in catalogue: every signal path and operator rule packs can use.

Registered through the same decorators a user calls (see :mod:`.registry`). The reference
in ``docs/signals.md`` is generated from this catalogue (``empathy-firewall rules paths``).
"""

from __future__ import annotations

from empathy_firewall.engine.narrative import awaiting_substance
from empathy_firewall.engine.recognition import agent_helped, thanks_but
from empathy_firewall.engine.registry import Registry, default_registry
from empathy_firewall.engine.types import PathSpec, Value, ValueType
from empathy_firewall.models import Channel, Priority, TicketStatus
from empathy_firewall.signals.cues import CueKind
from empathy_firewall.signals.enrich import Signals
from empathy_firewall.signals.problem import PROBLEMS
from empathy_firewall.signals.recovery import REASONS, SEVERITIES

__all__ = ["register_builtins"]

N, INT, B, S, L = (
    ValueType.NUMBER,
    ValueType.INTEGER,
    ValueType.BOOLEAN,
    ValueType.STRING,
    ValueType.STRINGS,
)
_OPEN = frozenset({TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.ON_HOLD})
_LEVELS = ("none", "low", "medium", "high")


def _register_paths(reg: Registry) -> None:
    p = reg.signal_path

    # -- the ticket ------------------------------------------------------------
    p("ticket.status", S, "Ticket status.", choices=tuple(TicketStatus))(
        lambda s: s.ticket.status.value
    )
    p("ticket.is_open", B, "True unless the ticket is solved or closed.")(
        lambda s: s.ticket.status in _OPEN
    )
    p("ticket.priority", S, "Ticket priority.", choices=tuple(Priority))(
        lambda s: s.ticket.priority.value
    )
    p("ticket.channel", S, "Channel the ticket arrived through.", choices=tuple(Channel))(
        lambda s: s.ticket.channel.value
    )
    p("ticket.group", S, "The group the ticket sits in.", nullable=True)(lambda s: s.ticket.group)
    p("ticket.tags", L, "Tags on the ticket.")(lambda s: s.ticket.tags)
    p("ticket.age_hours", N, "Time since the ticket was created.", unit="hours")(
        lambda s: (s.now - s.ticket.created_at).total_seconds() / 3600.0
    )
    p(
        "ticket.latest_customer_comment",
        S,
        "Id of the latest public customer message; identifies a customer turn.",
        nullable=True,
    )(lambda s: s.messages[-1].comment_id if s.messages else None)
    p("ticket.comments", INT, "Number of comments of any kind.", unit="comments")(
        lambda s: len(s.ticket.comments)
    )
    p(
        "ticket.agent_helped",
        B,
        "An agent replied publicly before the customer's latest message.",
    )(lambda s: agent_helped(s.ticket))

    # -- customer emotion ------------------------------------------------------
    e = "Customer sentiment"
    p("sentiment.first", N, f"{e} of the first customer message.", unit="[-1, 1]", nullable=True)(
        lambda s: s.emotion.first
    )
    p("sentiment.latest", N, f"{e} of the latest customer message.", unit="[-1, 1]", nullable=True)(
        lambda s: s.emotion.latest
    )
    p("sentiment.mean", N, f"{e}, mean over all customer messages.", unit="[-1, 1]", nullable=True)(
        lambda s: s.emotion.mean
    )
    p("sentiment.min", N, f"{e} of the most negative message.", unit="[-1, 1]", nullable=True)(
        lambda s: s.emotion.min
    )
    p(
        "sentiment.delta",
        N,
        "Latest minus first customer sentiment.",
        unit="[-2, 2]",
        nullable=True,
    )(lambda s: s.emotion.delta)
    p(
        "sentiment.trend",
        N,
        "Least-squares slope of sentiment over the recent customer messages.",
        unit="sentiment per message",
        nullable=True,
    )(lambda s: s.emotion.trend)
    p(
        "sentiment.consecutive_negative",
        INT,
        "Customer messages in a row, counting back from the latest, below the negative bound.",
        unit="messages",
    )(lambda s: s.emotion.consecutive_negative)
    p("sentiment.customer_messages", INT, "Public customer messages.", unit="messages")(
        lambda s: s.emotion.customer_messages
    )
    p(
        "sentiment.turned_positive",
        B,
        "An earlier customer message was negative and the latest is positive.",
    )(lambda s: s.emotion.turned_positive)
    p(
        "frustration.score",
        N,
        "Frustration of the latest customer message, or 0.8x that of one of the two before it "
        "if higher.",
        unit="[0, 1]",
    )(lambda s: s.emotion.frustration)
    p("frustration.level", S, "frustration.score as a level.", choices=_LEVELS)(
        lambda s: s.emotion.frustration_level
    )
    p("cues.kinds", L, "Kinds of cue found in any customer message.", choices=tuple(CueKind))(
        lambda s: s.emotion.cue_kinds
    )
    p(
        "cues.latest_kinds",
        L,
        "Kinds of cue found in the latest customer message.",
        choices=tuple(CueKind),
    )(lambda s: s.emotion.latest_kinds)
    p(
        "cues.latest_thanks_but",
        B,
        "The latest customer message thanks or praises and, in the same message, complains "
        '("thanks, but ...").',
    )(lambda s: _latest_thanks_but(s))
    p("cues.count", INT, "Cues of all kinds in all customer messages.", unit="cues")(
        lambda s: sum(s.emotion.cue_counts.values())
    )
    for kind in CueKind:
        p(
            f"cues.{kind.value}",
            INT,
            f"Cues of kind '{kind.value}' in all customer messages.",
            unit="cues",
        )(lambda s, k=kind: s.emotion.cue_counts.get(k, 0))  # type: ignore[misc]

    # -- internal friction -----------------------------------------------------
    p("friction.waiting", B, "The customer wrote and no agent has publicly replied since.")(
        lambda s: s.friction.waiting
    )
    p(
        "friction.waiting_minutes",
        N,
        "Time since the first unanswered customer message.",
        unit="minutes",
        nullable=True,
    )(lambda s: s.friction.waiting_minutes)
    p(
        "friction.waiting_since",
        S,
        "When the current wait began (ISO 8601); identifies a waiting episode.",
        nullable=True,
    )(lambda s: s.friction.waiting_since.isoformat() if s.friction.waiting_since else None)
    p(
        "friction.sla_target_minutes",
        N,
        "Reply-time target: the ticket's SLA, else the configured target for its priority.",
        unit="minutes",
        nullable=True,
    )(lambda s: s.friction.sla_target_minutes)
    p(
        "friction.sla_used_ratio",
        N,
        "waiting_minutes / sla_target_minutes (1.0 = the target is reached).",
        unit="ratio",
        nullable=True,
    )(lambda s: s.friction.sla_used_ratio)
    p(
        "friction.minutes_to_breach",
        N,
        "Time left before the SLA is breached; negative once breached.",
        unit="minutes",
        nullable=True,
    )(lambda s: s.friction.minutes_to_breach)
    p("friction.breached", B, "The customer is waiting past the SLA target.")(
        lambda s: s.friction.breached
    )
    p("friction.reassignments", INT, "Times the ticket changed hands.", unit="reassignments")(
        lambda s: s.friction.reassignments
    )
    p("friction.group_hops", INT, "Reassignments that moved the ticket to another group.")(
        lambda s: s.friction.group_hops
    )
    p("friction.reopens", INT, "Times the ticket was reopened after being solved.")(
        lambda s: s.friction.reopens
    )
    p(
        "friction.assignee_backlog",
        INT,
        "Open tickets of the assignee.",
        unit="tickets",
        nullable=True,
    )(lambda s: s.friction.assignee_backlog)
    p(
        "friction.assignee_load_ratio",
        N,
        "Assignee backlog / capacity.",
        unit="ratio",
        nullable=True,
    )(lambda s: s.friction.assignee_load_ratio)
    p("friction.assignee_overloaded", B, "Assignee backlog at or above the overload ratio.")(
        lambda s: s.friction.assignee_overloaded
    )
    p(
        "friction.group_backlog",
        INT,
        "Open tickets in the ticket's group (from the state store).",
        unit="tickets",
        nullable=True,
    )(lambda s: s.friction.group_backlog)
    p("handoff.pending", B, "Reassigned, and the new owner has not replied publicly yet.")(
        lambda s: s.handoff.pending
    )
    p(
        "handoff.awaiting_reply",
        B,
        "Reassigned, and the new owner has not replied publicly with substance since (a "
        'greeting or a holding line such as "I\'m looking into it" does not count).',
    )(lambda s: awaiting_substance(s.ticket))
    p(
        "handoff.minutes_since",
        N,
        "Time since the latest reassignment.",
        unit="minutes",
        nullable=True,
    )(lambda s: s.handoff.minutes_since)
    p(
        "handoff.at",
        S,
        "When the latest reassignment happened (ISO 8601); identifies a handoff.",
        nullable=True,
    )(lambda s: s.handoff.event.at.isoformat() if s.handoff.event else None)
    p("handoff.from_group", S, "Group before the latest reassignment.", nullable=True)(
        lambda s: s.handoff.event.from_group if s.handoff.event else None
    )
    p("handoff.to_group", S, "Group after the latest reassignment.", nullable=True)(
        lambda s: s.handoff.event.to_group if s.handoff.event else None
    )

    # -- the customer ----------------------------------------------------------
    p("customer.tier", S, "Loyalty tier (lower case, after alias mapping).", nullable=True)(
        lambda s: s.memory.tier
    )
    p("customer.lifetime_value", N, "Lifetime value.", unit="currency", nullable=True)(
        lambda s: s.memory.lifetime_value
    )
    p("customer.order_count", INT, "Orders placed.", unit="orders", nullable=True)(
        lambda s: s.memory.order_count
    )
    p("customer.past_tickets", INT, "Earlier tickets remembered.", unit="tickets")(
        lambda s: s.memory.past_tickets
    )
    p("customer.past_negative_tickets", INT, "Earlier tickets that went negative.", unit="tickets")(
        lambda s: s.memory.past_negative_tickets
    )
    p(
        "customer.past_sentiment",
        N,
        "Age-decayed mean sentiment of earlier tickets.",
        unit="[-1, 1]",
        nullable=True,
    )(lambda s: s.memory.past_sentiment)
    p(
        "customer.days_since_last_ticket",
        N,
        "Time since the latest earlier ticket.",
        unit="days",
        nullable=True,
    )(lambda s: s.memory.days_since_last_ticket)
    p("recovery.severity", S, "How much repair is needed.", choices=SEVERITIES)(
        lambda s: s.recovery.severity
    )
    p(
        "recovery.reasons",
        L,
        "What went wrong.",
        choices=REASONS,
    )(lambda s: s.recovery.reasons)
    p(
        "recovery.problem",
        S,
        "The kind of problem, from the subject and the customer's words.",
        choices=PROBLEMS,
    )(lambda s: s.recovery.problem)
    p(
        "recovery.valued",
        B,
        "A highly valued customer: a valued tier, lifetime value or order count.",
    )(lambda s: s.recovery.valued)
    p("recovery.history", S, "The customer's history.", choices=("new", "good", "strained"))(
        lambda s: s.recovery.history
    )
    p(
        "recovery.credit",
        N,
        "Goodwill credit to suggest, within the tier's policy cap.",
        unit="currency",
        nullable=True,
    )(lambda s: s.recovery.credit)

    # -- the agent (opted-in only; private) -----------------------------------------
    p("agent.assigned", B, "The ticket has an assignee.")(lambda s: s.ticket.assignee is not None)
    p("agent.tracked", B, "The assignee opted in to strain tracking.", private=True)(
        lambda s: s.strain.tracked
    )
    p(
        "agent.break_prompts",
        B,
        "The assignee opted in to break prompts.",
        private=True,
    )(lambda s: s.ticket.assignee is not None and s.ticket.assignee.opt_in.break_prompts)
    p(
        "agent.recognition",
        B,
        "The assignee opted in to recognition of positive moments.",
        private=True,
    )(lambda s: s.ticket.assignee is not None and s.ticket.assignee.opt_in.recognition)
    p(
        "agent.load",
        N,
        "Weighted hard interactions in the care window.",
        unit="weighted interactions",
        nullable=True,
        private=True,
    )(lambda s: s.strain.load)
    p(
        "agent.load_ratio",
        N,
        "agent.load / the overload threshold.",
        unit="ratio",
        nullable=True,
        private=True,
    )(lambda s: s.strain.load_ratio)
    p(
        "agent.hard_interactions",
        INT,
        "Hard interactions in the care window.",
        unit="interactions",
        nullable=True,
        private=True,
    )(lambda s: s.strain.hard_interactions)
    p(
        "agent.unbroken_minutes",
        N,
        "Length of the current stretch without a break.",
        unit="minutes",
        nullable=True,
        private=True,
    )(lambda s: s.strain.unbroken_minutes)
    p("agent.overloaded", B, "Load at or above the threshold.", private=True)(
        lambda s: s.strain.overloaded
    )
    p("agent.needs_break", B, "Overloaded or on a long unbroken stretch.", private=True)(
        lambda s: s.strain.needs_break
    )
    p(
        "team.headroom",
        L,
        "Opted-in agents with headroom (only computed when the assignee is overloaded).",
        private=True,
    )(lambda s: s.headroom)


def _latest_thanks_but(signals: Signals) -> bool:
    if not signals.messages:
        return False
    latest = signals.messages[-1].comment_id
    for comment in signals.ticket.comments:
        if comment.id == latest:
            return thanks_but(comment.text, signals.ticket.requester.language)
    return False


# -- operators ---------------------------------------------------------------------


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(value: object, spec: PathSpec) -> float:
    if not _is_number(value):
        raise ValueError(f"expects a number for {spec.path} ({spec.type}), got {value!r}")
    return float(value)  # type: ignore[arg-type]


def _scalar(value: object, spec: PathSpec) -> Value:
    if spec.type in (N, INT):
        return _number(value, spec)
    if spec.type is B:
        if not isinstance(value, bool):
            raise ValueError(f"expects true or false for {spec.path}, got {value!r}")
        return value
    if not isinstance(value, str):
        raise ValueError(f"expects a string for {spec.path}, got {value!r}")
    if spec.choices is not None and value not in spec.choices:
        raise ValueError(f"{value!r} is not one of {', '.join(spec.choices)} for {spec.path}")
    return value


def _scalar_list(value: object, spec: PathSpec) -> frozenset[Value]:
    if not isinstance(value, list) or not value:
        raise ValueError(f"expects a non-empty list for {spec.path}, got {value!r}")
    item_spec = spec
    if spec.type is L:
        item_spec = PathSpec(spec.path, S, spec.doc, spec.get, choices=spec.choices)
    return frozenset(_scalar(v, item_spec) for v in value)


def _string_item(value: object, spec: PathSpec) -> str:
    item = _scalar(value, PathSpec(spec.path, S, spec.doc, spec.get, choices=spec.choices))
    assert isinstance(item, str)
    return item


def _bool(value: object, spec: PathSpec) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expects true or false, got {value!r}")
    return value


def _range(value: object, spec: PathSpec) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError(f"expects [low, high] for {spec.path}, got {value!r}")
    low, high = _number(value[0], spec), _number(value[1], spec)
    if low > high:
        raise ValueError(f"expects low <= high, got [{low}, {high}]")
    return low, high


def _register_operators(reg: Registry) -> None:
    numeric = frozenset({N, INT})
    scalars = frozenset({N, INT, B, S})
    op = reg.operator
    op("lt", numeric, "Less than.", _number)(lambda a, b: a < b)
    op("lte", numeric, "Less than or equal.", _number)(lambda a, b: a <= b)
    op("gt", numeric, "Greater than.", _number)(lambda a, b: a > b)
    op("gte", numeric, "Greater than or equal.", _number)(lambda a, b: a >= b)
    op("between", numeric, "Within [low, high], both included.", _range)(
        lambda a, b: b[0] <= a <= b[1]
    )
    op("eq", scalars, "Equal.", _scalar)(lambda a, b: a == b)
    op("ne", scalars, "Not equal.", _scalar)(lambda a, b: a != b)
    op("in", scalars, "One of the listed values.", _scalar_list)(lambda a, b: a in b)
    op("not_in", scalars, "None of the listed values.", _scalar_list)(lambda a, b: a not in b)
    op("is", frozenset({B}), "Boolean test.", _bool)(lambda a, b: a is b)
    op("contains", frozenset({L}), "The list holds this value.", _string_item)(lambda a, b: b in a)
    op("not_contains", frozenset({L}), "The list does not hold this value.", _string_item)(
        lambda a, b: b not in a
    )
    op("contains_any", frozenset({L}), "The list holds at least one of these.", _scalar_list)(
        lambda a, b: not b.isdisjoint(a)
    )
    op("contains_all", frozenset({L}), "The list holds all of these.", _scalar_list)(
        lambda a, b: b.issubset(a)
    )
    op("empty", frozenset({L}), "The list is empty (true) or not (false).", _bool)(
        lambda a, b: (len(a) == 0) is b
    )
    # `exists` is special-cased by the condition compiler: it is the one operator that
    # sees null values.
    op("exists", frozenset({N, INT, B, S, L}), "The value is known (true) or not (false).", _bool)(
        lambda a, b: b
    )


def _register_conditions(reg: Registry) -> None:
    @reg.condition("sla_at_risk")
    def sla_at_risk(signals: Signals, ratio: float = 0.8, minutes: float = 60.0) -> bool:
        """The customer is waiting and the SLA is breached, mostly used up, or close."""
        f = signals.friction
        if not f.waiting:
            return False
        if f.breached:
            return True
        used = f.sla_used_ratio is not None and f.sla_used_ratio >= ratio
        close = f.minutes_to_breach is not None and f.minutes_to_breach <= minutes
        return used or close

    @reg.condition("cue_in_latest")
    def cue_in_latest(signals: Signals, kind: str) -> bool:
        """The latest customer message carries a cue of this kind."""
        return kind in signals.emotion.latest_kinds


def register_builtins(reg: Registry) -> None:
    """Register the built-in paths, operators and named conditions into ``reg``."""
    _register_paths(reg)
    _register_operators(reg)
    _register_conditions(reg)


register_builtins(default_registry)
