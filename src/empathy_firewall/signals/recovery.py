"""Service recovery: how badly things went, and a gesture fitted to the customer.

``severity`` counts what went wrong (reasons): an SLA breach, a long breach (a wait of
``long_breach_ratio`` times the target, 2x by default), a reopen, repeated contact, a
strong negative turn (latest sentiment at least 0.5 below the first, or a recent trend of
-0.25 per message or steeper ending at -0.5 or below), a threat. None = 0 reasons,
minor = 1, moderate = 2, severe = 3+ or any legal threat. When something went wrong, a
customer whose earlier tickets went badly (``strained`` history) moves up one step, and so
does a highly valued one (a valued tier, lifetime value or order count, see
:class:`~empathy_firewall.settings.RecoveryPolicy`); never past severe.

The gesture fits the problem (:mod:`.problem`): a billing error is repaired by refunding
that charge (no goodwill credit instead of it; a credit on top only when severe), a parcel
that never came by sending it again, and so on. A goodwill credit stays within the tier's
cap: half of it when moderate, all of it when severe. ``explain`` says, in plain words,
every reason and every factor that set the severity and the gesture.
Everything here is a suggestion for an agent; nothing is ever issued.
"""

from __future__ import annotations

from dataclasses import dataclass

from empathy_firewall.settings import RecoveryPolicy
from empathy_firewall.signals.cues import CueKind
from empathy_firewall.signals.emotion import Emotion
from empathy_firewall.signals.friction import Friction
from empathy_firewall.signals.memory import CustomerMemory

__all__ = ["REASONS", "SEVERITIES", "Recovery", "recovery_of"]

SEVERITIES = ("none", "minor", "moderate", "severe")
REASONS = ("sla_breach", "long_breach", "reopened", "repeated_contact", "negative_turn", "threat")
_STRONG_NEGATIVE = -0.5
_SLIDING_TREND = -0.25
_THREATS = (CueKind.THREAT_CANCEL, CueKind.THREAT_ESCALATE, CueKind.THREAT_PUBLIC)

# What repairs each kind of problem, before anything for the inconvenience.
_REPAIR = {
    "billing": "refund the wrong charge in full (the charge itself, not a goodwill credit)",
    "delivery": "send it again by the fastest shipping at our cost, or refund it if they prefer",
    "defect": "a replacement or a full refund, their choice, with a prepaid return",
    "access": "restore their access with them now (a call or a live chat), then confirm it",
    "service": "fix it or give a date for the fix, and credit the time it did not work "
    "if their plan allows",
    "other": "fix what went wrong and say what you did",
}
_PROBLEM_WORDS = {
    "billing": "a billing error",
    "delivery": "an order that did not arrive as it should",
    "defect": "a faulty or damaged item",
    "access": "they cannot get into their account",
    "service": "the service is not working for them",
}
_CARE = {
    "minor": "a sincere apology that names what went wrong, and a clear next step with a time",
    "moderate": "a sincere apology that names what went wrong, and a committed follow-up time",
    "severe": (
        "a personal call or message from a senior agent or team lead, an apology that owns "
        "the failure, and a committed time"
    ),
}


@dataclass(frozen=True, slots=True)
class Recovery:
    """How much repair this customer relationship needs, and what to suggest."""

    severity: str
    reasons: tuple[str, ...]
    history: str
    gesture: str | None
    credit: float | None
    currency: str
    problem: str = "other"
    valued: bool = False
    explain: tuple[str, ...] = ()


def _valued(memory: CustomerMemory, policy: RecoveryPolicy) -> list[str]:
    """Why the customer counts as highly valued (empty if they do not)."""
    why = []
    if memory.tier is not None and memory.tier in policy.valued_tiers:
        why.append(f"{memory.tier} tier")
    if memory.order_count is not None and memory.order_count >= policy.valued_order_count:
        why.append(f"{memory.order_count} orders")
    if memory.lifetime_value is not None and memory.lifetime_value >= policy.valued_lifetime_value:
        why.append(f"lifetime value {memory.lifetime_value:,.0f} {policy.currency}")
    return why


