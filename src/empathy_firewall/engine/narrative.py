"""Plain-language summaries of a conversation for notes: what the customer already said.

Pure text processing over the customer's own public messages, so the next agent sees what
was explained, what was tried, and what not to ask for again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from empathy_firewall.engine.languages import normalize_language, ticket_language
from empathy_firewall.engine.segment import sentence_at, sentences
from empathy_firewall.models import EventType, Role, Ticket
from empathy_firewall.signals.cues import CueKind
from empathy_firewall.signals.emotion import Emotion

__all__ = ["Recap", "awaiting_substance", "feelings", "recap", "sentence_around", "substantive"]

_TRIED = re.compile(
    # English
    r"\b(?:i(?:'ve| have)? (?:already )?(?:tried|restarted|rebooted|reinstalled|cleared|reset|"
    r"updated|checked|followed|re-?entered|logged out|signed out|disconnected|reconnected|"
    r"uninstalled|removed|deleted|contacted|sent|attached|called)|"
    r"i(?:'ve| have)? already (?!told|explained|asked|said|written|wrote)\w+|"
    r"already (?:tried|did|done|restarted|reinstalled|checked|sent)|tried (?:to|again|everything))"
    # Spanish
    r"|\b(?:ya (?:he |lo he |lo )?(?:prob|intent|reinici|borr|reinstal|actualic|revis|comprob)\w*|"
    r"(?:he|hemos) (?:probado|intentado|reiniciado|borrado|reinstalado|actualizado|revisado)|"
    r"(?:prob|intent|reinici|borr|reinstal)(?:é|amos)\b)"
    # German
    r"|\b(?:(?:habe|haben) (?:\w+ ){0,4}(?:schon|bereits) (?:\w+ ){0,4}"
    r"(?:versucht|probiert|neu gestartet|neugestartet|gelöscht|neu installiert|aktualisiert|"
    r"geprüft|überprüft|zurückgesetzt)|(?:schon|bereits) (?:\w+ ){0,3}"
    r"(?:versucht|probiert|neu gestartet|neugestartet|neu installiert|zurückgesetzt))"
    # French
    r"|\b(?:j'ai (?:déjà )?(?:essayé|redémarré|réinstallé|vidé|réinitialisé|vérifié|mis à jour|"
    r"tenté)|(?:nous avons|on a) déjà (?:essayé|redémarré|réinstallé)|déjà essayé)"
    # Portuguese
    r"|\b(?:já (?:tentei|reiniciei|reinstalei|apaguei|limpei|atualizei|verifiquei|testei|fiz)|"
    r"(?:tentei|reiniciei|reinstalei) (?:de novo|novamente|tudo))"
    # Italian
    r"|\b(?:(?:ho|abbiamo) già (?:provato|riavviato|reinstallato|cancellato|svuotato|aggiornato|"
    r"controllato|verificato|tentato)|ho (?:provato|riavviato|reinstallato))",
    re.IGNORECASE,
)
_DONT_ASK = re.compile(
    r"\b(?:(?:please )?(?:do not|don'?t) (?:ask|make) me (?:again|to repeat|repeat|for)|"
    r"(?:please )?(?:do not|don'?t) ask (?:me )?(?:again|for (?:my|the|it) )|"
    r"stop asking(?: me)?|"
    r"(?:i(?:'m| am)? )?not (?:sending|explaining|repeating) (?:it|this|that) again)"
    r"|\b(?:no me (?:vuelvas?|vuelvan) a (?:pedir|preguntar)|dejen? de pedirme|"
    r"no me pidan? (?:otra vez|de nuevo))"
    r"|\b(?:fragen sie (?:mich )?nicht (?:noch ?(?:ein)?mal|wieder|erneut)|"
    r"hören sie auf,? mich|bitte nicht (?:noch ?(?:ein)?mal|wieder|erneut) (?:fragen|nach))"
    r"|\b(?:ne me (?:re)?demandez (?:pas|plus)|arrêtez de me (?:re)?demander)"
    r"|\b(?:não me (?:peçam?|perguntem?) (?:de novo|novamente|outra vez|mais)|parem de me pedir)"
    r"|\b(?:non (?:mi )?(?:chiedete|chiedetemi|richiedete|chiedermi) (?:di nuovo|ancora|più)|"
    r"smettete(?:la)? di chiedermi)",
    re.IGNORECASE,
)
_PROVIDED = (
    ("an order or reference number", re.compile(r"(?:#\s?\d{3,}|\b[A-Z]{2,4}-?\d{4,}\b)")),
    (
        "a screenshot or attachment",
        re.compile(
            r"\b(?:attach\w*|screenshot\w*|photo\w*|picture\w*|captura\w*|foto\w*|"
            r"anhang|anhänge|bildschirmfoto\w*|pièce jointe|capture d'écran|anexo\w*|"
            r"allegat\w*)\b",
            re.I,
        ),
    ),
    ("an email address", re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.]+\b")),
    ("a phone number", re.compile(r"\+?\d[\d ()-]{7,}\d")),
    (
        "their address",
        re.compile(
            r"\b(?:my address|shipping address|street|mi dirección|meine adresse|"
            r"mon adresse|meu endereço|il mio indirizzo)\b",
            re.I,
        ),
    ),
)
_MAX_ITEMS = 3
_MAX_CHARS = 180
_MIN_WORDS = 4
_GREETING = re.compile(
    r"^(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)|hola|buenos días|buenas|"
    r"bonjour|bonsoir|salut|hallo|guten (?:tag|morgen|abend)|olá|ola|oi|bom dia|boa tarde|"
    r"ciao|buongiorno|buonasera|salve|thanks?|thank you|gracias|danke|merci|obrigad[oa]|"
    r"grazie|sure|ok(?:ay)?|yes|no|please|again|here you go|sure, here you go|as requested|"
    r"best regards|kind regards|regards|cheers|saludos|un saludo|viele grüße|mit freundlichen "
    r"grüßen|cordialement|bien à vous|atenciosamente|abraços|cordiali saluti|saluti)\b[\w ,!.]*$",
    re.IGNORECASE,
)
# Words addressed to the agent that say nothing about the problem: "Sorry, but who are
# you?", "Is anyone there?", "Any update?", in the six languages.
_FILLER = re.compile(
    r"^(?:(?:sorry|excuse me|hello|hi),? (?:but )?)?(?:who are you|who is this|"
    r"(?:is )?any(?:one|body) (?:there|reading this)|are you (?:there|still there|a bot)|"
    r"any (?:update|news)s?|hello\?|what(?:'s| is) (?:going on|happening)|"
    r"quién eres|quién es usted|hay alguien|alguna novedad|"
    r"wer sind sie|wer ist da|ist da jemand|gibt es (?:etwas )?neues|"
    r"qui êtes-vous|qui est-ce|il y a quelqu'un|des nouvelles|"
    r"quem é você|quem (?:está|é) (?:aí|falando)|tem alguém aí|alguma novidade|"
    r"chi sei|chi è lei|c'è qualcuno|novità)\b[\w ,!?.]*$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Recap:
    """What the customer already told us, in their words, trimmed."""

    explained: tuple[str, ...]
    tried: tuple[str, ...]
    provided: tuple[str, ...]
    latest: str = ""
    dont_ask: tuple[str, ...] = ()
    """What the customer asked not to be asked again, in their words."""
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
    """A sentence worth repeating: not a greeting, sign-off or filler, and a few words long."""
    words = len(sentence.split())
    if words < _MIN_WORDS:
        return False
    if _FILLER.match(sentence):
        return False
    return not (words <= 6 and _GREETING.match(sentence))


def sentence_around(text: str, start: int, end: int, language: str | None = None) -> str:
    """The sentence of ``text`` that contains ``text[start:end]``, trimmed for quoting."""
    found = sentence_at(text, start, end, language)
    return _trim(found.text if found is not None else text[start:end])


def _customer_texts(ticket: Ticket) -> list[str]:
    return [
        c.text for c in ticket.comments if c.author_role is Role.CUSTOMER and c.public and c.text
    ]


def _keep(sentence: str, into: list[str]) -> None:
    if len(into) < _MAX_ITEMS:
        trimmed = _trim(sentence)
        if not _repeats(trimmed, into):
            into.append(trimmed)


def recap(ticket: Ticket, language: str | None = None) -> Recap:
    """Summarize the customer's public messages: the first informative sentence of each
    (greetings, sign-offs and filler skipped), what they tried, what they asked not to be
    asked again, the data they gave. ``language`` guides the sentence segmenter; without
    it the customer's record or words decide."""
    texts = _customer_texts(ticket)
    lang = language or ticket_language(ticket.requester.language, (), texts)
    explained: list[str] = []
    tried: list[str] = []
    dont_ask: list[str] = []
    provided: list[str] = []
    latest = ""
    for text in texts:
        found = [s.text for s in sentences(text, lang)]
        informative = [s for s in found if _informative(s)]
        # "already tried" and "don't ask again" are told apart from what was explained
        plain = [s for s in informative if not (_TRIED.search(s) or _DONT_ASK.search(s))]
        if plain:
            _keep(plain[0], explained)
        for sentence in found:
            if _DONT_ASK.search(sentence):
                _keep(sentence, dont_ask)
            elif _TRIED.search(sentence):
                _keep(sentence, tried)
        for label, pattern in _PROVIDED:
            if label not in provided and pattern.search(text):
                provided.append(label)
        useful = informative or found
        latest = _trim(useful[0]) if useful else ""
    return Recap(tuple(explained), tuple(tried), tuple(provided), latest, tuple(dont_ask))


