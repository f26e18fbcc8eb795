"""What the default pack writes to customers: their language, honest times, variety.

Golden cases (rules/default/golden/delay-acknowledgement.yaml) hold one ticket each; these
tests look across tickets (variety) and at the pieces (language choice, time words,
per-language texts in a pack).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from _engine_support import NOW, comment, load_pack, stub_context, ticket
from hypothesis import given
from hypothesis import strategies as st

from empathy_firewall.actions import DraftReply, PlannedAction, RoutingSuggestion, RuleMatch
from empathy_firewall.connectors.notes import note_text
from empathy_firewall.context import EvaluationContext
from empathy_firewall.engine.evaluate import Engine
from empathy_firewall.engine.languages import detect_language, normalize_language, ticket_language
from empathy_firewall.engine.narrative import substantive
from empathy_firewall.engine.recognition import agent_helped, thanks_but
from empathy_firewall.engine.segment import sentences
from empathy_firewall.engine.units import duration_words, hours_words
from empathy_firewall.errors import RulePackError
from empathy_firewall.models import Agent, Customer, Role, SlaInfo, Ticket
from empathy_firewall.settings import FrictionSettings
from empathy_firewall.signals.cues import Cue, detect_cues
from empathy_firewall.signals.roster import teammates_for
from empathy_firewall.signals.text import CommentCache

FRICTION = FrictionSettings()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Where is my order? I have been waiting for a week and nobody answers.", "en"),
        ("Hola, mi pedido no ha llegado y nadie me contesta desde hace una semana.", "es"),
        ("Hallo, meine Bestellung ist noch nicht da und niemand antwortet mir.", "de"),
        ("Bonjour, ma commande n'est toujours pas arrivée et je n'ai pas de réponse.", "fr"),
        ("Olá, o meu pedido ainda não chegou e ninguém me responde há uma semana.", "pt"),
        ("Ciao, il mio ordine non è ancora arrivato e nessuno mi risponde.", "it"),
        ("Hi", None),
    ],
)
def test_the_customers_language_is_told_from_their_words(text: str, expected: str | None) -> None:
    assert detect_language([text]) == expected


def test_the_record_wins_then_the_analyzer_then_the_words() -> None:
    assert ticket_language("pt_BR", ["es"], ["Hello there, my order is late"]) == "pt"
    assert ticket_language(None, ["es", None, "es", "en"], ["Hello, my order"]) == "es"
    # an analyzer that could not tell ("und") leaves it to the words
    assert ticket_language(None, ["und", "und"], ["Hola, mi pedido no ha llegado"]) == "es"
    assert ticket_language("", [None], ["Hello, where is my order? It is late."]) == "en"
    assert normalize_language(" DE-at ") == "de"


@given(st.floats(min_value=0, max_value=60 * 24 * 60), st.sampled_from(["en", "es", "de"]))
def test_time_words_are_never_empty_and_never_zero_hours(minutes: float, lang: str) -> None:
    assert duration_words(minutes, lang)
    assert "0 " not in hours_words(minutes / 60, lang)[:2]


def test_time_words_follow_the_language() -> None:
    assert duration_words(180, "es") == "unas 3 horas"
    assert duration_words(3 * 1440, "de") == "3 Tage"
    assert duration_words(60, "it") == "circa un'ora"
    assert hours_words(1, "fr") == "une heure"
    assert duration_words(float("nan"), "pt") == "algum tempo"


def _delay_ticket(number: int, language: str | None = None) -> Ticket:
    return ticket(
        [comment("1", 200, "Hi, could you tell me when my replacement card will be sent?")],
        external_id=str(number),
        requester=Customer(id=f"c{number}", name="Dana Whitfield", language=language),
        assignee=Agent(id="a-7", name="Priya Raman"),
        sla=SlaInfo(reply_target_minutes=240),
    )


def test_delay_drafts_vary_between_tickets_and_are_signed_by_the_agent() -> None:
    engine = Engine()
    bodies = []
    for number in range(24):
        plan = engine.evaluate(_delay_ticket(number), stub_context())
        [draft] = [p.action for p in plan.actions if isinstance(p.action, DraftReply)]
        bodies.append(draft.body)
    openings = {body.split("\n\n")[1].split(".")[0] for body in bodies}
    assert len(openings) == 3
    assert all(body.endswith("\nPriya") for body in bodies)
    # the same ticket and wait keep their words: a second pass writes the same text
    again = engine.evaluate(_delay_ticket(0), stub_context())
    [again_draft] = [p.action for p in again.actions if isinstance(p.action, DraftReply)]
    assert again_draft.body == bodies[0]


@pytest.mark.parametrize("language", ["en", "es", "de", "fr", "pt", "it"])
def test_every_supported_language_gets_a_draft_in_it(language: str) -> None:
    plan = Engine().evaluate(_delay_ticket(1, language), stub_context())
    [draft] = [p.action for p in plan.actions if isinstance(p.action, DraftReply)]
    assert detect_language([draft.body]) == language


PER_LANGUAGE = """
pack: words
rules:
  - id: hello
    when: {ticket.is_open: true}
    actions:
      - draft_reply:
          en: "Hello {{ customer.first_name }}"
          nl: "Hallo {{ customer.first_name }}"