def _reasons(emotion: Emotion, friction: Friction, policy: RecoveryPolicy) -> list[str]:
    reasons: list[str] = []
    if friction.breached:
        reasons.append("sla_breach")
        ratio = friction.sla_used_ratio
        if ratio is not None and ratio >= policy.long_breach_ratio:
            reasons.append("long_breach")
    if friction.reopens:
        reasons.append("reopened")
    if emotion.cue_counts.get(CueKind.REPEAT_CONTACT) or friction.reassignments >= 2:
        reasons.append("repeated_contact")
    got_worse = emotion.delta is not None and emotion.delta <= _STRONG_NEGATIVE
    sliding = (
        emotion.trend is not None
        and emotion.trend <= _SLIDING_TREND
        and emotion.latest is not None
        and emotion.latest <= _STRONG_NEGATIVE
    )
    if got_worse or sliding:
        reasons.append("negative_turn")
    legal = bool(emotion.cue_counts.get(CueKind.THREAT_LEGAL))
    if legal or any(emotion.cue_counts.get(kind) for kind in _THREATS):
        reasons.append("threat")
    return reasons


def _said(reason: str, friction: Friction, emotion: Emotion) -> str:
    if reason == "sla_breach":
        used = friction.sla_used_ratio
        return "the reply target was missed" + (f" ({used:.0%} of it used)" if used else "")
    if reason == "long_breach":
        return "the wait is more than twice the reply target"
    if reason == "reopened":
        return f"the ticket was reopened ({friction.reopens}x)"
    if reason == "repeated_contact":
        return "the customer had to repeat themselves or was passed around"
    if reason == "negative_turn":
        return "their mood fell sharply during the conversation"
    if emotion.cue_counts.get(CueKind.THREAT_LEGAL):
        return "they mentioned legal steps"
    return "they threatened to leave, escalate or go public"


def recovery_of(
    emotion: Emotion,
    friction: Friction,
    memory: CustomerMemory,
    policy: RecoveryPolicy,
    problem: str = "other",
) -> Recovery:
    """Assess severity and suggest a gesture fitted to the problem, within policy."""
    reasons = _reasons(emotion, friction, policy)
    if memory.past_tickets == 0:
        history = "new"
    elif memory.past_negative_tickets or (
        memory.past_sentiment is not None and memory.past_sentiment < -0.2
    ):
        history = "strained"
    else:
        history = "good"

    explain = [_said(r, friction, emotion) for r in reasons]
    step = min(len(reasons), 3)
    if emotion.cue_counts.get(CueKind.THREAT_LEGAL):
        step = 3
    valued_by = _valued(memory, policy)
    if step and history == "strained" and step < 3:
        step += 1
        explain.append(
            f"one step up: {memory.past_negative_tickets} of their {memory.past_tickets} "
            "earlier tickets went badly"
        )
    if step and valued_by and step < 3:
        step += 1
        explain.append("one step up: a highly valued customer (" + ", ".join(valued_by) + ")")
    severity = SEVERITIES[step]

    tier = memory.tier or policy.default_tier
    cap = policy.credit_cap.get(tier, policy.credit_cap.get(policy.default_tier, 0.0))
    credit: float | None = None
    if problem == "billing" and severity != "severe":
        credit = None  # the refund is the repair; a token credit instead of it would insult
    elif severity == "moderate" and cap > 0:
        credit = round(cap / 2, 2)
    elif severity == "severe" and cap > 0:
        credit = cap
    gesture = None
    if severity in _CARE:
        gesture = f"{_REPAIR.get(problem, _REPAIR['other'])}; {_CARE[severity]}"
    if problem in _PROBLEM_WORDS and severity != "none":
        explain.append(f"{_PROBLEM_WORDS[problem]}: the gesture starts with repairing that")
    return Recovery(
        severity=severity,
        reasons=tuple(reasons),
        history=history,
        gesture=gesture,
        credit=credit,
        currency=policy.currency,
        problem=problem,
        valued=bool(valued_by),
        explain=tuple(explain),
    )
