"""What one message says: sentiment, frustration and cues, computed once per comment.

:class:`TextSignals` is the per-text result. A :class:`TextAnalyzer` produces it
(:func:`~empathy_firewall.signals.analysis.analyze_text` is the default one).
:class:`LexiconTextAnalyzer` builds one from any
:class:`~empathy_firewall.signals.sentiment.SentimentAnalyzer` plus the cue lexicon, so a
plain polarity backend (TextBlob, VADER, your own) can be swapped in.
:class:`CommentCache` makes sure each comment is analysed once: its key is the comment's
identity together with its text, so an edited comment is analysed again.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from empathy_firewall.signals.cues import FRUSTRATION_KINDS, Cue, CueKind, detect_cues
from empathy_firewall.signals.sentiment import SentimentAnalyzer

__all__ = [
    "CommentCache",
    "LexiconTextAnalyzer",
    "TextAnalyzer",
    "TextSignals",
]


@dataclass(frozen=True, slots=True)
class TextSignals:
    """What one text says.

    ``sentiment`` is in [-1, 1] (negative .. positive), ``frustration`` in [0, 1], and
    ``cues`` lists every cue found, with its span in the text. ``language`` is an ISO 639-1
    code or ``"und"`` (undetermined); ``label`` is negative, neutral or positive and
    ``probabilities`` are P(negative), P(neutral), P(positive). Analyzers without a
    classifier (:class:`LexiconTextAnalyzer`) derive the label from the sentiment's sign.
    """

    sentiment: float
    frustration: float
    cues: tuple[Cue, ...]
    language: str = "und"
    label: str = "neutral"
    probabilities: tuple[float, float, float] = (0.0, 1.0, 0.0)


@runtime_checkable
class TextAnalyzer(Protocol):
    """Turns a text into :class:`TextSignals`. Must be pure and deterministic."""

    def analyze(self, text: str) -> TextSignals:
        """Analyse one text."""
        ...


# How much each kind of cue, on its own, says about frustration (a probability-like weight).
# Frustration is not labelled in any data we have, so these are set by hand, like the cue
# lexicon itself. Every analyzer derives frustration through frustration_from.
CUE_WEIGHTS: dict[CueKind, float] = {
    CueKind.REPEAT_CONTACT: 0.35,
    CueKind.WAITING: 0.25,
    CueKind.SHOUTING: 0.3,
    CueKind.THREAT_CANCEL: 0.45,
    CueKind.THREAT_ESCALATE: 0.4,
    CueKind.THREAT_PUBLIC: 0.45,
    CueKind.THREAT_LEGAL: 0.55,
    CueKind.ASKS_FOR_HUMAN: 0.3,
    CueKind.SARCASM: 0.3,
    CueKind.RESIGNATION: 0.4,
    CueKind.THANKS_BUT: 0.15,
}
# Kinds that make thanks in the same message not count as calming.
_UNDO_GRATITUDE = frozenset((CueKind.SARCASM, CueKind.THANKS_BUT))
_GRATITUDE_DAMPING = 0.6


def frustration_from(
    sentiment: float, cues: tuple[Cue, ...], *, negativity_weight: float = 0.6
) -> float:
    """Combine polarity and cues into a frustration level in [0, 1] (noisy-OR).

    The negative part of the sentiment (weighted by ``negativity_weight``) and each
    distinct frustration cue kind are independent pieces of evidence; gratitude damps the
    result unless the thanks are sarcastic or followed by a "but".
    """
    calm = 1.0 - negativity_weight * max(0.0, -sentiment)
    kinds = {cue.kind for cue in cues}
    for kind in kinds & FRUSTRATION_KINDS:
        calm *= 1.0 - CUE_WEIGHTS[kind]
    level = 1.0 - calm
    if CueKind.GRATITUDE in kinds and not kinds & _UNDO_GRATITUDE:
        level *= _GRATITUDE_DAMPING
    return round(min(1.0, max(0.0, level)), 6)


class LexiconTextAnalyzer:
    """Any polarity backend plus the support-domain cue lexicon."""

    def __init__(self, sentiment: SentimentAnalyzer) -> None:
        self.sentiment = sentiment

    def analyze(self, text: str) -> TextSignals:
        """Score polarity with the backend, find cues, derive frustration."""
        polarity = self.sentiment.score(text)
        cues = detect_cues(text)
        label = "positive" if polarity > 0 else "negative" if polarity < 0 else "neutral"
        return TextSignals(polarity, frustration_from(polarity, cues), cues, label=label)


class CommentCache:
    """Analyses each (comment key, text) once; a bounded LRU keeps memory flat.

    ``hits`` and ``misses`` count cache use, for benchmarks and tests.
    """

    def __init__(self, analyzer: TextAnalyzer, max_entries: int = 200_000) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.analyzer = analyzer
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[str, str], TextSignals] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def analyze(self, comment_key: str, text: str) -> TextSignals:
        """Signals for one comment; computed on first sight, then served from the cache."""
        key = (comment_key, text)
        found = self._entries.get(key)
        if found is not None:
            self.hits += 1
            self._entries.move_to_end(key)
            return found
        self.misses += 1
        result = self.analyzer.analyze(text)
        self._entries[key] = result
        if len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return result

    def __len__(self) -> int:
        return len(self._entries)
