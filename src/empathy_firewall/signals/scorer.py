"""The support-domain scorer: sentiment and frustration from general lexicon and cue features.

:class:`SupportScorer` is the library's default text analyzer
(:class:`~empathy_firewall.signals.text.TextAnalyzer`). It turns a message into a short list
of *general* features, never the words of one industry:

- polarity of the words in TextBlob's shipped adjective lexicon (read once, no TextBlob call
  per text), with negation ("not happy") and intensifiers ("very late");
- a hand-curated vocabulary of customer-service language: praise, complaints, problems that
  need no angry word ("never arrived", "charged twice", "on hold"), requests and questions;
- the cues of :mod:`empathy_firewall.signals.cues` (waiting, repetition, escalation,
  cancellation, shouting, sarcasm, gratitude...);
- politeness wrapped around a problem, praise next to a complaint (sarcasm), emoji and
  emoticons, question shape, exclamation and capitals.

Two logistic regressions over those features, fitted by ``scripts/train_scorer.py`` and shipped
as ``scorer_model.json``, give P(positive | polar) and P(neutral). Sentiment is
``(2 P(positive) - 1) * (1 - P(neutral))``: its sign says which way the message leans, and a
plain request stays near 0. Frustration combines the negative part of the sentiment with the
frustration cues (noisy-OR). Pure Python: no numpy, no network, no model download.
"""

from __future__ import annotations

import importlib.util
import json
import math
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from empathy_firewall.signals.cues import Cue, CueKind, _detect
from empathy_firewall.signals.text import TextSignals, frustration_from

__all__ = [
    "DENSE_FEATURES",
    "EXCLUDED_DOMAIN_WORDS",
    "VOCABULARY",
    "ScorerModel",
    "SupportScorer",
    "extract_features",
    "load_model",
]


def _entries(joined: str) -> tuple[str, ...]:
    """Split a ``|``-separated list of words and phrases (kept compact in the source)."""
    return tuple(joined.split("|"))


# ---------------------------------------------------------------------------------------
# Curated vocabulary. Written by hand from general customer-service language (any business:
# shops, software, utilities, banks, delivery), NOT learned from any data set. Each entry gets
# a fitted weight. Words of one industry (travel: flight, seat, gate, baggage...) are kept out
# on purpose, see EXCLUDED_DOMAIN_WORDS; a test enforces it.
# ---------------------------------------------------------------------------------------

_PRAISE = _entries(
    "thanks|thank|thx|ty|appreciate|appreciated|grateful|love|loved|great|awesome|amazing|"
    "excellent|fantastic|wonderful|brilliant|perfect|best|good|nice|happy|glad|pleased|"
    "impressed|helpful|friendly|kind|quick|quickly|fast|smooth|easy|seamless|recommend|kudos|"
    "shoutout|props|lifesaver|hero|superb|outstanding|exceptional|delighted|enjoy|enjoyed|"
    "cool|yay|beautiful|lovely|sweet|fun|well done|good job|great job|top notch|"
    "and beyond|so helpful|thank you|much appreciated|made my|you rock|keep it|"
    "the best|great service|excellent service|on time|sorted|resolved|fixed|solved|worked|"
    "works great|helped|fine|ok|okay|cheers|yes|finally"
)
_COMPLAINT = _entries(
    "worst|terrible|horrible|awful|unacceptable|ridiculous|disgusting|pathetic|useless|"
    "incompetent|rude|unprofessional|joke|nightmare|disaster|scam|furious|livid|outraged|"
    "angry|mad|upset|annoyed|annoying|frustrated|frustrating|frustration|disappointed|"
    "disappointing|disappointment|hate|sucks|suck|fail|failed|fails|poor|bad|shame|shameful|"
    "embarrassing|absurd|insane|unbelievable|lousy|mess|fed up|sick of|tired of|no excuse|"
    "not acceptable|wtf|ugh|smh|seriously|really|why|horrendous|appalling|atrocious|"
    "inexcusable|shocking|stupid|dumb|crap|sad|sorry|worse|never again|waste|wasted|wasting|"
    "lie|lied|lies|liar|ignored|ignoring|ignore|careless|hopeless|zero|nothing|anything|"
    "complaint|complain"
)
_PROBLEM = _entries(
    "broken|missing|lost|lose|losing|late|delayed|delay|delays|cancelled|canceled|cancel|"
    "cancellation|wrong|error|errors|issue|issues|problem|problems|stuck|refund|refunds|"
    "charged|charge|overcharged|fee|fees|damaged|defective|crashed|crash|down|outage|unable|"
    "can't|cannot|couldn't|won't|doesn't|didn't|still|again|hold|on hold|waiting|wait|"
    "hour|never|nobody|no one|no response|no answer|no reply|not working|"
    "doesn't work|never arrived|never received|not received|didn't arrive|didn't receive|"
    "hung up|hang up|disconnected|call back|customer service|compensation|charged twice|"
    "double charged|money|paid|pay|policy|excuse|excuses|explanation|supposed|promised|told|"
    "was told|apparently|impossible|difficult|hard|confusing|confused|trying|tried|twice|"
    "every time|response|respond|answer|anyone|help|need|needed|because|without|only|over|"
    "long|line|phone|call|calls|called|no|not|crashing|crashes|freezing|frozen|freezes|"
    "glitch|glitches|bug|bugs|failing|declined|locked out|blocked|suspended|unresolved|"
    "expired|incorrect|faulty|unusable|slow|not loading|keeps crashing|overdue|replacement|"
    "undelivered|not delivered|overcharge|scammed|ripped off|runaround|nowhere|hassle|"
    "chargeback|escalate|complaints|leaking|leak|missed|mistake|mistakes|unanswered"
)
_REQUEST = _entries(
    "please|pls|plz|kindly|could|would|can|how|what|when|where|which|who|question|info|"
    "information|wondering|possible|available|want|looking|is there|do you|can i|how do|"
    "how can|is it|are there|any|check|status|change|update|details|email|link|dm|sent|"
    "follow|know|let me|hi|hello|hey|new|would like|if|or|will|should|number|"
    "account|order"
)

