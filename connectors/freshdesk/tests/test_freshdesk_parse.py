"""Pure parsers on real Freshdesk payload shapes, plus property-based tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from freshdesk_fixtures import load, shared
from hypothesis import given
from hypothesis import strategies as st

from empathy_firewall.connectors import Headers, HttpResponse
from empathy_firewall.errors import InputError
from empathy_firewall.models import Channel, EventType, Priority, Role, TicketStatus
from empathy_firewall_freshdesk.parse import (
    ParseContext,
    channel_of,
    describe_freshdesk_error,
    html_to_text,
    index_by_id,
    next_link,
    normalize_ticket,
    parse_conversations,
    parse_ticket_list,
    priority_of,
    status_of,
)


def ctx(**kwargs: Any) -> ParseContext:
    return ParseContext(account="acme", base_url="https://acme.freshdesk.com", **kwargs)


def test_real_2016_ticket_with_plain_description() -> None:
    ticket = normalize_ticket(load("ticket_show_real_freshly_2016.json"), ctx=ctx())
    assert ticket.source.external_id == "4"
    assert ticket.source.connector == "freshdesk"
    assert ticket.source.url == "https://acme.freshdesk.com/a/tickets/4"
    assert ticket.status is TicketStatus.OPEN
    assert ticket.priority is Priority.LOW
    assert ticket.channel is Channel.WEB  # source 2: portal
    (first,) = ticket.comments
    assert first.text == "I am testing the api"
    assert first.author_role is Role.CUSTOMER
    assert ticket.sla is not None
    assert ticket.sla.policy == "first_response"
    assert ticket.sla.breach_at == datetime(2016, 3, 16, 21, 46, 23, tzinfo=UTC)
    assert ticket.sla.reply_target_minutes == 24 * 60


def test_ticket_with_stats_and_requester_includes() -> None:
    agents = index_by_id(load("agents_python_freshdesk.json"))
    data = load("ticket_v2_python_freshdesk.json")
    ticket = normalize_ticket(data, ctx=ctx(agents=agents))
    assert ticket.tags == ("foo", "bar")
    assert ticket.requester.name == "Dummyname"
    assert ticket.requester.email == "dummyname@example.com"
    assert ticket.comments[0].text == "This is a sample ticket, feel free to delete it."
    # is_escalated: the resolution target was missed -> an SLA warning event
    warnings = [e for e in ticket.events if e.type is EventType.SLA_WARNING]
    assert [w.detail for w in warnings] == ["resolution overdue (is_escalated)"]
    assert ticket.metrics is not None
    assert ticket.metrics.reopens == 0
    assert ticket.metrics.first_reply_minutes is not None
    # first response done, no next-response due: due_by is the resolution due, no reply
    # target for the current wait (the configured one applies)
    assert ticket.sla is not None
    assert ticket.sla.policy == "resolution"
    assert ticket.sla.reply_target_minutes is None
    assert ticket.sla.breach_at is None


def test_the_updated_ticket_shows_tags_replaced() -> None:
    before = normalize_ticket(load("ticket_v2_python_freshdesk.json"))
    after = normalize_ticket(load("ticket_v2_updated_python_freshdesk.json"))
    assert before.tags == ("foo", "bar")
    assert after.tags == ("hello", "world")  # why write-back merges before it writes
    assert after.priority is Priority.HIGH
    assert after.status is TicketStatus.SOLVED
    assert after.sla is None  # resolved tickets wait for nothing


def test_doc_ticket_view_has_html_description_and_text() -> None:
    ticket = normalize_ticket(shared("doc_ticket_view.json"))
    assert ticket.comments[0].text == "Not given."
    assert ticket.custom_fields == {"category": "Primary"}


def test_conversations_note_and_reply() -> None:
    agents = index_by_id(load("agents_python_freshdesk.json"))
    note, reply = parse_conversations(
        load("ticket_conversations_python_freshdesk.json"),
        requester_id="99",
        ctx=ctx(agents=agents),
    )
    assert note.public is False
    assert note.author_role is Role.AGENT
    assert note.text == "This is a private note"
    assert reply.public is True
    assert reply.author_role is Role.AGENT
    assert reply.channel is Channel.EMAIL


def test_an_incoming_conversation_is_the_customer() -> None:
    records = [
        {
            "id": 5,
            "body_text": "Still broken!!!",
            "incoming": True,
            "private": False,
            "source": 0,
            "user_id": 77,
            "created_at": "2026-01-05T10:00:00Z",
        },
    ]
    (comment,) = parse_conversations(records, requester_id="12", ctx=ctx())
    assert comment.author_role is Role.CUSTOMER


def test_real_note_response_in_early_v2_shape() -> None:
    (note,) = parse_conversations(
        [load("note_created_real_freshly_2016.json")], requester_id=None, ctx=ctx()
    )
    assert note.text == "this is a test note on a ticket"
    assert note.public is False


def test_escalation_flags_and_reopen_become_friction_events() -> None:
    data = {
        "id": 9,
        "status": 2,
        "priority": 3,
        "source": 7,
        "requester_id": 1,
        "created_at": "2026-01-05T09:00:00Z",
        "updated_at": "2026-01-05T12:00:00Z",
        "fr_due_by": "2026-01-05T10:00:00Z",
        "due_by": "2026-01-06T09:00:00Z",
        "fr_escalated": True,
        "is_escalated": False,
        "stats": {
            "first_responded_at": None,
            "reopened_at": "2026-01-05T11:00:00Z",
            "status_updated_at": "2026-01-05T11:00:00Z",
        },
    }
    ticket = normalize_ticket(data)
    kinds = [e.type for e in ticket.events]
    assert EventType.REOPENED in kinds
    assert EventType.SLA_WARNING in kinds
    assert ticket.metrics is not None
    assert ticket.metrics.reopens == 1
    assert ticket.sla is not None
    assert ticket.sla.policy == "first_response"
    assert ticket.channel is Channel.CHAT


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (2, TicketStatus.OPEN),
        (3, TicketStatus.PENDING),
        (4, TicketStatus.SOLVED),
        (5, TicketStatus.CLOSED),
        (6, TicketStatus.OPEN),
        (None, TicketStatus.OPEN),
    ],
)
def test_status_mapping(code: object, status: TicketStatus) -> None:
    assert status_of(code) is status


def test_custom_status_mapping() -> None:
    assert status_of(6, {6: TicketStatus.PENDING}) is TicketStatus.PENDING


@pytest.mark.parametrize(
    ("code", "priority"),
    [
        (1, Priority.LOW),
        (2, Priority.NORMAL),
        (3, Priority.HIGH),
        (4, Priority.URGENT),
        (9, Priority.NORMAL),
    ],
)
def test_priority_mapping(code: int, priority: Priority) -> None:
    assert priority_of(code) is priority


def test_source_mapping_tolerates_unknown_codes() -> None:
    assert channel_of(1) is Channel.EMAIL
    assert channel_of(3) is Channel.PHONE
    assert channel_of(11) is Channel.OTHER
    assert channel_of(999) is Channel.OTHER


def test_list_dedupes_within_a_page_and_against_seen() -> None:
    body = [
        {"id": 1, "updated_at": "2026-01-05T10:00:00Z"},
        {"id": 2, "updated_at": "2026-01-05T10:00:01Z"},
        {"id": 1, "updated_at": "2026-01-05T10:00:00Z"},
        {"id": 3, "updated_at": "2026-01-05T10:00:02Z"},
    ]
    listing = parse_ticket_list(body, seen={"2": "2026-01-05T10:00:01Z"})
    assert [t["id"] for t in listing.tickets] == [1, 3]
    assert listing.duplicates == 2
    assert listing.newest == datetime(2026, 1, 5, 10, 0, 2, tzinfo=UTC)


def test_a_list_that_is_not_an_array_is_an_input_error() -> None:
    with pytest.raises(InputError):
        parse_ticket_list({"tickets": []})


def test_next_link() -> None:
    headers = Headers({"Link": '<https://a.freshdesk.com/api/v2/tickets?page=2>; rel="next"'})
    assert next_link(headers) == "https://a.freshdesk.com/api/v2/tickets?page=2"
    assert next_link(Headers()) is None


def _response(status: int, body: bytes) -> HttpResponse:
    return HttpResponse(status, Headers({"Content-Type": "application/json"}), body)


def test_describe_validation_errors_real_400() -> None:
    raw = pytest.importorskip("json").dumps(load("error_400_validation_failed_real_freshly.json"))
    text = describe_freshdesk_error(_response(400, raw.encode()))
    assert text.startswith("Validation failed (status: Should be a value in the list")
    assert "[missing_field]" in text


def test_describe_code_and_message_real_403() -> None:
    body = b'{"code":"require_feature","message":"The Timesheets feature is not supported"}'
    assert describe_freshdesk_error(_response(403, body)).startswith("require_feature: The")


def test_describe_a_whitespace_404() -> None:
    assert describe_freshdesk_error(_response(404, b" ")) == "not found"


def test_html_to_text_keeps_lines_and_unescapes() -> None:
    assert html_to_text("<div>a &amp; b<br>c</div>") == "a & b\nc"


json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
ticket_like = st.fixed_dictionaries(
    {},
    optional={
        k: json_value | st.just("2026-01-05T10:00:00Z")
        for k in (
            "id",
            "created_at",
            "updated_at",
            "status",
            "priority",
            "source",
            "tags",
            "stats",
            "requester",
            "custom_fields",
            "description",
            "fr_due_by",
            "due_by",
            "is_escalated",
            "fr_escalated",
            "requester_id",
            "responder_id",
            "group_id",
            "conversations",
            "description_text",
            "subject",
        )
    },
)


@given(ticket_like)
def test_normalize_never_crashes_on_odd_json(data: dict[str, Any]) -> None:
    try:
        ticket = normalize_ticket(data)
    except InputError:
        return
    assert ticket.source.external_id


@given(
    st.lists(json_value, max_size=10), st.dictionaries(st.text(max_size=5), st.text(max_size=25))
)
def test_list_parser_never_crashes_and_never_repeats_an_id(
    body: list[Any], seen: dict[str, str]
) -> None:
    listing = parse_ticket_list(body, seen=seen)
    ids = [str(t["id"]) for t in listing.tickets]
    assert len(ids) == len(set(ids))


@given(st.text(max_size=200))
def test_describe_never_crashes(text: str) -> None:
    for status in (400, 403, 404, 429, 500):
        assert isinstance(describe_freshdesk_error(_response(status, text.encode())), str)


stamps = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=0))


@given(st.lists(st.tuples(st.integers(1, 50), stamps), max_size=30), stamps)
def test_a_watermark_survives_its_bookmark(
    changes: list[tuple[int, datetime]], start: datetime
) -> None:
    from datetime import timedelta

    from empathy_firewall_freshdesk.poll import Watermark, iso

    overlap = timedelta(seconds=1)
    mark = Watermark(start, {}, overlap).advanced(
        [{"id": tid, "updated_at": iso(when)} for tid, when in changes]
    )
    back = Watermark.from_bookmark(mark.bookmark(), default=start, overlap=overlap)
    assert back.since == mark.since
    assert back.seen == mark.seen
    assert back.since >= start
    assert all(
        parse_ticket_list([{"id": i, "updated_at": u}], seen=back.seen).duplicates == 1
        for i, u in back.seen.items()
    )


def test_an_answered_ticket_takes_no_reply_target_from_the_resolution_due() -> None:
    """``due_by`` is the resolution due (from creation): never the target of the wait the
    customer is in now. ``nr_due_by`` (newer SLA engine) is, when present."""
    data = {
        "id": 10,
        "status": 2,
        "priority": 2,
        "requester_id": 1,
        "created_at": "2026-01-05T09:00:00Z",
        "updated_at": "2026-01-05T12:00:00Z",
        "fr_due_by": "2026-01-05T17:00:00Z",
        "due_by": "2026-01-08T09:00:00Z",
        "stats": {"first_responded_at": "2026-01-05T10:00:00Z"},
    }
    ticket = normalize_ticket(data)
    assert ticket.sla is not None
    assert (ticket.sla.reply_target_minutes, ticket.sla.breach_at) == (None, None)
    due = normalize_ticket({**data, "nr_due_by": "2026-01-05T20:00:00Z"})
    assert due.sla is not None
    assert due.sla.policy == "next_response"
    assert due.sla.breach_at is not None
    assert due.sla.breach_at.hour == 20
    first = normalize_ticket({**data, "stats": {"first_responded_at": None}})
    assert first.sla is not None
    assert first.sla.reply_target_minutes == 8 * 60.0
