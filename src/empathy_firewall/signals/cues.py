"""Frustration (and gratitude) cues beyond polarity, each with its quoted evidence.

A cue is a phrase that tells us something about how the customer feels that a polarity
score misses: "this is the third time I ask", "still no answer", "I will cancel",
"let me talk to a human", "THIS IS UNACCEPTABLE!!!". :func:`detect_cues` finds them with
their character spans, so every decision can quote the customer's own words.

The lexicon is general customer-service language in English, with the most common
phrasings in Spanish, French, German and Portuguese. It never uses industry words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["FRUSTRATION_KINDS", "Cue", "CueKind", "detect_cues"]


class CueKind(StrEnum):
    """The kinds of cue, as they appear in rule paths (``cues.threat_cancel``...)."""

    REPEAT_CONTACT = "repeat_contact"
    WAITING = "waiting"
    SHOUTING = "shouting"
    THREAT_CANCEL = "threat_cancel"
    THREAT_ESCALATE = "threat_escalate"
    THREAT_PUBLIC = "threat_public"
    THREAT_LEGAL = "threat_legal"
    ASKS_FOR_HUMAN = "asks_for_human"
    GRATITUDE = "gratitude"
    SARCASM = "sarcasm"
    RESIGNATION = "resignation"
    THANKS_BUT = "thanks_but"


#: the kinds that signal frustration on their own: every kind but gratitude
FRUSTRATION_KINDS: frozenset[CueKind] = frozenset(CueKind) - {CueKind.GRATITUDE}


@dataclass(frozen=True, slots=True)
class Cue:
    """One cue found in a text: its kind and the quoted span ``text[start:end]``."""

    kind: CueKind
    start: int
    end: int
    quote: str


_NUM = r"(?:a|an|one|two|three|four|five|six|seven|eight|nine|ten|several|many|\d+)"
_ORDINAL = r"(?:second|third|fourth|fifth|sixth|2nd|3rd|4th|5th|6th|\d+th|umpteenth|nth)"


def _any_of(alternatives: tuple[str, ...]) -> str:
    r"""Join regex alternatives, testing a shared leading ``\b`` once per position.

    ``\ba|\bb|\bc`` and ``\b(?:a|b|c)`` match the same text, but the second checks the word
    boundary once instead of once per branch, and skips mid-word positions at once: about
    twice as fast on long messages. Order is kept, so the same branch wins at a position.
    """
    bounded = [alt[2:] for alt in alternatives if alt.startswith(r"\b")]
    others = [alt for alt in alternatives if not alt.startswith(r"\b")]
    parts = [rf"\b(?:{'|'.join(bounded)})"] if bounded else []
    return "|".join(parts + others)


_PATTERNS: dict[CueKind, str] = {
    CueKind.REPEAT_CONTACT: _any_of(
        (
            rf"\b{_ORDINAL}\s+(?:time|email|message|call|request|attempt)\b",
            # bare "again" is too common ("thanks again", "here it is again"): only
            # repetition of a failure or of the customer's own effort counts
            r"\b(?:yet|once more|over and over|time and time|again and) again\b",
            r"\b(?:happen\w*|broke\w*|fail\w*|crash\w*|stopped|down|charged|billed|wrong|"
            r"missing|late|cancel+ed|same (?:problem|issue|thing|error)|ask\w*|writ\w*|"
            r"contact\w*|call\w*|email\w*|explain\w*|chas\w*|complain\w*)(?: \w+){0,2} again\b",
            r"\bnot again\b",
            r"\bonce more\b",
            r"\bhow many (?:more )?times\b",
            r"\bstill (?:no|not|nothing|haven'?t|hasn'?t|don'?t|doesn'?t|isn'?t|can'?t)\b"
            r"[\w ']{0,24}",
            r"\b(?:i(?:'ve| have)?|we(?:'ve| have)?) already "
            r"(?:told|explained|asked|sent|called|written|emailed|contacted|tried|provided|given)\b",
            r"\bkeep (?:asking|calling|writing|emailing|getting|being)\b",
            r"\b(?:no ?one|nobody) (?:has |ever )?"
            r"(?:answer|respond|repl|got back|get back|help|call)\w*\b",
            r"\bmultiple times\b",
            r"\bover and over\b",
            r"\b(?:otra vez|de nuevo|encore une fois|schon wieder|noch immer|de novo|"
            r"mais uma vez)\b",
        )
    ),
    CueKind.WAITING: _any_of(
        (
            r"\b(?:been |still |keep |kept )?(?:waiting|waited)\b(?! list)"
            r"(?: (?:for|since) [\w ]{1,20}?"
            r"(?:hours?|days?|weeks?|months?|ages|forever))?",
            # "for a month" is a plan ("pause it for a month"), "for three weeks" a wait
            rf"\b(?:for (?!an? )|(?:over|almost|nearly|more than|about) ){_NUM} "
            r"(?:hours?|days?|weeks?|months?)\b",
            r"\bno (?:reply|response|answer|update|word|news|feedback)\b",
            r"\bhaven'?t (?:heard|received|got(?:ten)?) (?:back|anything|a (?:reply|response))\b",
            r"\bstill (?:pending|open|unresolved|not (?:resolved|fixed|delivered|arrived))\b",
            r"\b(?:takes?|taking|took) (?:so|too) long\b",
            r"\bwhere is my\b",
            r"\b(?:never|still not|not yet|hasn'?t|has not|haven'?t|have not|didn'?t|did not) "
            r"(?:arrived|received|delivered|come|came|shown up|showed up|got (?:it|anything))\b",
            r"\b(?:esperando|j'attends|attends depuis|warte seit|warten seit|aguardando)\b",
            # nobody answers / no answer, in the other supported languages
            r"\b(?:nadie (?:me )?(?:responde|contesta|ha respondido|ha contestado)|"
            r"sin (?:respuesta|contestación)|ninguna respuesta|"
            r"niemand (?:antwortet|meldet sich|hat (?:geantwortet|sich gemeldet))|"
            r"keine (?:antwort|rückmeldung|reaktion)|"
            r"personne ne (?:répond|me répond|m'a répondu|a répondu)|"
            r"(?:pas de|aucune) (?:réponse|nouvelles)|"
            r"ningu[eé]m (?:responde|me responde|respondeu|atende)|(?:sem|nenhuma) resposta|"
            r"nessuno (?:risponde|mi risponde|ha risposto)|nessuna (?:risposta|notizia))\b",
        )
    ),
    CueKind.THREAT_CANCEL: _any_of(
        (
            r"\b(?:cancel+(?:ing|ed)?|close|terminate|end) (?:my|our|the|this) "
            r"(?:account|subscription|order|membership|contract|service|plan)\b",
            r"\b(?:switch|switching|move|moving|go|going|leave|leaving) to "
            r"(?:a |another |your )?"
            r"(?:competitor|competition|another (?:provider|company|service|vendor))\b",
            r"\btake (?:my|our) (?:business|money) elsewhere\b",
            r"\bnever (?:buy|order|shop|use)\w* (?:\w+ )?(?:from you |with you |you )?again\b",
            r"\b(?:i(?:'m| am)|we(?:'re| are)) (?:done|finished) with (?:you|this company)\b",
            r"\bunsubscribe me\b",
            r"\b(?:cancelar|darme de baja|résilier|resilier|kündigen|cancelar minha)\b",
            # cancelling in the first person: "I'm cancelling", "ich kündige", "je résilie"
            r"\bi(?:'m| am) cancel+ing\b|\b(?:cancelo|me doy de baja)\b|\b(?:ich )?kündige\b|"
            r"\b(?:je )?r[ée]silie\b|\b(?:disdico|disdirò|voglio disdire)\b",
            # leaving without the word "cancel"
            r"\btak(?:e|ing) (?:my|our) (?:business|money|custom) (?:elsewhere|somewhere else)\b",
            r"\b(?:you(?:'ve| have) )?lost (?:a|another|one more) customer\b",
            r"\b(?:find|finding|look for|looking for) (?:a |an )?(?:another|different|new|other) "
            r"(?:company|provider|supplier|shop|store|bank|vendor)\b",
            r"\b(?:me voy (?:a la competencia|con otr[oa])|(?:buscaré|voy a buscar) otr[oa] "
            r"(?:empresa|compañía|proveedor|tienda)|(?:han|habéis) perdido (?:a )?un cliente|"
            r"no (?:vuelvo|volveré) a (?:comprar|contratar))\b",
            r"\b(?:(?:ich )?(?:gehe|wechsle) (?:zur konkurrenz|den anbieter|zu einem anderen "
            r"anbieter)|(?:sie haben|ihr habt) (?:gerade )?einen kunden verloren|"
            r"nie wieder bei (?:ihnen|euch))\b",
            r"\b(?:je (?:vais|m'en vais) (?:voir ailleurs|à la concurrence|chez un concurrent)|"
            r"vous (?:avez|venez de) perdu un client|(?:plus jamais|jamais plus) chez vous)\b",
            r"\b(?:vou (?:para a concorrência|procurar outra (?:empresa|loja))|"
            r"(?:vocês )?perderam um cliente|nunca mais (?:compro|volto))\b",
            r"\b(?:passo alla concorrenza|(?:vado|andrò) (?:altrove|da un'altra parte)|"
            r"avete (?:appena )?perso un cliente|mai più da voi)\b",
        )
    ),
    CueKind.THREAT_ESCALATE: _any_of(
        (
            r"\bescalat(?:e|ed|ing|ion)\b",
            r"\b(?:formal|official) complaint\b",
            r"\b(?:file|filing|lodge|make|raise) a complaint\b",
            r"\bchargeback\b",
            r"\bdispute (?:the|this|my) (?:charge|payment|transaction)\b",
            r"\breport (?:you|this|your company)\b",
            r"\b(?:your )?(?:ceo|head office|upper management)\b",
            r"\b(?:queja formal|réclamation|beschwerde)\b",
        )
    ),
    CueKind.THREAT_PUBLIC: _any_of(
        (
            r"\b(?:bad|negative|terrible|1[- ]star|one[- ]star|honest) review\b",
            r"\b(?:leave|write|post|posting) (?:a |my )?review\b",
            r"\b(?:trustpilot|yelp|better business bureau|bbb)\b",
            r"\b(?:on|all over) "
            r"(?:twitter|x|facebook|instagram|tiktok|reddit|linkedin|social media)\b",
            r"\bsocial media\b",
            r"\btell (?:everyone|everybody|all my friends|the world)\b",
            r"\bgo(?:ing)? public\b",
            r"\b(?:the press|journalists?|local news)\b",
        )
    ),
    CueKind.THREAT_LEGAL: _any_of(
        (
            r"\b(?:my |a )?(?:lawyer|attorney|solicitor)s?\b",
            r"\blegal (?:action|steps|proceedings|team)\b",
            r"\b(?:sue|suing|lawsuit|small claims)\b",
            r"\b(?:consumer protection|ombudsman|trading standards|attorney general)\b",
            r"\b(?:abogado|avocat|anwalt|advogado|avvocato)\b",
        )
    ),
    CueKind.ASKS_FOR_HUMAN: _any_of(
        (
            r"\b(?:speak|talk|chat|speaking|talking)\w* (?:to|with) (?:a |an |your |the )?"
            r"(?:real |actual |live )?(?:human|person|someone|somebody|manager|supervisor|"
            r"agent|representative)\b",
            r"\b(?:real|actual|live) (?:human|person)\b",
            r"\b(?:not|stop) (?:a |the |this )?"
            r"(?:bot|robot|automated (?:reply|response|message)s?)\b",
            r"\bare you a (?:bot|robot|machine)\b",
            r"\b(?:your|a|the) (?:manager|supervisor|superior)\b",
            r"\b(?:hablar con (?:una persona|un humano|un gerente)|"
            r"parler à (?:un humain|un responsable)|"
            r"mit einem menschen)\b",
        )
    ),
    CueKind.GRATITUDE: _any_of(
        (
            r"\b(?:thank(?:s| you)(?: (?:so|very) much| a lot| again)?)\b"
            r"(?! (?:for nothing|in advance))",
            r"\bmuch appreciated\b",
            r"\b(?:really |truly )?appreciate "
            r"(?:it|this|that|your (?:help|time|patience|support))\b",
            r"\byou(?:'re| are) (?:the best|amazing|awesome|a star|a lifesaver|wonderful)\b",
            r"\b(?:great|excellent|fantastic|amazing|awesome|brilliant) "
            r"(?:help|service|support|job|work)\b",
            r"\b(?:problem|issue|it)(?:'s| is)? (?:solved|fixed|resolved|working)(?: now)?\b",
            r"\bworks? (?:now|perfectly|great)\b",
            r"\b(?:gracias|merci|danke|obrigad[oa]|grazie|buen trabajo|gut gemacht|"
            r"super gemacht|bravo|complimenti|parabéns|excelente servicio)\b",
            "(?:\U0001f64f|\u2764\ufe0f?|\U0001f44d|\U0001f60a|\U0001f970|\U0001f389)",
        )
    ),
    # Praise words used about a failure: "great, another week without my order",
    # "thanks for nothing", "love how nobody answers". Markers, not proof: the scorer
    # weighs them together with the complaint around them.
    CueKind.SARCASM: _any_of(
        (
            r"\b(?:oh|just|yeah)[,.!]* (?:great|wonderful|perfect|nice|"
            r"fantastic|lovely|awesome|brilliant|terrific)\b",
            r"\b(?:great|wonderful|perfect|nice|fantastic|lovely|awesome|brilliant|love)[,.!]* "
            r"(?:yet )?another\b",
            r"\bthanks? (?:you )?(?:a lot |so much |very much )?for (?:nothing|ruining|wasting|"
            r"losing|ignoring|the runaround|making me (?:miss|wait|late|lose|pay|waste)|"
            r"(?:the|your|all the|such) (?:terrible|awful|horrible|useless|unhelpful|rude|lousy|"
            r"poor|worst|non[- ]?helpful|robotic|pathetic))\b",
            r"\b(?:love|loving) (?:how|the way|it when|that (?:you|your|i|we|"
            r"no ?one|nobody|it))\b",
            r"\byeah,? right\b",
            r"(?<!thanks )(?<!thank you )(?<!thx )\bso much for\b",
            r"\bway to go\b",
            r"\bwhat a (?:joke|surprise|shock)\b",
            r"(?<!\w)(?:#not|/s)\b",
            r"\b(?:great|nice|good|brilliant|wonderful) job,? really\b",
            r"\b(?:genial|perfecto|fantástico|estupendo),? (?:de verdad|en serio)\b",
            r"\b(?:super|toll|klasse|großartig|prima)(?: gemacht)?,? wirklich\b",
            r"\b(?:bravo|génial|super|parfait),? vraiment\b",
            r"\b(?:parabéns|ótimo|excelente|maravilha),? (?:sério|mesmo|de verdade)\b",
            r"\b(?:complimenti|bravi|ottimo lavoro|perfetto),? davvero\b",
            # "thanks for nothing" and praise for a failure that happened again
            r"\b(?:gracias|obrigad[oa]s?) por nada\b|\bdanke für nichts\b|\bmerci pour rien\b|"
            r"\bgrazie (?:per|di) (?:niente|nulla)\b",
            r"\b(?:genial|perfecto|estupendo|fantástico|maravilloso),? (?:otra vez|de nuevo)\b",
            r"\b(?:super|toll|klasse|prima|großartig|wunderbar),? (?:schon )?wieder\b",
            r"\b(?:génial|super|parfait|formidable),? (?:encore|à nouveau|de nouveau)\b",
            r"\b(?:ótimo|perfeito|maravilha|excelente),? (?:de novo|outra vez|mais uma vez)\b",
            r"\b(?:perfetto|fantastico|ottimo|magnifico),? (?:di nuovo|ancora una volta)\b",
            "[\U0001f644\U0001f612\U0001f643]",
        )
    ),
    # Giving up: the customer stops expecting help ("whatever, I give up").
    CueKind.RESIGNATION: _any_of(
        (
            # "whatever," / "egal." as a reply on their own, not "whatever you need"
            r"(?<!\w)(?:whatever|egal)[,.!]",
            r"\b(?:i give up|i(?:'m| am) giving up|forget it|never ?mind|"
            r"what(?:'s| is) the point|don'?t (?:even )?bother|"
            r"why (?:do|did) i (?:even )?bother)\b",
            r"\b(?:me rindo|da igual|olvíd(?:alo|enlo)|ya no me importa|para qué|"
            r"no sirve de nada)\b",
            r"\b(?:ich gebe (?:es )?auf|vergessen sie es|vergiss es|"
            r"(?:hat|bringt) (?:doch |eh )?(?:keinen sinn|nichts))\b",
            r"\b(?:j'abandonne|laissez tomber|laisse tomber|peu importe|tant pis|à quoi bon|"
            r"ça ne sert à rien)\b",
            r"\b(?:desisto|tanto faz|deixa (?:pra|para) lá|esquece|esqueçam|não adianta)\b",
            r"\b(?:mi arrendo|ci rinuncio|lasci(?:ate|a) perdere|non importa|fa niente|"
            r"a che serve|non serve a niente)\b",
        )
    ),
    # Thanks followed by a "but": politeness around a problem, not praise.
    CueKind.THANKS_BUT: (
        r"\b(?:thanks?|thank you|gracias|danke|merci|obrigad[oa]|grazie)\b[^.!?\n]{0,80}?"
        r"\b(?:but|however|pero|sin embargo|aber|jedoch|allerdings|mais|cependant|mas|porém|"
        r"ma|però|tuttavia)\b"
    ),
}


def _split(joined: str) -> tuple[str, ...]:
    return tuple(joined.split("|"))


# Speed: every alternative of a kind's pattern needs at least one of these strings in the
# lower-cased text, so a kind whose anchors are all absent cannot match and its regex is
# skipped. Checking substrings is far cheaper than running a many-branch regex, and most
# texts carry only one or two kinds. tests/test_cues.py checks that anchors never hide a match.
_ANCHORS: dict[CueKind, tuple[str, ...]] = {
    CueKind.REPEAT_CONTACT: _split(
        "time|email|message|call|request|attempt|again|once more|how many|still|already|keep|"
        "nobody|no one|noone|multiple|over and over|otra vez|de nuevo|encore|wieder|"
        "noch immer|de novo|mais uma vez"
    ),
    CueKind.WAITING: _split(
        "wait|hour|day|week|month|ages|forever|reply|response|answer|update|word|news|"
        "feedback|haven|still|long|where is my|arrived|received|delivered|come|came|shown up|"
        "showed up|got|esperando|attends|warte|aguardando|nadie|sin |ninguna|niemand|keine|"
        "personne|pas de|aucune|ningu|sem |nenhuma|nessun"
    ),
    CueKind.THREAT_CANCEL: _split(
        "cancel|kündige|silie|doy de baja|disdic|disdir|"
        "account|subscription|order|membership|contract|service|plan|competit|another|"
        "elsewhere|again|done with|finished with|unsubscribe|cancelar|baja|silier|kündigen|"
        "lost|different|new|other|otr|perdido|vuelv|volver|konkurrenz|anbieter|verloren|"
        "nie wieder|ailleurs|concurren|perdu|jamais|procurar|perderam|nunca mais|altrove|"
        "perso|mai più|competenc|business|concorr|altra parte|somewhere else"
    ),
    CueKind.THREAT_ESCALATE: _split(
        "escalat|complaint|chargeback|dispute|report|ceo|head office|upper management|"
        "queja formal|réclamation|beschwerde"
    ),
    CueKind.THREAT_PUBLIC: _split(
        "review|trustpilot|yelp|better business bureau|bbb|twitter|facebook|instagram|tiktok|"
        "reddit|linkedin|social media|on x|over x|tell|public|press|journalist|local news"
    ),
    CueKind.THREAT_LEGAL: _split(
        "lawyer|attorney|solicitor|legal|sue|suing|lawsuit|small claims|consumer protection|"
        "ombudsman|trading standards|abogado|avocat|anwalt|advogado|avvocato"
    ),
    CueKind.ASKS_FOR_HUMAN: _split(
        "speak|talk|chat|human|person|bot|automated|machine|manager|supervisor|superior|"
        "hablar|parler|menschen"
    ),
    CueKind.GRATITUDE: _split(
        "thank|appreciat|the best|amazing|awesome|a star|lifesaver|wonderful|great|excellent|"
        "fantastic|brilliant|solved|fixed|resolved|working|work|gracias|merci|danke|obrigad|"
        "grazie|trabajo|gemacht|bravo|complimenti|parabéns|excelente|"
        "🙏|❤|👍|😊|🥰|🎉"
    ),
    CueKind.SARCASM: _split(
        "oh|just|yeah|another|thank|nothing|ruining|wasting|losing|ignoring|runaround|"
        "making me|lov|so much for|way to go|what a|#not|/s|🙄|😒|🙃|really|verdad|serio|"
        "wirklich|vraiment|sério|mesmo|davvero|por nada|für nichts|pour rien|niente|nulla|"
        "otra vez|de nuevo|wieder|encore|nouveau|de novo|outra vez|mais uma vez|di nuovo|"
        "ancora una volta"
    ),
    CueKind.RESIGNATION: _split(
        "give up|giving up|forget|never|whatever|point|bother|rindo|igual|olvíd|importa|"
        "para qué|sirve|gebe|vergess|vergiss|egal|sinn|nichts|abandonne|tomber|peu importe|"
        "tant pis|quoi bon|sert à rien|desisto|tanto faz|deixa|esquece|esqueç|adianta|arrendo|"
        "rinuncio|perdere|fa niente|che serve|serve a niente"
    ),
    CueKind.THANKS_BUT: _split("thank|gracias|danke|merci|obrigad|grazie"),
}

_COMPILED: tuple[tuple[CueKind, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE)) for kind, pattern in _PATTERNS.items()
)
# The same patterns, case-sensitive, for text already lower-cased: about twice as fast,
# and usable whenever lower-casing keeps every character at its index.
_COMPILED_LOWER: tuple[tuple[CueKind, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern)) for kind, pattern in _PATTERNS.items()
)

# Shouting: runs of capitalised words, bursts of "!!"/"?!", and angry emoji.
_CAPS_RUN = re.compile(r"\b[A-Z][A-Z']{1,}(?:[ ,.]+[A-Z][A-Z']{1,})+\b|\b[A-Z]{6,}\b")
_PUNCT_BURST = re.compile(r"[!?]*![!?]*!+[!?]*|\?!+|!\?+")
_ANGRY_EMOJI = re.compile("[\U0001f620\U0001f621\U0001f92c\U0001f624\U0001f4a2]+")
_MIN_CAPS_LETTERS = 6


def _shouting(text: str, lowered: str) -> list[Cue]:
    found: list[Cue] = []
    if text != lowered:  # no capital letter, no capitals run
        for match in _CAPS_RUN.finditer(text):
            letters = sum(ch.isalpha() for ch in match.group())
            if letters >= _MIN_CAPS_LETTERS:
                found.append(Cue(CueKind.SHOUTING, match.start(), match.end(), match.group()))
    if "!" in text:  # every burst holds a "!"
        for match in _PUNCT_BURST.finditer(text):
            if len(match.group()) >= 2:
                found.append(Cue(CueKind.SHOUTING, match.start(), match.end(), match.group()))
    if max(text) >= "\U0001f000":  # the angry emoji all live above U+1F000
        for match in _ANGRY_EMOJI.finditer(text):
            found.append(Cue(CueKind.SHOUTING, match.start(), match.end(), match.group()))
    return found


def detect_cues(text: str) -> tuple[Cue, ...]:
    """Find every cue in ``text``, ordered by position, overlapping matches of one kind merged.

    Pure and deterministic. The returned quotes are exact substrings of ``text``.
    """
    if not text:
        return ()
    return _detect(text, text.lower(), gate=True)


def _detect(text: str, lowered: str, *, gate: bool) -> tuple[Cue, ...]:
    """:func:`detect_cues` given ``text.lower()``; ``gate=False`` runs every regex."""
    # Lower-casing never shrinks a character, so equal lengths mean the indices line up.
    # Otherwise (rare: "İ" grows) match the original text case-insensitively, ungated.
    aligned = len(lowered) == len(text)
    subject, compiled = (lowered, _COMPILED_LOWER) if aligned else (text, _COMPILED)
    gate = gate and aligned
    found: list[Cue] = []
    present = _gated_kinds(lowered) if gate else None
    for kind, pattern in compiled:
        if present is not None and kind not in present:
            continue
        for match in pattern.finditer(subject):
            start, end = match.span()
            quote = text[start:end].rstrip()
            if quote:
                found.append(Cue(kind, start, start + len(quote), quote))
    found.extend(_shouting(text, lowered))
    found.sort(key=lambda c: (c.start, c.end, c.kind))
    return _merge_overlaps(found)


def _any_in(needles: tuple[str, ...], haystack: str) -> bool:
    for needle in needles:  # noqa: SIM110 - a plain loop is twice as fast as any(genexpr)
        if needle in haystack:
            return True
    return False


def _trie_pattern(words: Iterable[str]) -> str:
    """A regex matching the longest of ``words`` that starts at a position (a trie of them).

    Sharing prefixes, it tries about one branch per character instead of every word.
    """
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        branches = [re.escape(char) + emit(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        # a word ends here: the longer words are tried first (greedy), then this one
        return "(?:" + body + ")?" if "" in node else body

    return emit(trie)


_ALL_ANCHORS = sorted({anchor for anchors in _ANCHORS.values() for anchor in anchors})
# Every anchor occurrence, found in one pass: at each position the longest anchor starting
# there (zero-width, so occurrences may overlap) ...
_ANCHOR_SCAN = re.compile("(?=(" + _trie_pattern(_ALL_ANCHORS) + "))")
# ... stands for itself and every anchor that is a prefix of it (they start there too).
_ANCHOR_KINDS: dict[str, frozenset[CueKind]] = {
    found: frozenset(
        kind for kind, anchors in _ANCHORS.items() if any(found.startswith(a) for a in anchors)
    )
    for found in _ALL_ANCHORS
}


def _gated_kinds(lowered: str) -> set[CueKind]:
    """The kinds with at least one anchor in ``lowered`` (as :func:`_any_in` per kind)."""
    kinds: set[CueKind] = set()
    for found in _ANCHOR_SCAN.findall(lowered):
        kinds |= _ANCHOR_KINDS[found]
    return kinds


def _merge_overlaps(cues: list[Cue]) -> tuple[Cue, ...]:
    kept: list[Cue] = []
    last_end: dict[CueKind, int] = {}
    for cue in cues:
        if last_end.get(cue.kind, -1) > cue.start:
            continue
        kept.append(cue)
        last_end[cue.kind] = cue.end
    return tuple(kept)
