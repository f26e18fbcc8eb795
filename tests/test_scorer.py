"""The multilingual scorer reads complaints, questions, thanks and disguises as an agent would.

Hermetic: only the shipped weights, VADER's shipped lexicon and py3langid's shipped model are
used; the training data in ../shared is read by scripts/, never here.
"""

from __future__ import annotations

import gzip
import json
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from empathy_firewall.settings import EmotionSettings
from empathy_firewall.signals import scorer
from empathy_firewall.signals.analysis import analyze_text, default_text_analyzer
from empathy_firewall.signals.cues import CueKind, detect_cues
from empathy_firewall.signals.language import (
    SUPPORTED_LANGUAGES,
    detect_language,
    detect_languages,
)
from empathy_firewall.signals.scorer import (
    FEATURE_VERSION,
    LABELS,
    ScorerModel,
    SupportScorer,
    extract_features,
    feature_fingerprint,
    load_model,
)
from empathy_firewall.signals.sentiment import SentimentAnalyzer
from empathy_firewall.signals.text import TextAnalyzer

NEUTRAL_QUESTIONS = Path(__file__).parent / "data" / "neutral_questions.jsonl"
TAG_AT = EmotionSettings().frustration_levels[0]  # the lowest frustration tag

WAIT_AND_CANCEL = (
    "I've been waiting for two weeks and nobody answers. I want to cancel my subscription."
)
THIRD_TIME = "This is the THIRD time I am asking about my refund!!! Absolutely unacceptable."


def kinds(text: str) -> set[CueKind]:
    return {cue.kind for cue in analyze_text(text).cues}


def test_is_the_default_analyzer() -> None:
    assert isinstance(default_text_analyzer(), SupportScorer)
    assert isinstance(default_text_analyzer(), TextAnalyzer)
    assert isinstance(SupportScorer(), SentimentAnalyzer)


def test_waiting_and_cancelling_is_clearly_negative_with_cues() -> None:
    signals = analyze_text(WAIT_AND_CANCEL)
    assert signals.label == "negative"
    assert signals.sentiment < -0.5
    assert signals.frustration > 0.7
    assert {CueKind.WAITING, CueKind.THREAT_CANCEL} <= kinds(WAIT_AND_CANCEL)


def test_third_time_shouting_is_negative_with_repeat_and_shouting_cues() -> None:
    signals = analyze_text(THIRD_TIME)
    assert signals.sentiment < -0.3
    assert signals.frustration > 0.5
    assert {CueKind.REPEAT_CONTACT, CueKind.SHOUTING} <= kinds(THIRD_TIME)


@pytest.mark.parametrize(
    "text",
    [
        "please help, my order never arrived",
        "I was charged twice for the same order.",
        "The app keeps crashing when I try to log in.",
        "Not happy with the service at all.",
        "Thanks for nothing.",
        "Mi pedido nunca llegó y nadie me responde.",
        "Meine Bestellung ist immer noch nicht da, das ist eine Frechheit.",
        "Ma commande n'est jamais arrivée, c'est inadmissible.",
        "Meu pedido nunca chegou, péssimo atendimento.",
        "Il mio ordine non è mai arrivato, servizio pessimo.",
    ],
)
def test_complaints_score_negative_in_every_language(text: str) -> None:
    signals = analyze_text(text)
    assert signals.label == "negative"
    # -0.25, not -0.3: the probabilities are tempered (T = 1.25, the out-of-fold optimum),
    # a short complaint keeps some neutral mass.
    assert signals.sentiment < -0.25


@pytest.mark.parametrize(
    "text",
    [
        "Thank you so much, that fixed it!",
        "It works now, awesome",
        "¡Muchas gracias, ya funciona perfecto!",
        "Vielen Dank, jetzt funktioniert alles super!",
        "Merci beaucoup, tout fonctionne parfaitement !",
        "Muito obrigado, agora está tudo funcionando!",
        "Grazie mille, ora funziona tutto perfettamente!",
    ],
)
def test_thanks_after_a_fix_are_positive_and_calm(text: str) -> None:
    signals = analyze_text(text)
    assert signals.label == "positive"
    assert signals.sentiment > 0.4
    assert signals.frustration < TAG_AT


