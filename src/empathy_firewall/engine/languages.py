"""Which language the customer writes in, for texts addressed to them and for batons.

The customer record's language wins (helpdesks keep it, and agents answer in it). Without
one, the language the sentiment analyzer reported per message is used when it reports one
(a ``language`` attribute on the message signals); otherwise a small function-word count
over the customer's own messages decides. A language outside :data:`SUPPORTED`, or text
too short to tell, gives ``None``: callers then write nothing customer-facing rather than
guess (an English draft to a Dutch customer is worse than none).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from empathy_firewall.models import Role
from empathy_firewall.signals.enrich import Signals

__all__ = [
    "SUPPORTED",
    "customer_language",
    "detect_language",
    "normalize_language",
    "ticket_language",
]

#: languages the default drafts and cue lexicons cover
SUPPORTED = ("en", "es", "de", "fr", "pt", "it")

# Frequent function words, chosen to be distinctive between the six languages (words two of
# them share, like "a", "de", "la", "que", "e", are left out on purpose).


def _words(spaced: str) -> frozenset[str]:
    return frozenset(spaced.split())


_WORDS: dict[str, frozenset[str]] = {
    "en": _words(
        "the and is are was were you your my i it this that have has not with for of to "
        "what how can please thanks why still"
    ),
    "es": _words(
        "el los las es está estoy mi mis y pero por para con muy gracias hola no sí cuando "
        "porque pedido tengo ya sigo nadie desde hace"
    ),
    "de": _words(
        "der die das und ist ich nicht mit für sie mein meine ein eine noch schon bitte "
        "danke wieder seit kein keine auch aber wird habe"
    ),
    "fr": _words(
        "le les est et je vous mon ma mes pas avec pour une dans merci bonjour toujours "
        "déjà depuis mais ne ce suis ai commande"
    ),
    "pt": _words(
        "o os é não meu minha com para uma obrigado obrigada olá ainda já mas está estou "
        "pedido tenho você ninguém desde há"
    ),
    "it": _words(
        "il gli è non mio mia con per una grazie ciao ancora già ma sono ho ordine nessuno "
        "perché della questo anche"
    ),
}
# what analyzers report when they cannot tell ("und" is ISO 639's undetermined)
_UNKNOWN = frozenset({"und", "unknown", "xx", "zz"})
_TOKEN = re.compile(r"[^\W\d_]+", re.UNICODE)
_MIN_HITS = 2


def normalize_language(code: str | None) -> str | None:
    """``"es-ES"``, ``"pt_BR"``, ``"EN"`` -> ``"es"``, ``"pt"``, ``"en"``; None stays None."""
    if not code or not code.strip():
        return None
    return re.split(r"[-_]", code.strip().lower(), maxsplit=1)[0] or None


def detect_language(texts: Iterable[str]) -> str | None:
    """The supported language whose function words occur most in ``texts``, or None when
    fewer than two of them occur or two languages tie."""
    counts: Counter[str] = Counter()
    for text in texts:
        for token in _TOKEN.findall(text.lower()):
            for lang, words in _WORDS.items():
                if token in words:
                    counts[lang] += 1
    ranked = counts.most_common(2)
    if not ranked or ranked[0][1] < _MIN_HITS:
        return None
    if len(ranked) == 2 and ranked[1][1] == ranked[0][1]:
        return None
    return ranked[0][0]


def ticket_language(
    record: str | None, reported: Iterable[str | None], texts: Iterable[str]
) -> str | None:
    """The customer's language: the record's, else the analyzer's majority, else detected.

    The answer may be unsupported (``"nl"``); check it against :data:`SUPPORTED`.
    """
    from_record = normalize_language(record)
    if from_record:
        return from_record
    seen = Counter(n for n in (normalize_language(r) for r in reported) if n and n not in _UNKNOWN)
    if seen:
        return seen.most_common(1)[0][0]
    return detect_language(texts)


def customer_language(signals: Signals) -> str | None:
    """The language of the ticket's customer (see :func:`ticket_language`)."""
    ticket = signals.ticket
    texts = [
        c.text for c in ticket.comments if c.author_role is Role.CUSTOMER and c.public and c.text
    ]
    reported = [m.language for m in signals.messages]
    return ticket_language(ticket.requester.language, reported, texts)
