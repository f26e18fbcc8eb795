"""The cue lexicon finds support-domain phrases with exact spans, and never crashes."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from empathy_firewall.signals import cues
from empathy_firewall.signals.cues import (
    _PATTERNS,
    FRUSTRATION_KINDS,
    CueKind,
    _detect,
    detect_cues,
)
from empathy_firewall.signals.text import frustration_from


def kinds(text: str) -> set[CueKind]:
    return {cue.kind for cue in detect_cues(text)}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("This is the THIRD time I am asking about my refund", CueKind.REPEAT_CONTACT),
        ("nobody answers my emails", CueKind.REPEAT_CONTACT),
        ("I have been waiting for two weeks", CueKind.WAITING),
        ("please help, my order never arrived", CueKind.WAITING),
        ("I want to cancel my subscription", CueKind.THREAT_CANCEL),
        ("I will file a complaint", CueKind.THREAT_ESCALATE),
        ("I'll leave a one-star review", CueKind.THREAT_PUBLIC),
        ("my lawyer will hear about this", CueKind.THREAT_LEGAL),
        ("let me talk to a real person", CueKind.ASKS_FOR_HUMAN),
        ("THIS IS NOT ACCEPTABLE", CueKind.SHOUTING),
        ("Why?!", CueKind.SHOUTING),
        ("thanks so much, that fixed it", CueKind.GRATITUDE),
        ("great, another week without my order", CueKind.SARCASM),
        ("thanks for nothing", CueKind.SARCASM),
        ("oh great, it crashed again", CueKind.SARCASM),
        ("love how nobody ever answers", CueKind.SARCASM),
        ("thanks for the terrible service", CueKind.SARCASM),
        ("thank you for making me miss my meeting", CueKind.SARCASM),
    ],
)
def test_finds_the_cue(text: str, kind: CueKind) -> None:
    assert kind in kinds(text)


@pytest.mark.parametrize(
    "text",
    [
        "Hi, how do I change the email address on my account?",
        "Could you send me a copy of my invoice?",
        "",
    ],
)
def test_plain_requests_carry_no_frustration_cue(text: str) -> None:
    assert not kinds(text) & FRUSTRATION_KINDS
    assert CueKind.SARCASM not in kinds(text)


def test_thanks_so_much_for_is_not_sarcasm() -> None:
    assert kinds("Thanks so much for your help") == {CueKind.GRATITUDE}


def test_thanks_for_nothing_is_not_gratitude() -> None:
    assert kinds("thanks for nothing") == {CueKind.SARCASM}


def test_quotes_are_exact_substrings_in_order() -> None:
    text = "Still no reply!!! I've been WAITING FOREVER, I will cancel my account."
    cues = detect_cues(text)
    assert [c.start for c in cues] == sorted(c.start for c in cues)
    for cue in cues:
        assert text[cue.start : cue.end] == cue.quote
    assert {CueKind.REPEAT_CONTACT, CueKind.SHOUTING, CueKind.THREAT_CANCEL} <= {
        c.kind for c in cues
    }


def test_spans_survive_text_whose_lowercase_is_longer() -> None:
    text = "İİİ I have been waiting for two weeks, thanks for nothing"
    assert len(text.lower()) != len(text)
    for cue in detect_cues(text):
        assert text[cue.start : cue.end] == cue.quote
    assert {CueKind.WAITING, CueKind.SARCASM} <= kinds(text)


def test_every_kind_but_gratitude_signals_frustration() -> None:
    assert CueKind.SARCASM in FRUSTRATION_KINDS
    assert CueKind.GRATITUDE not in FRUSTRATION_KINDS
    assert frozenset(CueKind) - {CueKind.GRATITUDE} == FRUSTRATION_KINDS


def test_sarcasm_raises_frustration_in_the_lexicon_analyzer() -> None:
    plain = frustration_from(-0.3, ())
    sarcastic = frustration_from(-0.3, (cues.Cue(CueKind.SARCASM, 0, 5, "great"),))
    assert sarcastic > plain


_PHRASES = st.sampled_from(
    [
        "again",
        "still no",
        "waiting",
        "for 3 days",
        "no reply",
        "cancel my account",
        "third time",
        "lawyer",
        "review",
        "talk to a human",
        "thanks",
        "great, another",
        "so much for",
        "never arrived",
        "THIS IS BAD",
        "!!!",
        "?!",
        "\U0001f621",
        "\U0001f644",
        "İ",
        "ß",
        "nobody answers",
        "thank you",
        " ",
        ", ",
        ".",
        "order",
        "oh great",
        "thanks for the terrible",
        "thank you for making me wait",
        "love how",
        "what a joke",
        "yeah right",
        "#not",
        "already told",
        "keep asking",
        "where is my",
        "speak to a manager",
        "escalate",
        "chargeback",
        "take my business elsewhere",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_PHRASES, st.text(max_size=8)), max_size=12).map("".join))
def test_anchor_gate_never_hides_a_match(text: str) -> None:
    assert detect_cues(text) == (_detect(text, text.lower(), gate=False) if text else ())


_ANCHOR_WORDS = st.sampled_from(sorted({a for anchors in cues._ANCHORS.values() for a in anchors}))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_ANCHOR_WORDS, st.text(max_size=4)), max_size=10).map("".join))
def test_one_pass_anchor_scan_finds_the_kinds_of_every_anchor_present(text: str) -> None:
    # overlapping and nested anchors ("nobody" / "no one", "thank" in three kinds) included
    lowered = text.lower()
    expected = {kind for kind, anchors in cues._ANCHORS.items() if cues._any_in(anchors, lowered)}
    assert cues._gated_kinds(lowered) == expected


@pytest.mark.parametrize("kind", list(_PATTERNS))
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_every_pattern_branch_passes_the_anchor_gate(kind: CueKind, data: st.DataObject) -> None:
    match = data.draw(st.from_regex(re.compile(_PATTERNS[kind]), fullmatch=True))
    text = data.draw(st.sampled_from(["", "Hello ", "ok. "])) + match + " now"
    assert kind in {cue.kind for cue in _detect(text, text.lower(), gate=False)}
    assert detect_cues(text) == _detect(text, text.lower(), gate=False)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_gives_exact_spans(text: str) -> None:
    for cue in detect_cues(text):
        assert 0 <= cue.start < cue.end <= len(text)
        assert text[cue.start : cue.end] == cue.quote