def _questions() -> list[tuple[str, str]]:
    lines = NEUTRAL_QUESTIONS.read_text("utf-8").splitlines()
    return [(item["lang"], item["text"]) for item in map(json.loads, lines)]


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_plain_questions_are_rarely_tagged_frustrated(language: str) -> None:
    texts = [text for lang, text in _questions() if lang == language]
    assert len(texts) >= 30
    tagged = [text for text in texts if analyze_text(text).frustration >= TAG_AT]
    assert len(tagged) <= 0.05 * len(texts), tagged


def test_length_and_question_shape_are_not_penalised() -> None:
    short = analyze_text("How do I change my email?")
    long = analyze_text(
        "Hello, I hope you are well. I recently changed jobs and would like to move my account "
        "to my new work address. How do I change the email on my account, and will my order "
        "history and saved payment details stay the same afterwards? Thank you in advance."
    )
    assert long.frustration < TAG_AT
    assert long.label != "negative"
    assert abs(long.sentiment - short.sentiment) < 0.4


@pytest.mark.parametrize(
    "text",
    [
        "Is there a phone line I can call?",
        "How long is the warranty?",
        "Which phone models does the app support?",
    ],
)
def test_long_line_and_phone_are_not_problem_words(text: str) -> None:
    signals = analyze_text(text)
    assert signals.label != "negative"
    assert signals.frustration < TAG_AT


# The golden cues of issue 14, in every supported language (texts written for this project).
SARCASM = {
    "en": "Great job, really. Paying for premium to get slower answers.",
    "es": "Genial, de verdad. Pagar premium para recibir respuestas más lentas.",
    "de": "Super gemacht, wirklich. Premium zahlen, um langsamere Antworten zu bekommen.",
    "fr": "Bravo, vraiment. Payer le premium pour avoir des réponses plus lentes.",
    "pt": "Parabéns, sério. Pagar o premium para ter respostas mais lentas.",
    "it": "Complimenti, davvero. Pagare il premium per avere risposte più lente.",
}
THANKS_BUT = {
    "en": "Thanks for the quick reply, but the replacement also arrived broken.",
    "es": "Gracias por la rápida respuesta, pero el reemplazo también llegó roto.",
    "de": "Danke für die schnelle Antwort, aber der Ersatz kam auch kaputt an.",
    "fr": "Merci pour la réponse rapide, mais le remplacement est aussi arrivé cassé.",
    "pt": "Obrigado pela resposta rápida, mas a peça de reposição também chegou quebrada.",
    "it": "Grazie per la risposta veloce, ma anche il ricambio è arrivato rotto.",
}
RESIGNATION = {
    "en": "Whatever, I give up.",
    "es": "Da igual, me rindo.",
    "de": "Egal, ich gebe auf.",
    "fr": "Peu importe, j'abandonne.",
    "pt": "Tanto faz, desisto.",
    "it": "Lasciate perdere, mi arrendo.",
}
CHURN = {
    "en": "I will be taking my business elsewhere.",
    "es": "Me voy a la competencia, han perdido un cliente.",
    "de": "Ich wechsle den Anbieter, Sie haben einen Kunden verloren.",
    "fr": "Je vais voir ailleurs, vous avez perdu un client.",
    "pt": "Vou para a concorrência, vocês perderam um cliente.",
    "it": "Passo alla concorrenza, avete perso un cliente.",
}
NOBODY_ANSWERS = {
    "en": "I wrote three days ago and nobody answers.",
    "es": "Escribí hace tres días y nadie responde.",
    "de": "Ich habe vor drei Tagen geschrieben und niemand antwortet.",
    "fr": "J'ai écrit il y a trois jours et personne ne répond.",
    "pt": "Escrevi há três dias e ninguém responde.",
    "it": "Ho scritto tre giorni fa e nessuno risponde.",
}


