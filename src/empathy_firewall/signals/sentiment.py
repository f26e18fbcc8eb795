"""Sentiment per message, through a swappable analyzer, computed once per comment.

A :class:`SentimentAnalyzer` is anything with ``score(text) -> float`` in [-1, 1]
(negative .. positive). :class:`TextBlobAnalyzer` is the base backend. Per-comment caching
lives in :mod:`empathy_firewall.signals.text`, which combines sentiment with cues.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["SentimentAnalyzer", "TextBlobAnalyzer"]


@runtime_checkable
class SentimentAnalyzer(Protocol):
    """Scores a text from -1 (very negative) to +1 (very positive); 0 is neutral."""

    def score(self, text: str) -> float:
        """Return the sentiment of ``text`` in [-1, 1]."""
        ...


class TextBlobAnalyzer:
    """TextBlob's pattern-lexicon polarity. Ships with TextBlob; needs no download."""

    def __init__(self) -> None:
        from textblob.en.sentiments import PatternAnalyzer

        self._analyzer = PatternAnalyzer()

    def score(self, text: str) -> float:
        """TextBlob polarity, clamped to [-1, 1]."""
        if not text.strip():
            return 0.0
        polarity = float(self._analyzer.analyze(text)[0])
        return max(-1.0, min(1.0, polarity))