#: the curated vocabulary, grouped; group names are also dense feature names
VOCABULARY: dict[str, tuple[str, ...]] = {
    "praise": _PRAISE,
    "complaint": _COMPLAINT,
    "problem": _PROBLEM,
    "request": _REQUEST,
}

#: words of one industry that must never enter the vocabulary (the dev data is airline
#: tweets; a model that learned them would not carry over to other businesses)
EXCLUDED_DOMAIN_WORDS: frozenset[str] = frozenset(
    _entries(
        "aircraft|airline|airlines|airport|airways|arrival|attendant|attendants|aviation|bag|"
        "baggage|bags|board|boarding|booked|booking|cabin|connecting|connection|crew|depart|"
        "departure|destination|entertainment|fare|fares|flew|flight|flights|flown|fly|flying|"
        "gate|gates|hotel|itinerary|jet|layover|lounge|luggage|mileage|miles|passenger|"
        "passengers|pilot|pilots|plane|planes|rebook|rebooked|rebooking|reservation|runway|"
        "seat|seating|seats|snow|storm|tarmac|terminal|ticket|tickets|travel|traveling|trip|"
        "tsa|upgrade|vacation|weather|wifi"
    )
)

_VOCAB_GROUP: dict[str, str] = {
    entry: group for group, entries in VOCABULARY.items() for entry in entries
}
_PHRASE_STARTS = frozenset(entry.split()[0] for entry in _VOCAB_GROUP if " " in entry)

_NEGATORS = frozenset(
    _entries(
        "no|nor|not|aint|cant|dont|isnt|none|wont|ain't|arent|can't|didnt|don't|hadnt|hasnt|"
        "isn't|never|wasnt|won't|aren't|barely|cannot|didn't|doesnt|hadn't|hardly|hasn't|"
        "havent|nobody|wasn't|couldnt|doesn't|haven't|neither|nothing|weren't|without|"
        "wouldnt|couldn't|wouldn't|shouldn't"
    )
)
_INTENSIFIERS = frozenset(
    _entries(
        "absolutely|awfully|beyond|completely|extra|extremely|highly|hugely|incredibly|"
        "insanely|literally|most|really|ridiculously|seriously|so|such|super|terribly|too|"
        "totally|truly|utterly|very"
    )
)
_POLITE = frozenset(("please", "pls", "plz", "kindly", "could", "would", "appreciate"))
_QUESTION_OPENERS = frozenset(
    (
        "how",
        "what",
        "when",
        "where",
        "why",
        "who",
        "which",
        "can",
        "could",
        "is",
        "are",
        "do",
        "does",
        "will",
        "would",
        "any",
        "did",
        "should",
        "may",
    )
)
_PUNCTUATION = frozenset(".,;:!?")
_SENTENCE_END = frozenset(".;:!?")
_NEGATION_SCOPE = 3
#: what follows these words usually carries the writer's verdict ("slow, but they fixed it")
_CONTRAST = frozenset(("but", "however", "although", "though", "yet", "still", "anyway"))
_THANKS = frozenset(("thanks", "thank", "thx", "ty"))
_THANKS_WINDOW = 8
_SARCASM_LEXICON = -0.3
_TAIL_SIGN = {"praise": 1.0, "complaint": -1.0, "problem": -1.0, "request": 0.0}
_INTENSITY = 1.5
_NEGATED = -0.5