# "thanks for nothing" after praise for a failure, as customers write it in each language
THANKS_FOR_NOTHING = {
    "en": "Great, no answer again. Thanks for nothing.",
    "es": "Genial, otra vez sin respuesta. Gracias por nada.",
    "de": "Super, schon wieder keine Antwort. Danke für nichts.",
    "fr": "Génial, encore aucune réponse. Merci pour rien.",
    "pt": "Ótimo, de novo sem resposta. Obrigado por nada.",
    "it": "Perfetto, di nuovo nessuna risposta. Grazie per niente.",
}
# cancelling in the first person, without "I want to cancel my subscription"
I_CANCEL = {
    "en": "I'm cancelling, that's it.",
    "es": "Cancelo mi suscripción, se acabó.",
    "de": "Ich kündige, das war's.",
    "fr": "Je résilie mon abonnement, c'est fini.",
    "pt": "Vou cancelar minha assinatura, chega.",
    "it": "Disdico l'abbonamento, basta.",
}


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_thanks_for_nothing_is_sarcasm_in_every_language(language: str) -> None:
    text = THANKS_FOR_NOTHING[language]
    signals = analyze_text(text)
    assert CueKind.SARCASM in kinds(text)
    assert signals.label != "positive"
    assert signals.sentiment < 0
    assert signals.frustration >= TAG_AT


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_cancelling_in_the_first_person_is_a_cancel_threat(language: str) -> None:
    text = I_CANCEL[language]
    assert CueKind.THREAT_CANCEL in kinds(text)
    assert analyze_text(text).frustration >= TAG_AT


# asking how to cancel: a question, not a threat (the German one was tagged 0.45)
HOW_TO_CANCEL = {
    "en": "Hi, how do I cancel my subscription?",
    "es": "¿Cómo puedo cancelar mi pedido?",
    "de": "Wie kündige ich den Newsletter, ohne mein Konto zu löschen?",
    "fr": "Comment résilier mon abonnement ?",
    "pt": "Como posso cancelar minha assinatura?",
    "it": "Come posso disdire l'abbonamento?",
}


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_asking_how_to_cancel_is_not_frustration(language: str) -> None:
    text = HOW_TO_CANCEL[language]
    assert analyze_text(text).frustration < TAG_AT
    if language != "it":  # the cue stays: the ticket is still worth an at-risk tag
        assert CueKind.THREAT_CANCEL in kinds(text)


def test_a_cancel_threat_inside_a_longer_message_still_counts() -> None:
    assert (
        analyze_text("I am cancelling my account. How can you be this slow?").frustration >= TAG_AT
    )
    assert analyze_text("Why should I not cancel my account after this?").frustration >= TAG_AT


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_sarcasm_is_not_praise(language: str) -> None:
    signals = analyze_text(SARCASM[language])
    assert signals.label != "positive"
    assert signals.sentiment < 0
    assert CueKind.SARCASM in kinds(SARCASM[language])
    assert CueKind.GRATITUDE not in kinds(SARCASM[language])
    assert signals.frustration >= TAG_AT


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_thanks_but_is_a_problem_not_gratitude(language: str) -> None:
    signals = analyze_text(THANKS_BUT[language])
    assert signals.label == "negative"
    found = kinds(THANKS_BUT[language])
    assert CueKind.THANKS_BUT in found
    assert CueKind.GRATITUDE not in found


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_resignation_is_frustration(language: str) -> None:
    signals = analyze_text(RESIGNATION[language])
    assert CueKind.RESIGNATION in kinds(RESIGNATION[language])
    assert signals.frustration >= TAG_AT


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_churn_without_the_word_cancel_is_a_cancel_threat(language: str) -> None:
    signals = analyze_text(CHURN[language])
    assert CueKind.THREAT_CANCEL in kinds(CHURN[language])
    assert signals.frustration >= TAG_AT


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_nobody_answers_is_a_waiting_cue(language: str) -> None:
    signals = analyze_text(NOBODY_ANSWERS[language])
    # English files "nobody answers" under repeat contact, "no answer" under waiting
    assert kinds(NOBODY_ANSWERS[language]) & {CueKind.WAITING, CueKind.REPEAT_CONTACT}
    assert signals.frustration >= TAG_AT


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_the_language_is_identified(language: str) -> None:
    for text in (THANKS_BUT[language], NOBODY_ANSWERS[language]):
        assert analyze_text(text).language == language


