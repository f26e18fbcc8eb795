"""Customer emotion across a conversation: trajectory, frustration level and cue evidence.

Only the customer's public messages count. Units: sentiment in [-1, 1]; trend in sentiment
units per message (least-squares slope over the recent window); frustration in [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from empathy_firewall.settings import EmotionSettings
from empathy_firewall.signals.cues import Cue, CueKind

__all__ = ["CueEvidence", "Emotion", "MessageSignals", "emotion_of", "frustration_level"]

_RECENT_FOR_FRUSTRATION = 3
_OLDER_DISCOUNT = 0.8


@dataclass(frozen=True, slots=True)
class MessageSignals:
    """The analysed signals of one customer message."""

    comment_id: str
    sentiment: float
    frustration: float
    cues: tuple[Cue, ...]
    language: str | None = None
    """The language the analyzer found (ISO 639-1, or "und"), when it reports one."""


@dataclass(frozen=True, slots=True)
class CueEvidence:
    """A cue located in a particular comment, ready to quote."""

    comment_id: str
    cue: Cue


@dataclass(frozen=True, slots=True)
class Emotion:
    """How the customer feels, and how that changed over the conversation."""

    customer_messages: int
    first: float | None
    latest: float | None
    mean: float | None
    min: float | None
    delta: float | None
    trend: float | None
    consecutive_negative: int
    turned_positive: bool
    frustration: float
    frustration_level: str
    cue_counts: dict[CueKind, int]
    latest_kinds: tuple[str, ...]
    evidence: tuple[CueEvidence, ...]

    @property
    def cue_kinds(self) -> tuple[str, ...]:
        """Kinds of cue seen anywhere in the customer's messages, sorted."""
        return tuple(sorted(kind.value for kind, n in self.cue_counts.items() if n))


def frustration_level(score: float, levels: tuple[float, float, float]) -> str:
    """Name the level of a frustration score: none, low, medium or high."""
    low, medium, high = levels
    if score >= high:
        return "high"
    if score >= medium:
        return "medium"
    if score >= low:
        return "low"
    return "none"


def _slope(values: Sequence[float]) -> float:
    n = len(values)
    mean_x = (n - 1) / 2
    mean_y = sum(values) / n
    num = sum((i - mean_x) * (v - mean_y) for i, v in enumerate(values))
    den = sum((i - mean_x) ** 2 for i in range(n))
    return num / den


def emotion_of(messages: Sequence[MessageSignals], settings: EmotionSettings) -> Emotion:
    """Summarize the customer's messages (oldest first) into an :class:`Emotion`."""
    if not messages:
        return Emotion(0, None, None, None, None, None, None, 0, False, 0.0, "none", {}, (), ())
    scores = [m.sentiment for m in messages]
    consecutive = 0
    for score in reversed(scores):
        if score >= settings.negative_below:
            break
        consecutive += 1
    recent = scores[-settings.trend_window :]
    trend = _slope(recent) if len(recent) >= 2 else None
    low = min(scores)
    turned_positive = (
        len(scores) >= 2 and low < settings.negative_below and scores[-1] > settings.positive_above
    )
    latest_f = messages[-1].frustration
    older = [m.frustration for m in messages[-_RECENT_FOR_FRUSTRATION:-1]]
    frustration = max([latest_f, *(_OLDER_DISCOUNT * f for f in older)])
    if turned_positive:
        frustration = latest_f
    counts: dict[CueKind, int] = {}
    evidence: list[CueEvidence] = []
    for message in messages:
        for cue in message.cues:
            counts[cue.kind] = counts.get(cue.kind, 0) + 1
            evidence.append(CueEvidence(message.comment_id, cue))
    latest_kinds = tuple(sorted({c.kind.value for c in messages[-1].cues}))
    return Emotion(
        customer_messages=len(scores),
        first=scores[0],
        latest=scores[-1],
        mean=sum(scores) / len(scores),
        min=low,
        delta=scores[-1] - scores[0],
        trend=trend,
        consecutive_negative=consecutive,
        turned_positive=turned_positive,
        frustration=round(frustration, 6),
        frustration_level=frustration_level(frustration, settings.frustration_levels),
        cue_counts=counts,
        latest_kinds=latest_kinds,
        evidence=tuple(evidence),
    )
