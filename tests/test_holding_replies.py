"""Issue 10 item 5: wait as the customer feels it.

A public agent reply that only holds or moves the ticket does not end the customer's wait.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from _engine_support import NOW, comment, ticket
from hypothesis import given
from hypothesis import strategies as st

from empathy_firewall.models import EventType, Role, TicketEvent
from empathy_firewall.settings import FirewallSettings, FrictionSettings
from empathy_firewall.signals.friction import friction_of

FRICTION = FrictionSettings()
HOURS_34 = 34 * 60


def _agent(cid: str, minutes_ago: float, text: str) -> object:
    return comment(cid, minutes_ago, text, role=Role.AGENT, author="a1")


@pytest.mark.parametrize(
    "reply",
    [
        "Thanks Ella. This needs our sales specialists, so I've moved your ticket to them.",
        "I'm looking into this now and will get back to you shortly.",
        "Hola Pablo, gracias por escribirnos. Ya estoy revisando tu caso.",
        "Hallo Paul, ich schaue mir das sofort an.",
    ],
)
def test_a_holding_reply_does_not_end_the_wait(reply: str) -> None:
    item = ticket([comment("1", HOURS_34, "Where is my refund"), _agent("2", HOURS_34 - 60, reply)])
    friction = friction_of(item, NOW, FRICTION)
    assert friction.waiting
    assert friction.waiting_minutes == pytest.approx(HOURS_34)


def test_three_teams_and_three_holding_replies_later_the_wait_is_34_hours() -> None:
    comments = [comment("1", HOURS_34, "My order never arrived")]
    events = []
    for n, team in enumerate(("billing", "shipping", "returns")):
        at = HOURS_34 - 60 - n * 600
        comments.append(_agent(f"r{n}", at, f"Thanks, I'm passing this to our {team} team."))
        events.append(
            TicketEvent(
                type=EventType.REASSIGNED,
                at=NOW - timedelta(minutes=at - 2),
                from_group="front",
                to_group=team,
            )
        )
    comments.append(comment("c2", 120, "Hello??? Anyone?"))
    friction = friction_of(ticket(comments, events=tuple(events)), NOW, FRICTION)
    assert friction.waiting_minutes == pytest.approx(HOURS_34)


def test_a_reply_just_before_a_reassignment_is_a_handoff() -> None:
    reply = _agent("2", 600, "Thanks, one moment.")
    moved = TicketEvent(type=EventType.REASSIGNED, at=NOW - timedelta(minutes=595))
    item = ticket([comment("1", 900), reply], events=(moved,))
    assert friction_of(item, NOW, FRICTION).waiting_minutes == pytest.approx(900)
    later = TicketEvent(type=EventType.REASSIGNED, at=NOW - timedelta(minutes=500))
    assert not friction_of(
        ticket([comment("1", 900), reply], events=(later,)), NOW, FRICTION
    ).waiting


def test_a_reply_that_asks_the_customer_something_ends_the_wait() -> None:
    reply = "I'm looking into this now. Could you send me the order number?"
    item = ticket([comment("1", 600), _agent("2", 500, reply)])
    assert not friction_of(item, NOW, FRICTION).waiting


def test_an_answer_ends_the_wait() -> None:
    item = ticket([comment("1", 600), _agent("2", 500, "Your refund was sent today.")])
    assert not friction_of(item, NOW, FRICTION).waiting


def test_the_old_rule_is_one_setting_away() -> None:
    reply = "I've moved your ticket to billing."
    item = ticket([comment("1", 600), _agent("2", 500, reply)])
    old = FrictionSettings(holding_replies_end_wait=True)
    assert not friction_of(item, NOW, old).waiting
    own = FrictionSettings(holding_phrases=("one moment",))
    assert not friction_of(item, NOW, own).waiting  # not one of the configured phrases
    settings = FirewallSettings.model_validate(
        {"friction": {"holding_phrases": ["einen Moment"], "handoff_reply_minutes": 0}}
    )
    assert settings.friction.holding_phrases == ("einen Moment",)


@given(st.text(max_size=200))
def test_any_reply_text_gives_a_wait_no_longer_than_since_the_first_message(text: str) -> None:
    item = ticket([comment("1", 600), _agent("2", 500, text), comment("3", 100)])
    friction = friction_of(item, NOW, FRICTION)
    assert friction.waiting_minutes in (pytest.approx(600), pytest.approx(100))
