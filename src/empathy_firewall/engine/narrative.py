"""Plain-language summaries of a conversation for notes: what the customer already said.

Pure text processing over the customer's own public messages, so the next agent sees what
was explained, what was tried, and what not to ask for again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from empathy_firewall.models import Role, Ticket

__all__ = ["Recap", "recap"]

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


@dataclass(frozen=True, slots=True)
class Recap:
    """What the customer already told us, in their words, trimmed."""

    explained: tuple[str, ...]
    tried: tuple[str, ...]
    provided: tuple[str, ...]


def _trim(sentence: str) -> str:
    cleaned = " ".join(sentence.split())
    return cleaned if len(cleaned) <= _MAX_CHARS else cleaned[: _MAX_CHARS - 1].rstrip() + "…"


def recap(ticket: Ticket) -> Recap:
    """Summarize the customer's public messages: first sentences, things tried, data given."""
    explained: list[str] = []
    tried: list[str] = []
    provided: list[str] = []
    for comment in ticket.comments:
        if comment.author_role is not Role.CUSTOMER or not comment.public or not comment.text:
            continue
        sentences = [s.strip() for s in _SENTENCE.findall(comment.text) if s.strip()]
        if sentences and len(explained) < _MAX_ITEMS:
            first = _trim(sentences[0])
            if first not in explained:
                explained.append(first)
        for sentence in sentences:
            if _TRIED.search(sentence) and len(tried) < _MAX_ITEMS:
                trimmed = _trim(sentence)
                if trimmed not in tried:
                    tried.append(trimmed)
        for label, pattern in _PROVIDED:
            if label not in provided and pattern.search(comment.text):
                provided.append(label)
    return Recap(tuple(explained), tuple(tried), tuple(provided))