# An agent's reply that only holds the line: "Looking into it", "I'll get back to you".
_HOLDING = re.compile(
    r"\b(?:look(?:ing)? into (?:it|this)|check(?:ing)? (?:on )?(?:it|this|that)|"
    r"(?:get|come) back to you|(?:i'?m|i am) on it|bear with (?:me|us)|"
    r"(?:taken|taking) over|thanks? (?:you )?for (?:your|the) (?:patience|message|email)|"
    r"estoy (?:revisando|mirando)|lo reviso|te (?:escribo|respondo) (?:pronto|en breve)|"
    r"ich (?:schaue|sehe) (?:mir )?(?:das|es) an|ich melde mich|"
    r"je regarde|je reviens vers vous|"
    r"(?:estou|vou) verifica\w*|já estou verificando|retorno em breve|"
    r"sto verificando|ci guardo|le farò sapere)\b",
    re.IGNORECASE,
)


def substantive(text: str, language: str | None = None) -> bool:
    """True when an agent's reply says something of substance: at least one sentence that
    is neither a greeting, a sign-off, nor a holding line ("I'm looking into it")."""
    return any(
        _informative(s.text) and not _HOLDING.search(s.text) for s in sentences(text, language)
    )


def awaiting_substance(ticket: Ticket) -> bool:
    """Reassigned, and the new owner (any agent when the event does not say who) has not
    replied publicly with substance since: their "looking into it" does not end the handoff,
    nor does a word from the previous owner."""
    latest = None
    for event in ticket.events:
        if event.type is EventType.REASSIGNED and (latest is None or event.at >= latest.at):
            latest = event
    if latest is None:
        return False
    language = normalize_language(ticket.requester.language)
    owner = latest.to_assignee  # when known, only the new owner's answer ends the handoff
    return not any(
        c.author_role is Role.AGENT
        and c.public
        and c.created_at > latest.at
        and (owner is None or c.author_id is None or c.author_id == owner)
        and substantive(c.text, language)
        for c in ticket.comments
    )
