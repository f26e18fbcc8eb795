"""The library's default text analysis: the fitted multilingual scorer, built once.

This module sits above :mod:`empathy_firewall.signals.text` (the vocabulary: signals,
the analyzer protocol, the comment cache) and :mod:`empathy_firewall.signals.scorer` (the
model), so neither needs the other's module to exist first.
"""

from __future__ import annotations

from functools import cache

from empathy_firewall.signals.scorer import SupportScorer
from empathy_firewall.signals.text import TextAnalyzer, TextSignals

__all__ = ["analyze_text", "default_text_analyzer"]


@cache
def default_text_analyzer() -> TextAnalyzer:
    """The analyzer the engine uses unless told otherwise (built once per process).

    The fitted support-domain scorer (:class:`~empathy_firewall.signals.scorer.SupportScorer`);
    ``LexiconTextAnalyzer(TextBlobAnalyzer())`` remains available as the plain-polarity option.
    """
    return SupportScorer()


def analyze_text(text: str) -> TextSignals:
    """Analyse one text with the default analyzer: sentiment, frustration and cues."""
    return default_text_analyzer().analyze(text)