def test_unsupported_and_undetermined_languages_are_said_so() -> None:
    dutch = detect_language("Ik wacht al twee weken op mijn bestelling en niemand reageert.")
    assert dutch.code == "nl"
    assert not dutch.supported
    assert analyze_text("ok").language == "und"
    assert analyze_text("#4411 ??").language == "und"


def test_probabilities_label_and_sentiment_agree() -> None:
    signals = analyze_text(WAIT_AND_CANCEL)
    negative, neutral, positive = signals.probabilities
    assert negative + neutral + positive == pytest.approx(1.0, abs=1e-5)
    assert signals.label == LABELS[signals.probabilities.index(max(signals.probabilities))]
    assert signals.sentiment == pytest.approx(positive - negative, abs=1e-5)


def test_score_matches_analyze() -> None:
    scorer = SupportScorer()
    assert scorer.score(THIRD_TIME) == pytest.approx(scorer.analyze(THIRD_TIME).sentiment, 1e-5)


def test_negation_flips_praise() -> None:
    assert analyze_text("I am happy with the service").sentiment > 0
    assert analyze_text("I am not happy with the service").sentiment < 0


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_is_neutral(text: str) -> None:
    signals = analyze_text(text)
    assert (signals.sentiment, signals.frustration, signals.cues) == (0.0, 0.0, ())
    assert (signals.label, signals.language) == ("neutral", "und")


def test_shipped_weights_are_package_data_and_round_trip() -> None:
    packed = resources.files("empathy_firewall.signals").joinpath("scorer_model.json.gz")
    data = json.loads(gzip.decompress(packed.read_bytes()))
    assert data["feature_version"] == FEATURE_VERSION
    assert data["labels"] == list(LABELS)
    model = load_model()
    assert len(model.negative) > 10_000
    assert ScorerModel.from_dict(model.to_dict()) == model


def test_the_shipped_weights_were_fitted_on_the_features_the_code_makes() -> None:
    """A change to the features (cues, tokens, lexicon, language identification) without a
    retrain leaves weights that read other features: this fails until
    ``python scripts/train_scorer.py`` writes new ones."""
    packed = resources.files("empathy_firewall.signals").joinpath("scorer_model.json.gz")
    data = json.loads(gzip.decompress(packed.read_bytes()))
    assert data["feature_fingerprint"] == feature_fingerprint(), (
        "the scorer's features changed since its weights were fitted: "
        "run python scripts/train_scorer.py"
    )


def test_the_fingerprint_follows_the_features(monkeypatch: pytest.MonkeyPatch) -> None:
    before = feature_fingerprint()
    original = scorer.extract_features
    monkeypatch.setattr(scorer, "extract_features", lambda text: {**original(text), "x": 1})
    assert feature_fingerprint() != before


def test_a_model_for_other_features_is_refused() -> None:
    data = load_model().to_dict()
    data["feature_version"] = FEATURE_VERSION - 1
    with pytest.raises(ValueError, match="retrain"):
        ScorerModel.from_dict(data)


