"""Service recovery: how badly things went, and a gesture fitted to the customer.

``severity`` counts what went wrong (reasons): an SLA breach, a reopen, repeated contact,
a strong negative turn (latest sentiment at least 0.5 below the first, or a recent
trend of -0.25 per message or steeper ending at -0.5 or below), a threat. None = 0
reasons, minor = 1, moderate = 2, severe = 3+ or any legal threat. A customer whose
earlier tickets went badly (``strained`` history) moves up one step. The gesture grows
with severity; a goodwill credit is suggested only within the tier's cap from the
:class:`~empathy_firewall.settings.RecoveryPolicy`.
Everything here is a suggestion for an agent; nothing is ever issued.
"""

from __future__ import annotations

from dataclasses import dataclass

from empathy_firewall.settings import RecoveryPolicy
from empathy_firewall.signals.cues import CueKind
from empathy_firewall.signals.emotion import Emotion
from empathy_firewall.signals.friction import Friction
from empathy_firewall.signals.memory import CustomerMemory

__all__ = ["SEVERITIES", "Recovery", "recovery_of"]

SEVERITIES = ("none", "minor", "moderate", "severe")
_STRONG_NEGATIVE = -0.5
_SLIDING_TREND = -0.25
_THREATS = (CueKind.THREAT_CANCEL, CueKind.THREAT_ESCALATE, CueKind.THREAT_PUBLIC)

_GESTURES = {
    "minor": "a sincere apology that names what went wrong, and a clear next step with a time",
    "moderate": (
        "a sincere apology that names what went wrong, a committed follow-up time, "
        "and one concrete thing done for them now"
    ),
    "severe": (
        "a personal call or message from a senior agent or team lead, an apology that owns "
        "the failure, and a concrete fix with a committed time"
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


def recovery_of(
    emotion: Emotion, friction: Friction, memory: CustomerMemory, policy: RecoveryPolicy
) -> Recovery:
    """Assess severity and suggest a gesture within policy."""
    reasons: list[str] = []
    if friction.breached:
        reasons.append("sla_breach")
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
    strong_turn = got_worse or sliding
    if strong_turn:
        reasons.append("negative_turn")
    legal = bool(emotion.cue_counts.get(CueKind.THREAT_LEGAL))
    if legal or any(emotion.cue_counts.get(kind) for kind in _THREATS):
        reasons.append("threat")

    if memory.past_tickets == 0:
        history = "new"
    elif memory.past_negative_tickets or (
        memory.past_sentiment is not None and memory.past_sentiment < -0.2
    ):
        history = "strained"
    else:
        history = "good"

    step = min(len(reasons), 3)
    if legal:
        step = 3
    if step and history == "strained":
        step = min(step + 1, 3)
    severity = SEVERITIES[step]
    tier = memory.tier or policy.default_tier
    cap = policy.credit_cap.get(tier, policy.credit_cap.get(policy.default_tier, 0.0))
    credit: float | None = None
    if severity == "moderate" and cap > 0:
        credit = round(cap / 2, 2)
    elif severity == "severe" and cap > 0:
        credit = cap
    return Recovery(
        severity=severity,
        reasons=tuple(reasons),
        history=history,
        gesture=_GESTURES.get(severity),
        credit=credit,
        currency=policy.currency,
    )
