"""The support-domain scorer reads complaints, requests and thanks the way an agent would.

Hermetic: only the shipped weights and TextBlob's shipped lexicon are used; the dev data in
../shared is read by scripts/evaluate_scorer.py, never here.
"""

from __future__ import annotations

import json
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from empathy_firewall.signals.cues import CueKind
from empathy_firewall.signals.scorer import (
    DENSE_FEATURES,
    EXCLUDED_DOMAIN_WORDS,
    VOCABULARY,
    ScorerModel,
    SupportScorer,
    extract_features,
    load_model,
)
from empathy_firewall.signals.sentiment import SentimentAnalyzer
from empathy_firewall.signals.text import TextAnalyzer, analyze_text, default_text_analyzer

WAIT_AND_CANCEL = (
    "I've been waiting for two weeks and nobody answers. I want to cancel my subscription."
)
THIRD_TIME = "This is the THIRD time I am asking about my refund!!! Absolutely unacceptable."


def test_is_the_default_analyzer() -> None:
    assert isinstance(default_text_analyzer(), SupportScorer)
    assert isinstance(default_text_analyzer(), TextAnalyzer)
    assert isinstance(SupportScorer(), SentimentAnalyzer)


def test_waiting_and_cancelling_is_clearly_negative_with_cues() -> None:
    signals = analyze_text(WAIT_AND_CANCEL)
    assert signals.sentiment < -0.5
    assert signals.frustration > 0.7
    found = {cue.kind for cue in signals.cues}
    assert {CueKind.WAITING, CueKind.THREAT_CANCEL} <= found


def test_third_time_shouting_is_negative_with_repeat_and_shouting_cues() -> None:
    signals = analyze_text(THIRD_TIME)
    assert signals.sentiment < -0.3
    assert signals.frustration > 0.5
    assert {CueKind.REPEAT_CONTACT, CueKind.SHOUTING} <= {cue.kind for cue in signals.cues}


@pytest.mark.parametrize(
    "text",
    [
        "please help, my order never arrived",
        "great, another week without my order",
        "I was charged twice for the same order.",
        "The app keeps crashing when I try to log in.",
        "Not happy with the service at all.",
        "Thanks for nothing.",
    ],
)
def test_complaints_score_negative_even_when_polite_or_sarcastic(text: str) -> None:
    assert analyze_text(text).sentiment < -0.3


@pytest.mark.parametrize(
    "text",
    [
        "Hi, how do I change the email address on my account?",
        "Where can I download my invoice?",
        "Is there a discount for students?",
    ],
)
def test_a_neutral_help_request_scores_near_zero(text: str) -> None:
    signals = analyze_text(text)
    assert abs(signals.sentiment) < 0.2
    assert signals.frustration < 0.3


@pytest.mark.parametrize(
    "text",
    ["Thank you so much, that fixed it!", "Thanks for the quick reply!", "It works now, awesome"],
)
def test_thanks_are_positive_and_calm(text: str) -> None:
    signals = analyze_text(text)
    assert signals.sentiment > 0.5
    assert signals.frustration < 0.1


def test_negation_flips_praise() -> None:
    assert analyze_text("I am happy with the service").sentiment > 0
    assert analyze_text("I am not happy with the service").sentiment < 0


def test_complaint_outweighs_the_same_words_without_it() -> None:
    calm = analyze_text("my order arrived")
    missing = analyze_text("my order never arrived")
    assert missing.sentiment < calm.sentiment
    assert missing.frustration > calm.frustration


def test_score_matches_analyze() -> None:
    scorer = SupportScorer()
    assert scorer.score(THIRD_TIME) == pytest.approx(scorer.analyze(THIRD_TIME).sentiment, 1e-5)


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_is_neutral(text: str) -> None:
    signals = analyze_text(text)
    assert (signals.sentiment, signals.frustration, signals.cues) == (0.0, 0.0, ())


def test_vocabulary_holds_no_industry_words() -> None:
    words = {word for group in VOCABULARY.values() for entry in group for word in entry.split()}
    assert not words & EXCLUDED_DOMAIN_WORDS
    assert {"flight", "baggage", "gate", "seat"} <= EXCLUDED_DOMAIN_WORDS


def test_vocabulary_entries_are_words_or_two_word_phrases() -> None:
    # the matcher looks at single tokens and adjacent pairs only
    assert all(1 <= len(e.split()) <= 2 for group in VOCABULARY.values() for e in group)


def test_shipped_weights_are_loaded_as_package_data() -> None:
    raw = resources.files("empathy_firewall.signals").joinpath("scorer_model.json").read_text()
    data = json.loads(raw)
    assert data["dense_features"] == list(DENSE_FEATURES)
    vocab = {entry for group in VOCABULARY.values() for entry in group}
    for head in data["heads"].values():
        assert set(head["vocab"]) <= vocab
    model = load_model()
    assert ScorerModel.from_dict(model.to_dict()) == model


def test_a_model_for_other_features_is_refused() -> None:
    data = load_model().to_dict()
    data["dense_features"] = data["dense_features"][:-1]
    with pytest.raises(ValueError, match="retrain"):
        ScorerModel.from_dict(data)


def test_features_have_the_declared_shape() -> None:
    features = extract_features("Please help!!! Not good :( " + WAIT_AND_CANCEL)
    assert len(features.dense) == len(DENSE_FEATURES)
    assert features.vocab["please"] == 1.0
    assert features.vocab["good"] == -1.0  # negated


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_unicode_text_gives_bounded_signals_and_exact_spans(text: str) -> None:
    signals = analyze_text(text)
    assert -1.0 <= signals.sentiment <= 1.0
    assert 0.0 <= signals.frustration <= 1.0
    for cue in signals.cues:
        assert 0 <= cue.start < cue.end <= len(text)
        assert text[cue.start : cue.end] == cue.quote


_WORDS = st.sampled_from(
    [
        "not",
        "never",
        "very",
        "so",
        "please",
        "thanks",
        "great",
        "terrible",
        "again",
        "waiting",
        "cancel",
        "my",
        "order",
        "!!!",
        "?",
        ":)",
        ":(",
        "\U0001f621",
        "\U0001f60a",
        "NOBODY",
        "ANSWERS",
        "refund",
        "third",
        "time",
        ",",
        ".",
        "İ",
        "love",
        "how",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_WORDS, max_size=30).map(" ".join))
def test_support_like_text_gives_bounded_signals(text: str) -> None:
    signals = SupportScorer().analyze(text)
    assert -1.0 <= signals.sentiment <= 1.0
    assert 0.0 <= signals.frustration <= 1.0
