"""Plain-language summaries of a conversation for notes: what the customer already said.

Pure text processing over the customer's own public messages, so the next agent sees what
was explained, what was tried, and what not to ask for again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from empathy_firewall.models import Role, Ticket
from empathy_firewall.signals.cues import CueKind
from empathy_firewall.signals.emotion import Emotion

__all__ = ["Recap", "feelings", "recap", "sentence_around"]

_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_TRIED = re.compile(
    r"\b(?:i(?:'ve| have)? (?:already )?(?:tried|restarted|rebooted|reinstalled|cleared|reset|"
    r"updated|checked|followed|re-?entered|logged out|contacted|sent|attached|called)|"
    r"already (?:tried|did|done|restarted|reinstalled|checked|sent)|tried (?:to|again|everything))",
    re.IGNORECASE,
)
_PROVIDED = (
    ("an order or reference number", re.compile(r"(?:#\s?\d{3,}|\b[A-Z]{2,4}-?\d{4,}\b)")),
    (
        "a screenshot or attachment",
        re.compile(r"\b(?:attach\w*|screenshot\w*|photo\w*|picture\w*)\b", re.I),
    ),
    ("an email address", re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.]+\b")),
    ("a phone number", re.compile(r"\+?\d[\d ()-]{7,}\d")),
    ("their address", re.compile(r"\b(?:my address|shipping address|street)\b", re.I)),
)
_MAX_ITEMS = 3
_MAX_CHARS = 180
_MIN_WORDS = 4
_FILLER = re.compile(
    r"^(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)|hola|bonjour|bonsoir|hallo|"
    r"guten tag|olá|ola|oi|thanks?|thank you|sure|ok(?:ay)?|yes|no|please|again|"
    r"here you go|sure, here you go|as requested)\b[\w ,!.]*$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Recap:
    """What the customer already told us, in their words, trimmed."""

    explained: tuple[str, ...]
    tried: tuple[str, ...]
    provided: tuple[str, ...]
    latest: str = ""
    """The first informative sentence of the latest customer message ("" if none)."""


# What a cue says about how the customer feels, in words an agent reads at a glance.
_FEELINGS: tuple[tuple[tuple[CueKind, ...], str], ...] = (
    (
        (
            CueKind.THREAT_CANCEL,
            CueKind.THREAT_ESCALATE,
            CueKind.THREAT_PUBLIC,
            CueKind.THREAT_LEGAL,
        ),
        "close to leaving or escalating",
    ),
    ((CueKind.REPEAT_CONTACT,), "unheard (they have had to repeat themselves)"),
    ((CueKind.WAITING,), "worn down by the wait"),
    ((CueKind.ASKS_FOR_HUMAN,), "they want a person, not a process"),
    ((CueKind.SARCASM,), "exasperated (the praise is sarcastic)"),
    ((CueKind.SHOUTING,), "angry"),
)


def feelings(emotion: Emotion) -> list[str]:
    """How the customer feels, from the cues in their messages, strongest first."""
    found = [words for kinds, words in _FEELINGS if any(emotion.cue_counts.get(k) for k in kinds)]
    return found or ["upset"]


def _trim(sentence: str) -> str:
    cleaned = " ".join(sentence.split())
    return cleaned if len(cleaned) <= _MAX_CHARS else cleaned[: _MAX_CHARS - 1].rstrip() + "…"


def _repeats(sentence: str, kept: list[str]) -> bool:
    """True when the sentence says again what a kept one says (one contains the other)."""
    low = sentence.lower().rstrip(".!?… ")
    return any(low in k.lower() or k.lower().rstrip(".!?… ") in low for k in kept)


def _informative(sentence: str) -> bool:
    """A sentence worth repeating: not a greeting or a filler, and a few words long."""
    if len(sentence.split()) < _MIN_WORDS:
        return False
    return not (len(sentence.split()) <= 6 and _FILLER.match(sentence))


def sentence_around(text: str, start: int, end: int) -> str:
    """The sentence of ``text`` that contains ``text[start:end]``, trimmed for quoting."""
    for match in _SENTENCE.finditer(text):
        if match.start() <= start < match.end() or match.start() < end <= match.end():
            return _trim(match.group().strip())
    return _trim(text[start:end])


def recap(ticket: Ticket) -> Recap:
    """Summarize the customer's public messages: the first informative sentence of each
    (greetings and fillers skipped), things tried, data given."""
    explained: list[str] = []
    tried: list[str] = []
    provided: list[str] = []
    for comment in ticket.comments:
        if comment.author_role is not Role.CUSTOMER or not comment.public or not comment.text:
            continue
        sentences = [s.strip() for s in _SENTENCE.findall(comment.text) if s.strip()]
        informative = [s for s in sentences if _informative(s)]
        if informative and len(explained) < _MAX_ITEMS:
            first = _trim(informative[0])
            if not _repeats(first, explained):
                explained.append(first)
        for sentence in sentences:
            if _TRIED.search(sentence) and len(tried) < _MAX_ITEMS:
                trimmed = _trim(sentence)
                if not _repeats(trimmed, tried):
                    tried.append(trimmed)
        for label, pattern in _PROVIDED:
            if label not in provided and pattern.search(comment.text):
                provided.append(label)
    latest = ""
    customer = [
        c for c in ticket.comments if c.author_role is Role.CUSTOMER and c.public and c.text
    ]
    if customer:
        found = [s.strip() for s in _SENTENCE.findall(customer[-1].text) if s.strip()]
        useful = [s for s in found if _informative(s)] or found
        latest = _trim(useful[0]) if useful else ""
    return Recap(tuple(explained), tuple(tried), tuple(provided), latest)