"""


def test_an_admin_adds_a_language_by_adding_its_text(tmp_path: Path) -> None:
    rules = load_pack(tmp_path, PER_LANGUAGE)
    dutch = ticket([comment("1", 10)], requester=Customer(id="c", name="Daan", language="nl"))
    plan = Engine(rules).evaluate(dutch, stub_context())
    assert [p.action for p in plan.actions] == [DraftReply(body="Hallo Daan")]
    german = ticket([comment("1", 10)], requester=Customer(id="c", name="Jan", language="de"))
    assert Engine(rules).evaluate(german, stub_context()).actions == ()


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        ('{english: "Hello"}', "'english' is not a language code"),
        ('{en: "{{ customer.nam }}"}', "en: "),
        ("{}", "texts by language"),
    ],
)
def test_a_bad_per_language_text_names_the_language(
    tmp_path: Path, texts: str, message: str
) -> None:
    pack = f"""
pack: words
rules:
  - id: hello
    when: {{ticket.is_open: true}}
    actions:
      - draft_reply: {texts}
"""
    with pytest.raises(RulePackError) as caught:
        load_pack(tmp_path, pack)
    assert message in str(caught.value)


# -- batons: the sentence segmenter and what it keeps ----------------------------------

_WORDS = st.sampled_from(
    ["I", "paid", "the", "order", "never", "came", "Dr.", "e.g.", "$59.99", "3.5", "ok", "no"]
)
_EXTRAS = st.sampled_from(
    ["pablo.garcia@example.com", "https://example.com/a.b?x=1", "www.example.org/help"]
)


@given(
    st.lists(
        st.tuples(
            st.lists(st.one_of(_WORDS, _EXTRAS), min_size=1, max_size=8), st.sampled_from(".!?")
        ),
        min_size=1,
        max_size=5,
    ),
    st.sampled_from(["en", "es", "de", "fr", "pt", "it", None]),
)
def test_sentences_are_exact_ordered_spans_that_never_cut_an_email_or_url(
    parts: list[tuple[list[str], str]], language: str | None
) -> None:
    text = " ".join(" ".join(words) + end for words, end in parts)
    found = sentences(text, language)
    last = 0
    for sentence in found:
        assert text[sentence.start : sentence.end] == sentence.text
        assert sentence.start >= last
        last = sentence.end
    for extra in ("pablo.garcia@example.com", "https://example.com/a.b?x=1"):
        if extra in text:
            assert any(extra in s.text for s in found)


def test_holding_lines_are_not_substance_and_answers_are() -> None:
    assert not substantive("Hi Dana, thanks for your patience. I'm looking into it!")
    assert not substantive("Hallo Dana, danke. Ich schaue mir das an.", "de")
    assert not substantive("Bonjour Camille, merci. Je regarde cela tout de suite.", "fr")
    assert substantive("Hi Dana, I have refunded the second charge; it shows within two days.")
    assert substantive("Hola Javier, ya está solucionado, puedes entrar con tu nueva clave.", "es")


# -- recognition only when earned ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "mixed"),
    [
        ("Thanks for the quick reply, but the replacement also arrived broken", True),
        ("Great job, really. Paying for premium to get slower answers", True),
        ("Gracias, pero sigue sin funcionar.", True),
        ("Danke, aber es ist immer noch kaputt.", True),
        ("Merci, mais le colis n'est toujours pas arrivé.", True),
        ("Obrigado, mas ainda não chegou.", True),
        ("Grazie, ma non funziona ancora.", True),
        ("Still broken. Thanks.", True),
        ("Wonderful, thank you so much for sorting this out so quickly!", False),
        ("Thanks, no problem at all.", False),
        ("Thank you so much, it works now, no more errors!", False),
        ("Muchas gracias, ya funciona.", False),
        ("Grazie mille, ora funziona.", False),
        ("The parcel is still missing.", False),  # no thanks at all
    ],
)
def test_thanks_but_is_told_from_plain_thanks(text: str, mixed: bool) -> None:
    assert thanks_but(text) is mixed


def test_an_agent_helped_only_with_a_public_reply_before_the_latest_message() -> None:
    question = comment("1", 60, "How do I change my email? Thanks!")
    assert not agent_helped(ticket([question]))
    note = comment("2", 30, "Checking.", role=Role.AGENT, public=False)
    assert not agent_helped(ticket([question, note]))
    holding = comment("2", 30, "Hi Dana, thanks! I'm looking into it.", role=Role.AGENT)
    assert not agent_helped(ticket([question, holding, comment("3", 10, "Thank you!")]))
    answer = comment("2", 30, "You change it under Settings, then Account.", role=Role.AGENT)
    thanks = comment("3", 10, "Thank you, done!")
    assert agent_helped(ticket([question, answer, thanks]))
    assert not agent_helped(ticket([answer]))  # no customer message at all


# -- private routing -------------------------------------------------------------------------


def test_a_routing_note_names_no_agent_id_it_was_not_given_in_words() -> None:
    planned = PlannedAction(
        action=RoutingSuggestion(
            reason="If this conversation changes hands, Sam Lee has room in billing.",
            avoid_agent_ids=("agt-01",),
            prefer_agent_ids=("agt-07",),
        ),
        because=(RuleMatch(rule_id="r", pack="p"),),
        key="k",
    )
    text = note_text(planned)
    assert text is not None
    assert "Sam Lee" in text
    assert "agt-01" not in text
    assert "agt-07" not in text


def test_teammates_fit_the_group_and_have_room_lightest_first() -> None:
    roster = {
        "a1": Agent(id="a1", name="Ann", groups=("billing",), open_tickets=20, capacity=25),
        "a2": Agent(id="a2", name="Bo", groups=("billing",), open_tickets=2, capacity=25),
        "a3": Agent(id="a3", name="Cy", groups=("returns",), open_tickets=0, capacity=25),
        "a4": Agent(id="a4", name="Di", groups=("billing",), open_tickets=46, capacity=30),
        "a5": Agent(id="a5", name="Ed", groups=(), open_tickets=None),
        "me": Agent(id="me", name="Me", groups=("billing",), open_tickets=0, capacity=25),
    }
    item = ticket([comment("1", 10)], group="billing", assignee=roster["me"])
    found = teammates_for(item, ["a1", "a2", "a3", "a4", "a5", "me", "ghost"], roster, FRICTION)
    assert [a.id for a in found] == ["a2", "a1", "a5"]


class _LanguageAnalyzer:
    """An analyzer that reports a language, as the multilingual scorer does."""

    def analyze(self, text: str) -> _WithLanguage:
        return _WithLanguage(0.0, 0.0, detect_cues(text))


@dataclass(frozen=True)
class _WithLanguage:
    sentiment: float
    frustration: float
    cues: tuple[Cue, ...]
    language: str = "pt"


def test_the_language_an_analyzer_reports_picks_the_draft_without_a_record() -> None:
    item = ticket(
        [comment("1", 200, "Hi, when will my card be sent? Thanks")],
        requester=Customer(id="c9", name="Inês Costa"),
        assignee=Agent(id="a-7", name="Priya Raman"),
        sla=SlaInfo(reply_target_minutes=240),
    )
    context = EvaluationContext(now=NOW, texts=CommentCache(_LanguageAnalyzer()))  # type: ignore[arg-type]
    plan = Engine().evaluate(item, context)
    [draft] = [p.action for p in plan.actions if isinstance(p.action, DraftReply)]
    assert "A responsabilidade é nossa, não sua." in draft.body
