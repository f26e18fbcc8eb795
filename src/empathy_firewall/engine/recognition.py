"""Whether a customer's thanks is earned praise: not "thanks, but", not before help.

A thank-you is worth telling an agent about only when it is meant and deserved. Two
checks the sentiment score alone cannot make:

- :func:`thanks_but`: the message thanks or praises and, in the same message, complains
  ("Thanks for the quick reply, but the replacement also arrived broken", "Great job,
  really. Paying for premium to get slower answers"): a contrast after the thanks, or a
  sentence of complaint beside it, in any of the six supported languages;
- :func:`agent_helped`: an agent replied publicly, with substance, before the customer's
  latest message, so a reflexive "Thanks!" closing an opening question, or one answering
  "I'm looking into it", is not taken for gratitude.
"""

from __future__ import annotations

import re

from empathy_firewall.engine.narrative import substantive
from empathy_firewall.engine.segment import sentences
from empathy_firewall.models import Role, Ticket
from empathy_firewall.signals.cues import CueKind, detect_cues

__all__ = ["agent_helped", "thanks_but"]

_CONTRAST = re.compile(
    r"\b(?:but|however|although|though|except|pero|sin embargo|aunque|aber|jedoch|"
    r"allerdings|trotzdem|mais|cependant|pourtant|sauf que|mas|porém|contudo|entretanto|"
    r"però|tuttavia|ma|peccato che)\b",
    re.IGNORECASE,
)
# Words of complaint: something is (still) wrong, slow, broken or not as paid for.
_COMPLAINT = re.compile(
    r"\b(?:still|again|never|nobody|no ?one|broken|wrong|worse|slower|late|missing|damaged|"
    r"useless|paying for|paid for|charged (?:twice|again)|"
    r"not (?:working|fixed|arrived|resolved|solved|received|what i)|"
    r"(?:doesn'?t|does not|didn'?t|did not|won'?t|isn'?t|is not) (?:work|arrive|help)\w*|"
    r"no (?:answer|reply|response|help|refund|update)|"
    r"todavía|sigue|otra vez|nunca|nadie|roto|rota|peor|lento|no funciona|no ha llegado|"
    r"immer noch|noch immer|wieder|nie|niemand|kaputt|schlechter|langsamer|"
    r"funktioniert (?:immer noch )?nicht|nicht angekommen|"
    r"toujours pas|encore|jamais|personne|cassé|cassée|pire|plus lent|ne marche pas|"
    r"ne fonctionne pas|pas arrivé|"
    r"ainda|de novo|ninguém|quebrado|quebrada|pior|mais lento|não funciona|não chegou|"
    r"ancora|di nuovo|mai|nessuno|rotto|rotta|peggio|più lento|non funziona|non è arrivato)\b",
    re.IGNORECASE,
)
# Thanks the shared cue lexicon may not know yet, in the six languages.
_THANKS = re.compile(
    r"\b(?:grazie|mille grazie|vielen dank|muchas gracias|muito obrigad[oa]|merci beaucoup)\b",
    re.IGNORECASE,
)


def _first_thanks(text: str) -> tuple[int, int] | None:
    spans = [(c.start, c.end) for c in detect_cues(text) if c.kind is CueKind.GRATITUDE]
    found = _THANKS.search(text)
    if found:
        spans.append(found.span())
    return min(spans) if spans else None


def thanks_but(text: str, language: str | None = None) -> bool:
    """True when ``text`` thanks or praises and, in the same message, complains."""
    first = _first_thanks(text)
    if first is None:
        return False
    start, end = first
    if _CONTRAST.search(text, end) or _COMPLAINT.search(text, end):
        return True
    # a complaint in a sentence of its own before the thanks ("Still broken. Thanks.")
    return any(s.end <= start and _COMPLAINT.search(s.text) for s in sentences(text, language))


def agent_helped(ticket: Ticket) -> bool:
    """True when an agent replied publicly, with substance, before the customer's latest
    public message ("Thanks, looking into it!" is no help yet)."""
    latest = None
    for comment in ticket.comments:
        if comment.author_role is Role.CUSTOMER and comment.public and comment.text:
            latest = comment
    if latest is None:
        return False
    return any(
        c.author_role is Role.AGENT
        and c.public
        and c.created_at <= latest.created_at
        and substantive(c.text)
        for c in ticket.comments
        if c is not latest
    )
