"""Enrichment: one ticket plus its context become :class:`Signals`, computed once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from empathy_firewall.context import EvaluationContext
from empathy_firewall.models import Agent, Role, Ticket
from empathy_firewall.settings import AgentCareSettings
from empathy_firewall.signals.emotion import Emotion, MessageSignals, emotion_of
from empathy_firewall.signals.friction import Friction, Handoff, friction_of, handoff_of
from empathy_firewall.signals.memory import CustomerMemory, PastTicket, customer_key, memory_of
from empathy_firewall.signals.problem import problem_of
from empathy_firewall.signals.recovery import Recovery, recovery_of
from empathy_firewall.signals.roster import teammates_for
from empathy_firewall.signals.strain import NOT_TRACKED, AgentStrain, Interaction, strain_of

__all__ = ["Observation", "Signals", "agent_key", "enrich", "observation_of", "observe"]


@dataclass(frozen=True, slots=True)
class Signals:
    """Everything the firewall understood about one ticket at ``now``."""

    ticket: Ticket
    now: datetime
    messages: tuple[MessageSignals, ...]
    emotion: Emotion
    friction: Friction
    handoff: Handoff
    strain: AgentStrain
    memory: CustomerMemory
    recovery: Recovery
    headroom: tuple[str, ...]
    teammates: tuple[Agent, ...] = ()
    """Named teammates to suggest for a hard conversation (see :mod:`.roster`)."""


def agent_key(ticket: Ticket, agent_id: str) -> str:
    """Identity of an agent across tickets of one helpdesk account."""
    return f"{ticket.source.connector}:{ticket.source.account or ''}:{agent_id}"


def _customer_messages(ticket: Ticket, context: EvaluationContext) -> tuple[MessageSignals, ...]:
    texts = context.texts
    prefix = ticket.key + "#"
    out = []
    for comment in ticket.comments:
        if comment.author_role is Role.CUSTOMER and comment.public and comment.text:
            found = texts.analyze(prefix + comment.id, comment.text)
            # analyzers that tell the language (the multilingual scorer) pass it on
            language = getattr(found, "language", None)
            out.append(
                MessageSignals(
                    comment.id,
                    found.sentiment,
                    found.frustration,
                    found.cues,
                    language if isinstance(language, str) else None,
                )
            )
    return tuple(out)


_STRAIN_MEMO: dict[tuple[str, datetime, AgentCareSettings], tuple[object, AgentStrain]] = {}
_STRAIN_MEMO_MAX = 4096


def _strain(
    key: str, items: Sequence[Interaction], now: datetime, care: AgentCareSettings
) -> AgentStrain:
    """Strain of one agent, memoized while the history hands back the very same window.

    Every ticket of a busy agent asks the same question. A history that caches its windows
    (:class:`~empathy_firewall.signals.history.MemoryHistory` does, until it records
    something new) returns the same object, and only then is the earlier answer reused:
    the memo holds that object, so its identity cannot be taken by another.
    """
    memo_key = (key, now, care)
    found = _STRAIN_MEMO.get(memo_key)
    if found is not None and found[0] is items:
        return found[1]
    if len(_STRAIN_MEMO) >= _STRAIN_MEMO_MAX:
        _STRAIN_MEMO.clear()
    strain = strain_of(items, now, care)
    _STRAIN_MEMO[memo_key] = (items, strain)
    return strain


def enrich(ticket: Ticket, context: EvaluationContext) -> Signals:
    """Compute every signal of ``ticket`` at ``context.now``. Pure apart from the text cache."""
    settings = context.settings
    now = context.now
    messages = _customer_messages(ticket, context)
    emotion = emotion_of(messages, settings.emotion)
    friction = friction_of(ticket, now, settings.friction, context.backlog)
    handoff = handoff_of(ticket, now)
    assignee = ticket.assignee
    strain = NOT_TRACKED
    headroom: tuple[str, ...] = ()
    teammates: tuple[Agent, ...] = ()
    if assignee is not None and assignee.opt_in.strain_tracking:
        key = agent_key(ticket, assignee.id)
        care = settings.agent_care
        since = now - timedelta(hours=care.window_hours)
        strain = _strain(key, context.history.interactions(key, since), now, care)
        if strain.overloaded:
            below = care.headroom_below * care.overloaded_load
            headroom = tuple(context.history.agents_with_headroom(since, now, below, key))
            if context.agents:
                ids = (k.rsplit(":", 1)[-1] for k in headroom)
                teammates = teammates_for(ticket, ids, context.agents, settings.friction)
    memory = memory_of(
        ticket,
        context.history.past_tickets(customer_key(ticket)),
        now,
        settings.customer_fields,
        settings.memory,
    )
    recovery = recovery_of(emotion, friction, memory, settings.recovery, problem_of(ticket))
    return Signals(
        ticket,
        now,
        messages,
        emotion,
        friction,
        handoff,
        strain,
        memory,
        recovery,
        headroom,
        teammates,
    )


@dataclass(frozen=True, slots=True)
class Observation:
    """What a processed ticket adds to history: the customer's ticket, the agent's work."""

    customer_key: str
    past_ticket: PastTicket | None
    agent_key: str | None
    """The assignee's key when they opted in to strain tracking (their work is recorded)."""
    interactions: tuple[Interaction, ...]
    ticket_key: str | None = None
    """The ticket observed (None: an observation that records no assignment)."""
    assignee_key: str | None = None
    """Whom the ticket is assigned to now, opted in or not (None: nobody)."""