def test_features_mark_negated_valence() -> None:
    plain = extract_features("I am happy")
    negated = extract_features("I am not happy")
    assert any(f.startswith("V") for f in plain)
    assert any(f.startswith("NV") for f in negated)
    assert "c:waiting" in extract_features("still waiting for a reply")


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_unicode_text_gives_bounded_signals_and_exact_spans(text: str) -> None:
    signals = analyze_text(text)
    assert -1.0 <= signals.sentiment <= 1.0
    assert 0.0 <= signals.frustration <= 1.0
    assert signals.label in LABELS
    assert all(0.0 <= p <= 1.0 for p in signals.probabilities)
    assert sum(signals.probabilities) == pytest.approx(1.0, abs=1e-5)
    assert signals.language == "und" or len(signals.language) == 2
    for cue in signals.cues:
        assert 0 <= cue.start < cue.end <= len(text)
        assert text[cue.start : cue.end] == cue.quote


_WORDS = st.sampled_from(
    [
        "not",
        "nicht",
        "pas",
        "very",
        "please",
        "thanks",
        "gracias",
        "but",
        "great",
        "terrible",
        "waiting",
        "cancel",
        "order",
        "!!!",
        "?",
        ":)",
        ":(",
        "\U0001f621",
        "\U0001f60a",
        "NOBODY",
        "http://x.y",
        "@user",
        ",",
        ".",
        "İ",
        "whatever",
        "niemand antwortet",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_WORDS, max_size=40).map(" ".join))
def test_support_like_text_gives_bounded_signals(text: str) -> None:
    signals = SupportScorer().analyze(text)
    assert -1.0 <= signals.sentiment <= 1.0
    assert 0.0 <= signals.frustration <= 1.0
    assert signals.label in LABELS


FURIOUS_REVIEW = (
    "The parcel arrived smashed and I am furious. If this is not sorted today I will leave "
    "a 1-star review."
)


def test_furious_with_a_public_threat_is_high_frustration() -> None:
    high = EmotionSettings().frustration_levels[2]
    signals = analyze_text(FURIOUS_REVIEW)
    assert signals.label == "negative"
    assert signals.frustration >= high
    assert CueKind.THREAT_PUBLIC in kinds(FURIOUS_REVIEW)


_MIXED = [
    FURIOUS_REVIEW,
    WAIT_AND_CANCEL,
    THIRD_TIME,
    "Danke, aber das Paket ist wieder beschädigt angekommen.",
    "Merci pour la réponse rapide, mais le remplacement est aussi arrivé cassé.",
    "Gracias, ya funciona. ¡Sois geniales!",
    "Ik wacht al twee weken op mijn bestelling en niemand reageert.",
    "ok",
    "",
    "   ",
    "x" * 1000,
    "\U0001f621\U0001f621 NOBODY ANSWERS!!!",
]


def test_batch_analysis_gives_the_same_answers_as_one_at_a_time() -> None:
    scorer = SupportScorer()
    assert scorer.analyze_many(_MIXED) == [scorer.analyze(text) for text in _MIXED]
    assert scorer.analyze_many([]) == []


def test_batch_language_identification_matches_py3langid() -> None:
    questions = [text for _, text in _questions()]
    texts = [*questions, *_MIXED]
    assert detect_languages(texts) == [detect_language(text) for text in texts]


@pytest.mark.parametrize("text", [FURIOUS_REVIEW, THIRD_TIME, "Comment changer mon adresse ?"])
@pytest.mark.parametrize("language", ["en", "fr", "und", "nl"])
def test_the_cached_runtime_sums_equal_the_training_features(text: str, language: str) -> None:
    model = load_model()
    cues = detect_cues(text)
    expected = model.probabilities(extract_features(text, cues), language)
    assert model.read(text, cues, language) == pytest.approx(expected, abs=1e-9)
    assert model.read(text, cues, language) == pytest.approx(expected, abs=1e-9)  # cached


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_plain_questions_are_mostly_not_labelled_negative(language: str) -> None:
    # A regression bound, not the goal: German questions are still labelled negative too
    # often (9 of 40 when this was written; see docs/sentiment.md), though not tagged.
    texts = [text for lang, text in _questions() if lang == language]
    negative = [text for text in texts if analyze_text(text).label == "negative"]
    assert len(negative) <= 0.25 * len(texts), negative