_STRIP = re.compile(r"https?://\S+|www\.\S+|@\w+|&\w+;")
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)*|[.,;:!?]")
_URL = re.compile(r"https?://|www\.")
_EMOTICON = re.compile(
    r"(?:^|\s)(?:(?P<pos>[:;=]-?[)\]dDpP*]|\(-?[:;=]|<3|\^_?\^)"
    r"|(?P<neg>[:;=]'?-?[(\[/\\|]|\)-?:|>:\(|[dD]-?:))(?=\s|$|[!.,])"
)
_EMOJI_POS = frozenset(
    "\U0001f600\U0001f603\U0001f604\U0001f601\U0001f60a\U0001f60d\U0001f970\U0001f618"
    "\U0001f44d\U0001f44f\U0001f64c\U0001f389\u2764\U0001f495\U0001f499\U0001f49c\U0001f49a"
    "\u2728\U0001f60e\u263a\U0001f4af\U0001f642\U0001f917\U0001f38a\U0001f31f\u2b50\U0001f618"
    "\U0001f602\U0001f606\U0001f60b\U0001f496\U0001f497\U0001f49b\U0001f64f"
)
_EMOJI_NEG = frozenset(
    "\U0001f620\U0001f621\U0001f92c\U0001f624\U0001f61e\U0001f614\U0001f61f\U0001f622\U0001f62d"
    "\U0001f629\U0001f62b\U0001f644\U0001f612\U0001f44e\U0001f494\U0001f926\U0001f611\U0001f610"
    "\U0001f615\U0001f62a\U0001f630\U0001f625\U0001f623\U0001f616\U0001f62c\U0001f4a2\U0001f643"
    "\U0001f637\U0001f635\U0001f62e\U0001f631"
)
_CUE_KINDS: tuple[CueKind, ...] = tuple(CueKind)
_CUE_CAP = 3

#: dense (always present) features, in the order the model stores their weights
DENSE_FEATURES: tuple[str, ...] = (
    "lex_pos",
    "lex_neg",
    "lex_mean",
    "lex_min",
    "lex_max",
    "negated_pos",
    "negated_neg",
    "negators",
    "intensifiers",
    *(f"group_{group}" for group in VOCABULARY),
    *(f"cue_{kind.value}" for kind in _CUE_KINDS),
    "frustration_cues",
    "polite_problem",
    "praise_with_trouble",
    "exclamations",
    "questions",
    "ends_question",
    "opens_question",
    "emoji_pos",
    "emoji_neg",
    "has_url",
    "log_tokens",
    "lex_after_contrast",
    "praise_minus_trouble_after_contrast",
    "thanks_then_complaint",
)
_DENSE_INDEX: dict[str, int] = {name: i for i, name in enumerate(DENSE_FEATURES)}


@dataclass(frozen=True, slots=True)
class Features:
    """The features of one text: dense values (``DENSE_FEATURES`` order) and vocabulary hits.

    ``vocab`` maps each curated entry found to +1 per plain occurrence and -1 per negated one.
    """

    dense: tuple[float, ...]
    vocab: dict[str, float]


def _textblob_file(*parts: str) -> Path:
    """A data file shipped inside the textblob package, found without importing it.

    Importing textblob imports NLTK, which costs about 120 MB of memory per process; we only
    need one of its data files.
    """
    spec = importlib.util.find_spec("textblob")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("textblob is not installed")
    return Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)


@cache
def _polarity_lexicon() -> dict[str, float]:
    """Word -> mean polarity over its senses, from TextBlob's shipped ``en-sentiment.xml``.

    Read once per process as plain text (no TextBlob call per message, no XML entity
    expansion). Words with polarity 0 are dropped.
    """
    raw = _textblob_file("en", "en-sentiment.xml").read_text("utf-8")
    senses: dict[str, list[float]] = {}
    for match in re.finditer(r'<word form="([^"]+)"[^>]*?polarity="(-?[0-9.]+)"', raw):
        senses.setdefault(match.group(1).lower(), []).append(float(match.group(2)))
    means = {word: sum(values) / len(values) for word, values in senses.items()}
    return {word: value for word, value in means.items() if value != 0.0}