def observation_of(ticket: Ticket, context: EvaluationContext, hard_at: float) -> Observation:
    """What ``ticket`` teaches history, without computing its other signals.

    The same as ``observe(enrich(ticket, context), hard_at)``: only the customer messages
    and the emotion read into an observation, and neither depends on history.
    """
    messages = _customer_messages(ticket, context)
    emotion = emotion_of(messages, context.settings.emotion)
    return _observe(ticket, messages, emotion, hard_at)


def observe(signals: Signals, hard_at: float) -> Observation:
    """Derive what to remember from a processed ticket (pure).

    The assignee's public replies become interactions only if they opted in to strain
    tracking; each is weighted by the frustration or negativity of the customer message
    it answered (``hard_at`` decides which count as hard, see the strain module).
    """
    return _observe(signals.ticket, signals.messages, signals.emotion, hard_at)


def _observe(
    ticket: Ticket, messages: Sequence[MessageSignals], emotion: Emotion, hard_at: float
) -> Observation:
    past = None
    if emotion.mean is not None:
        # the newest comment (our own notes are not in the evaluation view), not
        # ``updated_at``, which the firewall's own writes move
        last = ticket.comments[-1].created_at if ticket.comments else ticket.created_at
        past = PastTicket(
            ticket.key,
            last,
            emotion.mean,
            emotion.min is not None and emotion.min < -0.2,
            created_at=ticket.created_at,
        )
    assignee = ticket.assignee
    assigned = agent_key(ticket, assignee.id) if assignee is not None else None
    if assignee is None or not assignee.opt_in.strain_tracking:
        return Observation(customer_key(ticket), past, None, (), ticket.key, assigned)
    by_id = {m.comment_id: m for m in messages}
    last_weight = 0.0
    items = []
    for comment in ticket.comments:
        msg = by_id.get(comment.id)
        if msg is not None:
            last_weight = max(msg.frustration, -msg.sentiment, 0.0)
        elif (
            comment.author_role is Role.AGENT
            and comment.public
            and comment.author_id == assignee.id
        ):
            weight = last_weight if last_weight >= hard_at else 0.0
            items.append(Interaction(f"{ticket.key}#{comment.id}", comment.created_at, weight))
            last_weight = 0.0
    return Observation(customer_key(ticket), past, assigned, tuple(items), ticket.key, assigned)
