"""The multilingual support scorer: a calibrated 3-class model over word and character n-grams.

:class:`SupportScorer` is the library's default text analyzer
(:class:`~empathy_firewall.signals.text.TextAnalyzer`). For each message it returns the
language (py3langid, see :mod:`empathy_firewall.signals.language`), a label (negative,
neutral or positive) with probabilities, a sentiment in [-1, 1] (P(positive) - P(negative)),
frustration in [0, 1] and the cues that explain it.

The model is a multinomial logistic regression fitted by ``scripts/train_scorer.py`` on English
support tweets and tweets in six languages (read from ``../shared``, never shipped). Its
features are counted and scaled by 1/sqrt(their number), so a long message is neither more
nor less extreme than a short one:

- words and adjacent word pairs, lower-cased, accents kept;
- character 2- to 5-grams inside each word (they carry over between inflections and typos);
- VADER's English valence lexicon and a small hand-written lexicon for the other five
  languages, as valence buckets, flipped after a negation ("not happy");
- the kinds of cue :mod:`empathy_firewall.signals.cues` finds;
- and each of these again for the identified language (``"de|" + feature``), so the model
  learns what the languages share and corrects it per language.

Only the weights ship (``scorer_model.json.gz``): two numbers per feature, the log-odds of
negative and of positive against neutral. Scoring is pure Python: a word's own features do not
depend on its neighbours, so their weights are summed once per word and language and cached.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from itertools import pairwise, repeat
from pathlib import Path
from typing import Any

from empathy_firewall.signals.cues import FRUSTRATION_KINDS, Cue, CueKind, _detect
from empathy_firewall.signals.language import (
    SUPPORTED_LANGUAGES,
    UNDETERMINED,
    detect_language,
    detect_languages,
)
from empathy_firewall.signals.text import TextSignals, frustration_from

__all__ = [
    "LABELS",
    "ScorerModel",
    "SupportScorer",
    "extract_features",
    "feature_fingerprint",
    "load_model",
]

#: the model's classes, in the order of :attr:`TextSignals.probabilities`
LABELS: tuple[str, str, str] = ("negative", "neutral", "positive")
#: version of the feature set; a model fitted on another version is refused
FEATURE_VERSION = 4
CHAR_NGRAMS: tuple[int, ...] = (2, 3, 4, 5)
#: the shipped weights: gzip-compressed JSON inside this package
MODEL_FILE = "scorer_model.json.gz"

_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"@\w+")
_TOKEN = re.compile(
    r"[^\W\d_]+(?:'[^\W\d_]+)?|\d+|[!?]"
    r"|[\U0001f300-\U0001faff\u2600-\u27bf]"
    r"|[:;=][-']?[()\[\]dDpP/\\|*]"
)
_NEGATION_SCOPE = 3
# Negators in the six languages (tokens after lower-casing; "n't" forms end a token).
_NEGATORS = frozenset(
    " ".join(
        (
            "not no never nobody nothing none neither nor cannot without",
            "isn't aren't wasn't weren't don't doesn't didn't can't couldn't won't wouldn't",
            "shouldn't haven't hasn't hadn't dont doesnt didnt cant wont isnt wasnt aint",
            "nunca nada nadie ni tampoco sin",
            "nicht kein keine keinen keinem keiner nie niemals niemand nichts ohne",
            "pas jamais rien personne aucun aucune sans",
            "não nao nem nenhum nenhuma ninguém sem",
            "non mai niente nessuno nessuna senza",
        )
    ).split()
)


def _words(joined: str, valence: float) -> dict[str, float]:
    return dict.fromkeys(joined.split(), valence)


# A small valence lexicon for the five languages VADER does not cover, written for this
# project from general customer-service language (no data-set text): a few dozen common
# forms per language. It gives the model a prior that carries beyond the training tweets.
_ML_LEXICON: dict[str, float] = {
    # Problems that need no angry word, in the six languages (VADER lacks most of them)
    **_words(
        "crash crashes crashed crashing broken broke error errors bug bugs buggy glitch "
        "glitches freezes freezing frozen stuck missing lost declined failed failing fails "
        "defective damaged overcharged unusable outage "
        "error errores fallo falla roto rota bloqueado perdido perdida dañado cobrado "
        "fehler absturz abgestürzt stürzt hängt verloren beschädigt abgelehnt "
        "erreur erreurs bug plante planté bloqué perdu perdue endommagé refusé "
        "erro erros falha travando travou perdido perdida danificado recusado "
        "errore errori guasto bloccato blocca perso persa danneggiato rifiutato",
        -1.5,
    ),
    # Spanish
    **_words(
        "gracias genial excelente perfecto perfecta encanta encantado encantada feliz "
        "maravilloso maravillosa fantástico fantástica increíble bueno buena buenísimo "
        "mejor amable rápido rápida resuelto solucionado agradecido agradecida estupendo",
        2.0,
    ),
    **_words(
        "malo mala pésimo pésima horrible terrible vergüenza desastre inaceptable "
        "harto harta enfadado enfadada molesto molesta decepcionado decepcionada "
        "decepción estafa basura peor odio triste ridículo lamentable asco roto rota",
        -2.0,
    ),
    # German
    **_words(
        "danke super toll perfekt klasse prima wunderbar großartig hervorragend "
        "ausgezeichnet freundlich schnell zufrieden glücklich freue gelöst hilfreich "
        "spitze genial lieben liebe gut gute guten",
        2.0,
    ),
    **_words(
        "schlecht schlechte schlechter schlimm furchtbar schrecklich unverschämt "
        "unverschämtheit katastrophe frechheit enttäuscht enttäuschung ärgerlich "
        "sauer wütend betrug mist scheiße traurig unmöglich kaputt defekt nervt",
        -2.0,
    ),
    # French
    **_words(
        "merci génial excellent excellente parfait parfaite super top bravo ravi ravie "
        "content contente heureux heureuse magnifique formidable rapide efficace "
        "aimable résolu adore bien bon bonne",
        2.0,
    ),
    **_words(
        "nul nulle mauvais mauvaise horrible terrible honte catastrophe inadmissible "
        "inacceptable déçu déçue déception énervé énervée arnaque pire triste "
        "lamentable scandaleux scandale marre cassé cassée",
        -2.0,
    ),
    # Portuguese
    **_words(
        "obrigado obrigada ótimo ótima excelente perfeito perfeita maravilhoso "
        "maravilhosa adorei amei feliz incrível bom boa melhor rápido rápida "
        "resolvido parabéns gentil legal",
        2.0,
    ),
    **_words(
        "péssimo péssima horrível terrível vergonha desastre inaceitável decepcionado "
        "decepcionada decepção irritado irritada chateado chateada golpe pior triste "
        "ridículo lamentável absurdo quebrado quebrada lixo",
        -2.0,
    ),
    # Italian
    **_words(
        "grazie ottimo ottima eccellente perfetto perfetta fantastico fantastica "
        "bellissimo bellissima felice contento contenta gentile veloce risolto "
        "bravo bravi bravissimi complimenti meraviglioso buono buona",
        2.0,
    ),
    **_words(
        "pessimo pessima orribile terribile vergogna disastro inaccettabile deluso "
        "delusa delusione arrabbiato arrabbiata truffa peggio peggiore triste "
        "ridicolo schifo rotto rotta vergognoso",
        -2.0,
    ),
}


def _vader_lexicon_file() -> Path:
    """``vader_lexicon.txt`` inside the vaderSentiment package, found without importing it."""
    spec = importlib.util.find_spec("vaderSentiment")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("vaderSentiment is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "vader_lexicon.txt"


@cache
def _lexicon() -> dict[str, str]:
    """Token -> valence bucket feature ("V2", "V-3"...), from VADER's and our lexicons."""
    valence: dict[str, float] = {}
    for line in _vader_lexicon_file().read_text("utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2:
            try:
                valence[parts[0].lower()] = float(parts[1])
            except ValueError:
                continue
    for word, value in _ML_LEXICON.items():
        valence.setdefault(word, value)
    buckets: dict[str, str] = {}
    for word, value in valence.items():
        bucket = max(-3, min(3, round(value)))
        if bucket:
            buckets[word] = f"V{bucket}"
    return buckets


def _normalise(lowered: str) -> str:
    lowered = lowered.replace("\u2019", "'")
    if "http" in lowered or "www." in lowered:
        lowered = _URL.sub(" http ", lowered)
    if "@" in lowered:
        lowered = _MENTION.sub(" @user ", lowered)
    return lowered


def tokenize(text: str) -> list[str]:
    """The scorer's tokens: lower-cased words, digits, ``!``/``?``, emoji and emoticons."""
    return _TOKEN.findall(_normalise(text.lower()))


def token_features(token: str) -> tuple[str, ...]:
    """A token's own features: the word and its character n-grams (padded with spaces).

    They depend on nothing around the token, so the runtime sums each token's weights once
    and afterwards reads the sum from a cache.
    """
    features = ["w" + token]
    if token[0].isalpha():
        padded = " " + token + " "
        for n in CHAR_NGRAMS:
            features += [padded[i : i + n] for i in range(len(padded) - n + 1)]
    return tuple(features)


def context_features(text: str, tokens: Sequence[str], cues: Iterable[Cue]) -> list[str]:
    """Features that depend on neighbours: word pairs, negated valence, cues, ``!!``."""
    features = ["b" + a + " " + b for a, b in pairwise(tokens)]
    lexicon = _lexicon()
    negated = 0
    for token in tokens:
        bucket = lexicon.get(token)
        if bucket is not None:
            features.append(("N" + bucket) if negated else bucket)
        if token in _NEGATORS:
            negated = _NEGATION_SCOPE
        elif negated:
            negated -= 1
    features += ["c:" + cue.kind.value for cue in cues]
    if text.count("!") >= 2:
        features.append("x:bang")
    return features


def extract_features(text: str, cues: Iterable[Cue] | None = None) -> dict[str, int]:
    """The scorer's features of ``text`` with their counts (``cues`` if already detected).

    Used by the training script; the runtime computes the same sums token by token
    (:meth:`ScorerModel.logits`), so the two cannot drift (a test checks it).
    """
    if cues is None:
        cues = _detect(text, text.lower(), gate=True) if text else ()
    tokens = tokenize(text)
    counts: Counter[str] = Counter()
    for token in tokens:
        counts.update(token_features(token))
    counts.update(context_features(text, tokens, cues))
    return dict(counts)


def language_key(code: str) -> str | None:
    """The prefix of a language's own copy of every feature (None: shared weights only)."""
    return code + "|" if code in SUPPORTED_LANGUAGES else None


def _softmax(z_negative: float, z_positive: float) -> tuple[float, float, float]:
    top = max(z_negative, z_positive, 0.0)
    e_neg = math.exp(z_negative - top)
    e_neu = math.exp(-top)
    e_pos = math.exp(z_positive - top)
    total = e_neg + e_neu + e_pos
    return e_neg / total, e_neu / total, e_pos / total


# Tokens whose summed weights are kept per language before the cache is emptied.
_TOKEN_CACHE_LIMIT = 200_000


@dataclass(frozen=True)
class ScorerModel:
    """Fitted weights: per feature the log-odds of negative and of positive against neutral.

    Every feature has a shared weight and, for a supported language, a weight of its own
    (named ``"de|" + feature``...): one model that learns what all languages share and
    corrects it per language. Features are counted and the sum of a text's weights is scaled
    by ``1 / sqrt(number of features)``, as in training. ``temperature`` divides the logits
    (calibration).
    """

    bias: tuple[float, float]
    negative: dict[str, float] = field(repr=False)
    positive: dict[str, float] = field(repr=False)
    temperature: float = 1.0
    # Both weights of a feature as one complex number (negative + positive j): one look-up
    # per feature instead of two. Derived, so not compared.
    _packed: dict[str, complex] = field(init=False, repr=False, compare=False)
    # language prefix -> feature (without the prefix) -> its language copy's packed weights:
    # looked up by the plain name, so no prefixed name is built per feature
    _own: dict[str, dict[str, complex]] = field(init=False, repr=False, compare=False)
    # language prefix -> token -> (its summed weights, its number of features)
    _tokens: dict[str, dict[str, tuple[complex, int]]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        packed = {name: complex(weight, 0.0) for name, weight in self.negative.items()}
        for name, weight in self.positive.items():
            packed[name] = complex(packed.get(name, 0j).real, weight)
        own: dict[str, dict[str, complex]] = {}
        for name, weights in packed.items():
            head, bar, rest = name.partition("|")
            if bar and language_key(head) is not None:
                own.setdefault(head + bar, {})[rest] = weights
        object.__setattr__(self, "_packed", packed)
        object.__setattr__(self, "_own", own)
        object.__setattr__(self, "_tokens", {})

    def _weigh(self, features: Sequence[str], prefix: str | None) -> complex:
        total = sum(map(self._packed.get, features, repeat(0j)), 0j)
        if prefix is not None:
            own = self._own.get(prefix)
            if own:
                total += sum(map(own.get, features, repeat(0j)), 0j)
        return total

    def _probabilities(self, total: complex, count: int) -> tuple[float, float, float]:
        inverse = 1.0 / self.temperature
        scale = inverse / math.sqrt(count) if count else 0.0
        return _softmax(
            self.bias[0] * inverse + total.real * scale,
            self.bias[1] * inverse + total.imag * scale,
        )

    def probabilities(
        self, features: dict[str, int], language: str = UNDETERMINED
    ) -> tuple[float, float, float]:
        """P(negative), P(neutral), P(positive) for a text's counted features."""
        prefix = language_key(language)
        get = self._packed.get
        own = self._own.get(prefix or "", {}).get
        total = 0j
        for name, count in features.items():
            total += count * (get(name, 0j) + own(name, 0j))
        return self._probabilities(total, sum(features.values()))

    def read(
        self, text: str, cues: Iterable[Cue], language: str = UNDETERMINED
    ) -> tuple[float, float, float]:
        """:meth:`probabilities` of ``text``, each token's weights summed once and cached."""
        prefix = language_key(language)
        cache = self._tokens.get(prefix or "")
        if cache is None or len(cache) > _TOKEN_CACHE_LIMIT:
            cache = self._tokens[prefix or ""] = {}
        tokens = tokenize(text)
        total = 0j
        count = 0
        for token in tokens:
            hit = cache.get(token)
            if hit is None:
                features = token_features(token)
                hit = cache[token] = (self._weigh(features, prefix), len(features))
            total += hit[0]
            count += hit[1]
        context = context_features(text, tokens, cues)
        total += self._weigh(context, prefix)
        return self._probabilities(total, count + len(context))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScorerModel:
        """Build from the JSON layout written by ``scripts/train_scorer.py``."""
        if data.get("feature_version") != FEATURE_VERSION:
            raise ValueError("scorer model was trained on other features; retrain it")
        negative: dict[str, float] = {}
        positive: dict[str, float] = {}
        for name, (w_negative, w_positive) in data["weights"].items():
            if w_negative:
                negative[name] = float(w_negative)
            if w_positive:
                positive[name] = float(w_positive)
        bias_negative, bias_positive = data["bias"]
        return cls(
            (float(bias_negative), float(bias_positive)),
            negative,
            positive,
            float(data.get("temperature", 1.0)),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON layout (inverse of :meth:`from_dict`)."""
        names = sorted(set(self.negative) | set(self.positive))
        return {
            "feature_version": FEATURE_VERSION,
            "labels": list(LABELS),
            "bias": list(self.bias),
            "temperature": self.temperature,
            "weights": {
                name: [self.negative.get(name, 0.0), self.positive.get(name, 0.0)] for name in names
            },
        }


# Texts written for this check (not training data): negation, emoji, elongation, a URL and
# an amount, the cue families, in the six languages. What the feature code and the language
# identifier make of them is the feature fingerprint.
_PROBES: tuple[str, ...] = (
    "Still waiting for a reply after 3 days!!! This is not OK :(",
    "Great job, really. Paying for premium to get slower answers",
    "Thanks for the quick reply, but the replacement also arrived broken",
    "whatever, I give up. Taking my business elsewhere https://example.com/x",
    "Sooo happy with the refund of $59.90, thank you 🙏",
    "How do I change the email on my account?",
    "Llevo una semana esperando y nadie responde, voy a cancelar",
    "Muchas gracias, todo funciona perfectamente 😊",
    "Ich warte seit Tagen, niemand antwortet. Ich kündige!",
    "Vielen Dank, das Problem ist gelöst",
    "Toujours pas de réponse, c'est inadmissible, je résilie",
    "Merci beaucoup pour votre aide rapide",
    "Já expliquei três vezes e ninguém resolve, não aguento mais",
    "Obrigado, ficou ótimo!",
    "Sono ancora in attesa, nessuno risponde, voglio disdire",
    "Grazie mille, tutto risolto",
)


def feature_fingerprint() -> str:
    """A digest of the features and the identified language of a fixed set of probe texts.

    ``scripts/train_scorer.py`` records it with the weights it fits; when the feature code,
    the cue lists, the lexicon or the language identifier change what a text becomes, the
    fingerprint changes and the test that compares it says to retrain.
    """
    rows = [
        [text, detect_language(text).code, sorted(extract_features(text).items())]
        for text in _PROBES
    ]
    digest = hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()[:16]


@cache
def load_model() -> ScorerModel:
    """The shipped model (``scorer_model.json.gz`` inside the package), loaded once."""
    packed = resources.files("empathy_firewall.signals").joinpath(MODEL_FILE).read_bytes()
    return ScorerModel.from_dict(json.loads(gzip.decompress(packed)))


# How much a confidently negative message counts towards frustration, next to the cues.
_NEGATIVITY_WEIGHT = 0.7
# ... and a plain question (ends with "?", no frustration cue): asking is not complaining, and
# the model, fitted on tweets where questions are often rhetorical, leans negative on them.
_QUESTION_NEGATIVITY_WEIGHT = 0.25
# P(negative) from which the model's lean starts, and the width over which it reaches 1.
_LEAN_FROM = 0.5
_LEAN_SPAN = 0.25


# Asking how, where or whether one can do something, in the six languages: before a cancel
# cue in a plain question it makes the cue an inquiry ("How do I cancel my plan?").
_HOW_TO = re.compile(
    r"\b(?:how|where|c[óo]mo|d[óo]nde|wie|wo|comment|o[ùu]|onde|come|dove)\b"
    r"|\b(?:can|could|may) (?:i|we)\b|\bis it possible\b|\bpuedo\b|\bes posible\b"
    r"|\bkann (?:ich|man)\b|\bpuis-je\b|\best-ce que je peux\b|\bposso\b|\bé poss[íi]vel\b",
    re.IGNORECASE,  # searched in the text itself: cue offsets are the text's
)


def _threats(text: str, cues: tuple[Cue, ...]) -> tuple[Cue, ...]:
    """The cues of a plain question that count towards frustration: a cancel cue after
    "how", "can I", "wie"... asks rather than threatens ("How do I cancel my subscription?",
    "Wie kündige ich den Newsletter?"). It stays among the message's cues (the ticket is
    still at risk); it only adds no frustration."""
    return tuple(
        cue
        for cue in cues
        if cue.kind is not CueKind.THREAT_CANCEL or not _HOW_TO.search(text, 0, cue.start)
    )


def frustration_level(negative: float, cues: tuple[Cue, ...], *, question: bool = False) -> float:
    """Frustration in [0, 1] from P(negative) and the cues found (noisy-OR).

    Only a message more likely negative than not adds to it, by ``(P(negative) - 0.5) / 0.25``
    capped at 1, so a message the model is 75% sure is negative counts in full ("I am
    furious"). A plain ``question`` without a frustration cue counts at a third of the
    weight: the model alone tags it only when it is nearly certain.
    """
    lean = min(1.0, max(0.0, (negative - _LEAN_FROM) / _LEAN_SPAN))
    weight = _NEGATIVITY_WEIGHT
    if question and not any(cue.kind in FRUSTRATION_KINDS for cue in cues):
        weight = _QUESTION_NEGATIVITY_WEIGHT
    return frustration_from(-lean, cues, negativity_weight=weight)


_SENTENCE_END = re.compile(r"[.!?。](?=\s+\S)")


def _is_question(text: str) -> bool:
    """Whether ``text`` is one sentence ending with a question mark: a plain question.

    "My order is late. When will it ship?" is a complaint with a question, not one.
    """
    stripped = text.rstrip()
    return stripped.endswith(("?", "\uff1f")) and not _SENTENCE_END.search(stripped[:-1])


_NEUTRAL = (0.0, 1.0, 0.0)


class SupportScorer:
    """Language, label with probabilities, sentiment, frustration and cues of a message.

    Implements both :class:`~empathy_firewall.signals.text.TextAnalyzer` (``analyze``) and
    :class:`~empathy_firewall.signals.sentiment.SentimentAnalyzer` (``score``).
    """

    def __init__(self, model: ScorerModel | None = None) -> None:
        self.model = model if model is not None else load_model()

    def probabilities(self, text: str) -> tuple[float, float, float]:
        """P(negative), P(neutral), P(positive) of ``text``."""
        if not text.strip():
            return _NEUTRAL
        language = detect_language(text).code
        return self._read(text, _detect(text, text.lower(), gate=True), language)

    def _read(self, text: str, cues: tuple[Cue, ...], language: str) -> tuple[float, float, float]:
        """The model's probabilities, read past a "thanks, but" and through sarcasm.

        After "thanks, but" the customer's verdict is what follows the "but", so only that part
        is scored. A sarcasm marker ("great job, really", "thanks for nothing") turns the
        praise the model saw into the complaint it stands for: P(positive) moves to
        P(negative), and what the model already read as negative stays negative.
        """
        kinds = {cue.kind for cue in cues}
        if CueKind.THANKS_BUT in kinds:
            cut = max(c.end for c in cues if c.kind is CueKind.THANKS_BUT)
            tail = text[cut:]
            if tail.strip():
                return self.model.read(tail, _detect(tail, tail.lower(), gate=True), language)
        negative, neutral, positive = self.model.read(text, cues, language)
        if CueKind.SARCASM in kinds and positive > negative:
            return negative + positive, neutral, 0.0
        return negative, neutral, positive

    def score(self, text: str) -> float:
        """Sentiment of ``text`` in [-1, 1]: P(positive) - P(negative)."""
        negative, _, positive = self.probabilities(text)
        return _clamp(positive - negative)

    def analyze(self, text: str) -> TextSignals:
        """Everything the engine reads from one message."""
        if not text.strip():
            return TextSignals(0.0, 0.0, (), UNDETERMINED, "neutral", _NEUTRAL)
        return self._analyze(text, detect_language(text).code)

    def analyze_many(self, texts: Sequence[str]) -> list[TextSignals]:
        """:meth:`analyze` of each text, the same answers, faster per text.

        The language of all texts is identified in one vectorised pass
        (:func:`~empathy_firewall.signals.language.detect_languages`), which is most of the
        cost of a single :meth:`analyze`.
        """
        languages = detect_languages(texts)
        return [
            self._analyze(text, language.code)
            if text.strip()
            else TextSignals(0.0, 0.0, (), UNDETERMINED, "neutral", _NEUTRAL)
            for text, language in zip(texts, languages, strict=True)
        ]

    def _analyze(self, text: str, language: str) -> TextSignals:
        cues = _detect(text, text.lower(), gate=True)
        probabilities = self._read(text, cues, language)
        negative, neutral, positive = probabilities
        sentiment = round(_clamp(positive - negative), 6)
        label = LABELS[max(range(3), key=probabilities.__getitem__)]
        if cues:
            cues = _reconcile(cues, label)
        question = _is_question(text)
        counted = _threats(text, cues) if question and cues else cues
        return TextSignals(
            sentiment,
            frustration_level(negative, counted, question=question),
            cues,
            language,
            label,
            (round(negative, 6), round(neutral, 6), round(positive, 6)),
        )


_MASKING = frozenset((CueKind.SARCASM, CueKind.THANKS_BUT))
_THANKS = ("thank", "thx", "gracias", "danke", "merci", "obrigad", "grazie", "much appreciated")


def _reconcile(cues: tuple[Cue, ...], label: str) -> tuple[Cue, ...]:
    """Read praise the way the whole message reads.

    Thanks inside a sarcastic phrase or a "thanks, but" are not gratitude: those gratitude
    cues are dropped. In a message the model reads as negative, plain thanks are politeness
    around a problem (dropped), and praise with no "but" to explain it is sarcasm
    ("Great service, my order is lost again").
    """
    masks = [(c.start, c.end) for c in cues if c.kind in _MASKING]
    kept: list[Cue] = []
    for cue in cues:
        if cue.kind is CueKind.GRATITUDE:
            if any(start <= cue.start and cue.end <= end for start, end in masks):
                continue
            if label == "negative":
                if masks or cue.quote.lower().startswith(_THANKS):
                    continue
                cue = Cue(CueKind.SARCASM, cue.start, cue.end, cue.quote)
        kept.append(cue)
    return tuple(kept)


def _clamp(value: float) -> float:
    return max(-1.0, min(1.0, value))