def _tokens(lowered: str) -> list[str]:
    cleaned = _STRIP.sub(" ", lowered.replace("\u2019", "'"))
    return _TOKEN.findall(cleaned)


def _emoji_counts(text: str) -> tuple[int, int]:
    positive = negative = 0
    if ":" in text or ";" in text or "=" in text or "<3" in text or "^" in text:
        for match in _EMOTICON.finditer(text):
            if match.lastgroup == "pos":
                positive += 1
            else:
                negative += 1
    if text and max(text) >= "\u2600":
        for char in text:
            if char in _EMOJI_POS:
                positive += 1
            elif char in _EMOJI_NEG:
                negative += 1
    return positive, negative


def extract_features(text: str, cues: tuple[Cue, ...] | None = None) -> Features:
    """Compute the scorer's features for ``text`` (``cues`` if already detected).

    Used both by the runtime scorer and by the training script, so the two can never drift.
    """
    lowered = text.lower()
    if cues is None:
        cues = _detect(text, lowered, gate=True) if text else ()
    lexicon = _polarity_lexicon()
    tokens = _tokens(lowered)
    vocab: dict[str, float] = {}
    group_counts = dict.fromkeys(VOCABULARY, 0.0)
    scores: list[float] = []
    tail_lex = 0.0  # lexicon polarity after the last contrast word
    tail_balance = 0.0  # praise minus complaint and problem words after it
    contrast = False
    thanks_window = 0  # tokens left in which a complaint makes the thanks sarcastic
    sarcastic_thanks = 0
    negated_pos = negated_neg = negators = intensifiers = 0
    scope = 0
    boost = 1.0
    last = len(tokens) - 1
    words: list[str] = []
    for i, token in enumerate(tokens):
        if token in _PUNCTUATION:
            scope = 0
            boost = 1.0
            if token in _SENTENCE_END:
                thanks_window = 0
            continue
        words.append(token)
        sign = -1.0 if scope else 1.0
        entries = (
            (token, f"{token} {tokens[i + 1]}")
            if token in _PHRASE_STARTS and i < last
            else (token,)
        )
        for entry in entries:
            group = _VOCAB_GROUP.get(entry)
            if group is not None:
                vocab[entry] = vocab.get(entry, 0.0) + sign
                group_counts[group] += sign
                tail_balance += _TAIL_SIGN[group] * sign
                if thanks_window and group == "complaint" and sign > 0:
                    sarcastic_thanks += 1
                    thanks_window = 0
        polarity = lexicon.get(token)
        if polarity is not None:
            value = polarity * boost
            if scope:
                value *= _NEGATED
                if polarity > 0:
                    negated_pos += 1
                else:
                    negated_neg += 1
            scores.append(value)
            tail_lex += value
            if thanks_window and value < _SARCASM_LEXICON:
                sarcastic_thanks += 1
                thanks_window = 0
        if token in _THANKS:
            thanks_window = _THANKS_WINDOW
        elif thanks_window:
            thanks_window -= 1
        if token in _CONTRAST:
            contrast = True
            tail_lex = tail_balance = 0.0
        boost = 1.0
        if token in _NEGATORS:
            negators += 1
            scope = _NEGATION_SCOPE
        elif scope:
            scope -= 1
        if token in _INTENSIFIERS:
            intensifiers += 1
            boost = _INTENSITY
    kind_counts = dict.fromkeys(_CUE_KINDS, 0)
    for cue in cues:
        kind_counts[cue.kind] += 1
    frustration_cues = sum(
        1
        for kind, count in kind_counts.items()
        if count and kind not in (CueKind.GRATITUDE, CueKind.SARCASM)
    )
    trouble = group_counts["problem"] + group_counts["complaint"] > 0 or frustration_cues > 0
    praise = group_counts["praise"] > 0 or any(s > 0.3 for s in scores)
    polite = any(t in _POLITE for t in words)
    emoji_pos, emoji_neg = _emoji_counts(text)
    stripped = text.rstrip()
    positives = [s for s in scores if s > 0]
    negatives = [s for s in scores if s < 0]
    dense = (
        sum(positives),
        -sum(negatives),
        sum(scores) / len(scores) if scores else 0.0,
        min(scores, default=0.0),
        max(scores, default=0.0),
        float(negated_pos),
        float(negated_neg),
        float(negators),
        float(intensifiers),
        *group_counts.values(),
        *(float(min(kind_counts[kind], _CUE_CAP)) for kind in _CUE_KINDS),
        float(frustration_cues),
        1.0 if polite and trouble else 0.0,
        1.0 if praise and trouble else 0.0,
        float(min(text.count("!"), 5)),
        float(min(text.count("?"), 5)),
        1.0 if stripped.endswith("?") else 0.0,
        1.0 if words and words[0] in _QUESTION_OPENERS else 0.0,
        float(emoji_pos),
        float(emoji_neg),
        1.0 if _URL.search(lowered) else 0.0,
        math.log1p(len(words)),
        tail_lex if contrast else 0.0,
        tail_balance if contrast else 0.0,
        float(min(sarcastic_thanks, 2)),
    )
    return Features(dense, vocab)


