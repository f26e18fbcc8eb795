"""Which language a customer wrote in, from py3langid's shipped model (no download).

py3langid (a maintained fork of langid.py) ships its naive-Bayes model inside the package and
scores a tweet-length text in tens of microseconds. We restrict it to the languages the
scorer supports plus their most common European neighbours, so that a Dutch or Catalan
message is recognised as *not* supported instead of being forced into Spanish or German,
and so that the ranking stays fast. Short or ambiguous texts ("ok", "Thanks!", an order
number) get ``"und"`` (undetermined) rather than a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

__all__ = ["SUPPORTED_LANGUAGES", "UNDETERMINED", "Language", "detect_language"]

#: languages the scorer is trained and evaluated on (ISO 639-1)
SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "es", "de", "fr", "pt", "it")
#: the answer when the text is too short or too ambiguous to tell
UNDETERMINED = "und"
# Neighbours that are easy to confuse with a supported language; knowing them lets us say
# "unsupported" instead of mislabelling. Fewer candidates also make the ranking faster.
_CANDIDATES: tuple[str, ...] = (
    *SUPPORTED_LANGUAGES,
    *("nl", "ca", "ro", "pl", "sv", "da", "no", "tr"),
)
#: below this posterior the answer is "und"
MIN_CONFIDENCE = 0.6
#: fewer letters than this: "und" without asking the model
MIN_LETTERS = 8
# texts at least this long are sent to the model without counting their letters first
_CHECK_LETTERS_BELOW = 48
#: only the start of a long message is read: enough to tell the language, and fast
MAX_CHARS = 400


@dataclass(frozen=True, slots=True)
class Language:
    """An identified language: ISO 639-1 ``code`` (or ``"und"``) and its posterior."""

    code: str
    confidence: float

    @property
    def supported(self) -> bool:
        """Whether the scorer (and the drafts) cover this language."""
        return self.code in SUPPORTED_LANGUAGES


@cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(_CANDIDATES))
    return identifier


def detect_language(text: str) -> Language:
    """The language of ``text``; ``Language("und", 0.0)`` when it cannot be told."""
    head = text[:MAX_CHARS]
    if len(head) < _CHECK_LETTERS_BELOW and sum(map(str.isalpha, head)) < MIN_LETTERS:
        return Language(UNDETERMINED, 0.0)
    code, confidence = _identifier().classify(head)
    confidence = float(confidence)
    if confidence != confidence or confidence < MIN_CONFIDENCE:  # NaN or unsure
        return Language(UNDETERMINED, 0.0 if confidence != confidence else confidence)
    return Language(str(code), round(confidence, 4))
