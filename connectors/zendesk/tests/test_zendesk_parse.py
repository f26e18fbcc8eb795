"""Pure parsers against recorded payload shapes, plus property-based robustness."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from zendesk_fixtures import load, raw

from empathy_firewall.connectors import Headers, HttpResponse, RawPage
from empathy_firewall.errors import InputError
from empathy_firewall.models import Channel, Priority, Role, TicketStatus
from empathy_firewall_zendesk.connector import ZendeskConnector
from empathy_firewall_zendesk.parse import (
    ParseContext,
    describe_zendesk_error,
    export_stamp,
    index_by_id,
    normalize_ticket,
    parse_comments,
    parse_export,
    parse_job_status,
    parse_time,
)
from empathy_firewall_zendesk.webhook import parse_webhook_payload

CONNECTOR = ZendeskConnector.from_config({"subdomain": "company"}, env={})


def test_export_page_normalizes_the_documented_ticket() -> None:
    body = load("oas_incremental_tickets_cursor.json")
    comments = load("oas_ticket_comments.json")["comments"]
    page = CONNECTOR.parse_page(RawPage(body, {"comments": {"35436": comments}}))
    assert not page.more
    assert page.bookmark.data() == {"cursor": "MTU3NjYxMzUzOS4wfHw0Njd8"}
    (ticket,) = page.tickets
    assert ticket.source.external_id == "35436"
    assert ticket.source.connector == "zendesk"
    assert ticket.source.url == "https://company.zendesk.com/agent/tickets/35436"
    assert ticket.status is TicketStatus.OPEN
    assert ticket.priority is Priority.HIGH
    assert ticket.channel is Channel.WEB
    assert ticket.tags == ("enterprise", "other_tag")
    assert ticket.custom_fields == {"27642": "745", "27648": "yes"}
    assert ticket.group == "98738"
    assert ticket.comments[0].text == "Thanks for your help!"


def test_duplicates_and_deleted_tickets_in_an_export_page() -> None:
    body = load("oas_incremental_tickets_cursor.json")
    original = body["tickets"][0]
    newer = {
        **original,
        "generated_timestamp": original["generated_timestamp"] + 5,
        "subject": "new",
    }
    gone = {**original, "id": 99, "status": "deleted"}
    body = {**body, "tickets": [original, gone, newer, original]}
    export = parse_export(body)
    assert [t["subject"] for t in export.tickets] == ["new"]
    assert export.removed == ("99",)
    assert export.duplicates == 2
    again = parse_export(body, seen={"35436": export_stamp(newer)})
    assert again.tickets == ()


def test_a_cursor_that_does_not_advance_ends_the_run() -> None:
    body = {**load("oas_incremental_tickets_cursor.json"), "end_of_stream": False}
    page = CONNECTOR.parse_page(RawPage(body, {"cursor": body["after_cursor"]}))
    assert not page.more
    assert any("did not advance" in n for n in page.notes)


def test_comment_roles_from_recorded_comment_lists() -> None:
    records = load("ticket_comments_list_zendesk_go.json")["comments"]
    comments = parse_comments(records, requester_id="123123", ctx=ParseContext())
    assert [c.author_role for c in comments] == [Role.CUSTOMER, Role.AGENT]
    assert [c.public for c in comments] == [True, False]
    messaging = load("ticket_comments_messaging_system_zendesk_go.json")["comments"]
    parsed = parse_comments(messaging, requester_id=None, ctx=ParseContext())
    by_id = {c.id: c for c in parsed}
    assert by_id["1804785483751"].author_role is Role.SYSTEM
    assert by_id["1804785483751"].channel is Channel.CHAT
    assert by_id["2062578988107"].channel is Channel.MESSAGING
    assert by_id["2062578988107"].text.startswith("Conversation with")  # plain_body


def test_metric_sets_become_ticket_metrics() -> None:
    metric = load("oas_ticket_metric.json")["ticket_metric"][0]
    ticket = normalize_ticket(
        {**load("oas_ticket_show.json")["ticket"], "id": metric["ticket_id"]},
        ctx=ParseContext(metric_sets=index_by_id([metric], key="ticket_id")),
    )
    assert ticket.metrics is not None
    assert ticket.metrics.reopens == 0
    assert ticket.metrics.first_reply_minutes == 16.0


def test_sla_breach_time_from_the_slas_sideload() -> None:
    data = {
        **load("oas_ticket_show.json")["ticket"],
        "slas": {
            "policy_metrics": [
                {
                    "breach_at": "2026-01-05T12:00:00Z",
                    "stage": "achieved",
                    "metric": "first_reply_time",
                    "days": -1,
                },
                {
                    "breach_at": "2026-01-05T10:00:00Z",
                    "stage": "active",
                    "metric": "next_reply_time",
                    "hours": 24,
                },
            ]
        },
    }
    sla = normalize_ticket(data).sla
    assert sla is not None
    assert sla.policy == "next_reply_time"
    assert sla.reply_target_minutes == 1440.0
    assert sla.breach_at == parse_time("2026-01-05T10:00:00Z")


def test_event_webhook_with_upper_case_enums_and_string_ids() -> None:
    event = parse_webhook_payload(raw("webhook_event_ticket_created_doc.json"), account="acme")
    assert event.id == "event:cbe4028c-7239-495d-b020-f22348516046"
    assert event.type == "ticket.created"
    assert event.ticket is not None
    assert event.ticket.external_id == "5158"
    assert event.snapshot is None  # a hint: the worker re-reads the ticket
    # the event's ``detail`` still normalizes (UPPER-CASE enums, string ids)
    snapshot = normalize_ticket(json.loads(raw("webhook_event_ticket_created_doc.json"))["detail"])
    assert snapshot.status is TicketStatus.OPEN
    assert snapshot.priority is Priority.LOW
    assert snapshot.channel is Channel.API
    assert snapshot.tags == ("ticket-info-test-tag",)
    assert event.occurred_at is not None
    assert event.occurred_at.microsecond == 672717


def test_non_ticket_events_have_no_ticket() -> None:
    event = parse_webhook_payload(
        raw("webhook_event_user_group_membership_created_zendesk_go.json")
    )
    assert event.type == "user.group_membership_created"
    assert event.ticket is None


def test_trigger_webhook_bodies() -> None:
    event = parse_webhook_payload(raw("webhook_trigger_custom_body_zendesk_go.json"))
    assert event.ticket is not None
    assert event.ticket.external_id == "12345"
    templated = json.dumps(
        {
            "empathy_firewall": 1,
            "event": "ticket.updated",
            "ticket_id": "77",
            "updated_at": "2026-01-05T09:00:00Z",
            "status": "open",
        }
    ).encode()
    first = parse_webhook_payload(templated)
    assert first.id == "trigger:77:2026-01-05T09:00:00Z"
    assert first.type == "ticket.updated"
    assert parse_webhook_payload(templated).id == first.id  # redelivery dedupes


def test_job_status_items_with_and_without_success() -> None:
    job = parse_job_status(load("oas_job_status_update_many.json"))
    assert job.finished
    assert all(i.success for i in job.items)
    failed = parse_job_status(
        {
            "job_status": {
                "id": "V3-x",
                "status": "completed",
                "results": [
                    {
                        "index": 0,
                        "id": 5,
                        "error": "RecordInvalid",
                        "details": "Status: closed prevents ticket update",
                    },
                    {"id": 6, "action": "update", "success": True, "status": "Updated"},
                ],
            }
        }
    )
    assert [i.success for i in failed.items] == [False, True]
    assert "closed" in (failed.items[0].error or "")


def test_error_shapes_become_one_safe_line() -> None:
    def describe(body: bytes, ctype: str = "application/json") -> str:
        return describe_zendesk_error(HttpResponse(422, Headers({"Content-Type": ctype}), body))

    assert "Status: closed prevents ticket update" in describe(
        raw("error_record_invalid_422_zendesk_go.json")
    )
    assert "Couldn't authenticate you" in describe(raw("error_401_zendesk_go.json"))
    assert "TooManyRequests" in describe(raw("oas_error_429_errors_array.json"))
    assert "APIRateLimitExceeded" in describe(
        raw("error_rate_limit_429_incremental_zendesk_go.json")
    )
    assert "per minute" in describe(
        b"Number of allowed API requests per minute exceeded", "text/plain"
    )
    assert describe(b"<html><body>502</body></html>", "text/html") == "HTML error page"


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=6)
    ),
    max_leaves=20,
)
_ticketish = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.integers(), st.text(max_size=8)),
        "status": st.sampled_from(["new", "OPEN", "hold", "deleted", "weird", ""]) | _json,
        "priority": st.sampled_from(["low", "URGENT", None]) | _json,
        "created_at": st.sampled_from(["2026-01-05T09:00:00Z", "bad"]) | _json,
        "updated_at": st.sampled_from(["2026-01-05T09:00:00.123456789Z", None]) | _json,
        "tags": st.lists(st.text(max_size=5)) | _json,
        "via": _json,
        "requester_id": _json,
        "custom_fields": _json,
        "generated_timestamp": st.integers() | _json,
    },
)


@settings(deadline=None)
@given(st.lists(_ticketish, max_size=5), _json)
def test_export_parsing_never_crashes_on_odd_shapes(
    tickets: list[dict[str, Any]], cursor: Any
) -> None:
    body = {"tickets": tickets, "after_cursor": cursor, "end_of_stream": True}
    try:
        page = CONNECTOR.parse_page(RawPage(body))
    except InputError:
        return
    assert not page.more


@settings(deadline=None)
@given(_json)
def test_webhook_parsing_accepts_or_rejects_cleanly(data: Any) -> None:
    try:
        event = parse_webhook_payload(json.dumps(data).encode())
    except InputError:
        return
    assert event.id
    assert event.ticket is not None


@settings(deadline=None)
@given(st.binary())
def test_webhook_parsing_rejects_non_json_cleanly(body: bytes) -> None:
    with contextlib.suppress(InputError):
        parse_webhook_payload(body)