@dataclass(frozen=True, slots=True)
class Head:
    """One fitted logistic regression: bias, dense weights, vocabulary weights."""

    bias: float
    dense: tuple[float, ...]
    vocab: dict[str, float]

    def probability(self, features: Features) -> float:
        """P(class | features)."""
        z = self.bias
        for weight, value in zip(self.dense, features.dense, strict=True):
            if value:
                z += weight * value
        weights = self.vocab
        for entry, count in features.vocab.items():
            z += weights.get(entry, 0.0) * count
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-min(z, 500.0)))
        exp_z = math.exp(max(z, -500.0))
        return exp_z / (1.0 + exp_z)


@dataclass(frozen=True, slots=True)
class ScorerModel:
    """The two heads: P(positive | positive or negative) and P(neutral)."""

    polarity: Head
    neutral: Head

    def sentiment(self, features: Features) -> float:
        """Sentiment in [-1, 1]: the polar lean, shrunk by how neutral the text looks."""
        lean = 2.0 * self.polarity.probability(features) - 1.0
        return max(-1.0, min(1.0, lean * (1.0 - self.neutral.probability(features))))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScorerModel:
        """Build from the JSON layout written by ``scripts/train_scorer.py``."""
        names = tuple(data["dense_features"])
        if names != DENSE_FEATURES:
            raise ValueError("scorer model was trained on other features; retrain it")
        return cls(_head(data["heads"]["polarity"]), _head(data["heads"]["neutral"]))

    def to_dict(self) -> dict[str, Any]:
        """The JSON layout (inverse of :meth:`from_dict`)."""
        return {
            "dense_features": list(DENSE_FEATURES),
            "heads": {
                name: {"bias": head.bias, "dense": list(head.dense), "vocab": dict(head.vocab)}
                for name, head in (("polarity", self.polarity), ("neutral", self.neutral))
            },
        }


def _head(data: dict[str, Any]) -> Head:
    dense = tuple(float(w) for w in data["dense"])
    if len(dense) != len(DENSE_FEATURES):
        raise ValueError("scorer model has the wrong number of dense weights")
    vocab = {str(k): float(v) for k, v in data["vocab"].items()}
    return Head(float(data["bias"]), dense, vocab)


@cache
def load_model() -> ScorerModel:
    """The shipped model (``scorer_model.json`` inside the package), loaded once."""
    raw = resources.files("empathy_firewall.signals").joinpath("scorer_model.json").read_text()
    return ScorerModel.from_dict(json.loads(raw))


# A fitted polarity is sharper than a lexicon's, so its negative part weighs more.
_NEGATIVITY_WEIGHT = 0.8


def frustration_level(sentiment: float, cues: tuple[Cue, ...]) -> float:
    """Frustration in [0, 1] from the scorer's sentiment and the cues found."""
    return frustration_from(sentiment, cues, negativity_weight=_NEGATIVITY_WEIGHT)


class SupportScorer:
    """Support-domain sentiment and frustration, with the cues that explain them.

    Implements both :class:`~empathy_firewall.signals.text.TextAnalyzer` (``analyze``) and
    :class:`~empathy_firewall.signals.sentiment.SentimentAnalyzer` (``score``).
    """

    def __init__(self, model: ScorerModel | None = None) -> None:
        self.model = model if model is not None else load_model()

    def score(self, text: str) -> float:
        """Sentiment of ``text`` in [-1, 1]; near 0 for a plain request."""
        return self._score(text, text.lower())[0]

    def analyze(self, text: str) -> TextSignals:
        """Sentiment, frustration and cues (with their spans) of one text."""
        sentiment, cues = self._score(text, text.lower())
        return TextSignals(round(sentiment, 6), frustration_level(sentiment, cues), cues)

    def _score(self, text: str, lowered: str) -> tuple[float, tuple[Cue, ...]]:
        if not text.strip():
            return 0.0, ()
        cues = _detect(text, lowered, gate=True)
        return self.model.sentiment(extract_features(text, cues)), cues
