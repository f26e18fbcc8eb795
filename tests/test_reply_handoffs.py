"""Handoffs read from the conversation (signals/reply_handoffs.py): a change in which agent
answers the customer with substance is a handoff, dated at the previous owner's last word;
on the bundled sample the inference finds exactly the file's reassignments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from empathy_firewall.models import (
    Agent,
    Comment,
    Customer,
    EventType,
    Role,
    SourceRef,
    Ticket,
    TicketEvent,
)
from empathy_firewall.signals.derived import derive_events, with_events
from empathy_firewall.signals.reply_handoffs import DETAIL, reply_handoffs
from empathy_firewall.ticketfile import iter_tickets

T0 = datetime(2026, 11, 3, 8, 0, tzinfo=UTC)
SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sample_helpdesk.jsonl"


def _comment(
    minute: int, role: Role, author: str | None, text: str, public: bool = True
) -> Comment:
    return Comment(
        id=f"c{minute}",
        author_role=role,
        author_id=author,
        public=public,
        created_at=T0 + timedelta(minutes=minute),
        text=text,
    )


def _ticket(assignee: str | None, *comments: Comment) -> Ticket:
    return Ticket(
        source=SourceRef(connector="freshdesk", external_id="1"),
        created_at=T0,
        updated_at=T0 + timedelta(hours=5),
        requester=Customer(id="c"),
        assignee=Agent(id=assignee) if assignee else None,
        comments=comments,
    )


ASK = _comment(0, Role.CUSTOMER, "c", "My invoice charges me twice for the same order.")
AUTO = _comment(
    1,
    Role.AGENT,  # as the fake Freshdesk replays the sample's automatic reply
    "bot",
    "Automatic reply: we've received your request and will get back to you within 24 hours.",
)
ANN = _comment(
    30, Role.AGENT, "ann", "Hi, I can see the double charge. Could you send the order number?"
)
ANN_NOTE = _comment(95, Role.AGENT, "ann", "Moving to returns: they own refunds.", public=False)
BO = _comment(200, Role.AGENT, "bo", "Hello, I have refunded the second charge to your card today.")


def test_the_owner_changing_is_a_handoff_dated_at_the_previous_owners_last_word() -> None:
    (moved,) = reply_handoffs(_ticket("bo", ASK, AUTO, ANN, ANN_NOTE))
    assert moved.type is EventType.REASSIGNED
    assert (moved.from_assignee, moved.to_assignee) == ("ann", "bo")
    assert moved.at == ANN_NOTE.created_at  # the earliest it can have happened
    assert (moved.from_group, moved.to_group, moved.detail) == (None, None, DETAIL)
    # once Bo answers, the same handoff (same date): a read later does not move it
    assert reply_handoffs(_ticket("bo", ASK, AUTO, ANN, ANN_NOTE, BO)) == (moved,)


def test_no_handoff_without_a_change_of_owner_or_with_history() -> None:
    assert reply_handoffs(_ticket("ann", ASK, AUTO, ANN, ANN_NOTE)) == ()
    assert reply_handoffs(_ticket(None, ASK, ANN)) == ()  # unassigned: nobody took it
    # an automatic acknowledgement (no substance) makes nobody an owner
    assert reply_handoffs(_ticket("ann", ASK, AUTO)) == ()
    # the helpdesk's (or the snapshots') history wins
    seen = TicketEvent(type=EventType.REASSIGNED, at=T0, from_assignee="x", to_assignee="bo")
    assert reply_handoffs(_ticket("bo", ASK, ANN), (seen,)) == ()
    # with_events (called for connectors without a history API) adds them on a first read
    ticket = with_events(_ticket("bo", ASK, AUTO, ANN, ANN_NOTE), ())
    assert [e.from_assignee for e in ticket.events if e.type is EventType.REASSIGNED] == ["ann"]
    assert with_events(ticket, ()) == ticket


def test_on_the_sample_the_conversation_shows_exactly_the_files_reassignments() -> None:
    """The bundled sample's 50 reassignments (all 320 tickets, history stripped) are found
    from the replies alone, each dated at most 10 minutes before the real one."""
    found = 0
    for ticket in iter_tickets(SAMPLE):
        truth = [e for e in ticket.events if e.type is EventType.REASSIGNED]
        bare = ticket.model_copy(
            update={"events": tuple(e for e in ticket.events if e not in truth)}
        )
        inferred = reply_handoffs(bare)
        assert [(e.from_assignee, e.to_assignee) for e in inferred] == [
            (e.from_assignee, e.to_assignee) for e in truth
        ], ticket.key
        for guess, real in zip(inferred, truth, strict=True):
            assert timedelta(0) <= real.at - guess.at <= timedelta(minutes=10)
        found += len(inferred)
    assert found == 50


def test_the_firewalls_own_replies_make_nobody_an_owner() -> None:
    own = _comment(
        40,
        Role.AGENT,
        "api",
        "We're sorry for the wait: your refund is on its way today.\n[empathy-firewall:k1]",
    )
    assert reply_handoffs(_ticket("ann", ASK, ANN, own)) == ()


def test_a_derived_handoff_already_answered_is_dated_before_the_answer() -> None:
    """Snapshots date a handoff at the read that saw it, here Bo's answer itself; dated
    there, the answer would not count and the ticket would look unanswered."""
    ticket = _ticket("bo", ASK, ANN, ANN_NOTE, BO).model_copy(update={"updated_at": BO.created_at})
    (moved,) = derive_events("open", "normal", "ann", None, ticket)
    assert moved.at == ANN_NOTE.created_at
    # not answered yet: dated at the read, as before
    waiting = _ticket("bo", ASK, ANN, ANN_NOTE)
    (moved,) = derive_events("open", "normal", "ann", None, waiting)
    assert moved.at == waiting.updated_at


def test_the_conversation_covers_the_time_before_the_snapshots_first_handoff() -> None:
    """Ann handed to Bo before the first sync, Bo answered; a later sync saw Bo -> Cy:
    both handoffs count, the first from the replies, the second from the snapshots."""
    later = TicketEvent(
        type=EventType.REASSIGNED,
        at=BO.created_at + timedelta(hours=2),
        from_assignee="bo",
        to_assignee="cy",
    )
    ticket = with_events(_ticket("cy", ASK, AUTO, ANN, ANN_NOTE, BO), (later,))
    moved = [
        (e.from_assignee, e.to_assignee) for e in ticket.events if e.type is EventType.REASSIGNED
    ]
    assert moved == [("ann", "bo"), ("bo", "cy")]
    # a first derived handoff away from Ann: nothing before it to read (Ann owned it)
    early = later.model_copy(
        update={
            "at": ANN_NOTE.created_at + timedelta(minutes=5),
            "from_assignee": "ann",
            "to_assignee": "bo",
        }
    )
    assert reply_handoffs(_ticket("bo", ASK, AUTO, ANN, ANN_NOTE, BO), (early,)) == ()
