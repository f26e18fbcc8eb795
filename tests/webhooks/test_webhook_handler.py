"""The framework-neutral receiver: every rejection code with its reason, real payloads,
signed deliveries from the fakes, redelivery dedupe, and a store outage."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sync_support import seeded_fake
from webhook_support import (
    ZENDESK_FIXTURES,
    MemoryInbox,
    event_body,
    signed_headers,
    zendesk_request,
)

from empathy_firewall.connectors.base import Headers
from empathy_firewall.webhooks.handler import PendingEvent, Reason, WebhookReceiver
from empathy_firewall.webhooks.request import WebhookRequest
from empathy_firewall_freshdesk import FreshdeskConnector
from empathy_firewall_freshdesk.testing import FakeFreshdesk
from empathy_firewall_zendesk import ZendeskConnector
from empathy_firewall_zendesk.testing import FakeZendesk


def zendesk_receiver(fake: FakeZendesk, inbox: Any = None, **options: Any) -> WebhookReceiver:
    connector = ZendeskConnector.from_config(fake.connector_config(), env=fake.env)
    return WebhookReceiver(connector, inbox or MemoryInbox(), account="acme", **options)


def freshdesk_receiver(fake: FakeFreshdesk, inbox: Any = None) -> WebhookReceiver:
    connector = FreshdeskConnector.from_config(fake.connector_config(), env=fake.env)
    return WebhookReceiver(connector, inbox or MemoryInbox(), account="acme")


@pytest.fixture
def zendesk() -> FakeZendesk:
    fake, _ = seeded_fake(10)
    return fake


def test_a_signed_event_is_queued_once_and_a_redelivery_is_a_duplicate(
    zendesk: FakeZendesk,
) -> None:
    inbox = MemoryInbox()
    receiver = zendesk_receiver(zendesk, inbox)
    first = receiver.receive(zendesk_request(zendesk, event_body(1005, "ev-1")))
    again = receiver.receive(zendesk_request(zendesk, event_body(1005, "ev-1")))
    assert (first.status, first.json["status"]) == (202, "queued")
    assert (again.status, again.json["status"]) == (202, "duplicate")
    assert list(inbox.items) == [("zendesk", "acme", "event:ev-1")]
    payload = json.loads(next(iter(inbox.items.values())))
    assert payload["ticket"] == "1005"
    assert payload["type"] == "ticket.comment_added"


def test_real_zendesk_payload_shapes_are_accepted(zendesk: FakeZendesk) -> None:
    inbox = MemoryInbox()
    receiver = zendesk_receiver(zendesk, inbox)
    event = (ZENDESK_FIXTURES / "webhook_event_ticket_created_doc.json").read_bytes()
    trigger = (ZENDESK_FIXTURES / "webhook_trigger_custom_body_zendesk_go.json").read_bytes()
    user_event = (
        ZENDESK_FIXTURES / "webhook_event_user_group_membership_created_zendesk_go.json"
    ).read_bytes()
    assert receiver.receive(zendesk_request(zendesk, event)).json["status"] == "queued"
    assert receiver.receive(zendesk_request(zendesk, trigger)).json["status"] == "queued"
    ignored = receiver.receive(zendesk_request(zendesk, user_event))
    assert (ignored.status, ignored.json["status"]) == (200, "ignored")
    tickets = sorted(json.loads(p)["ticket"] for p in inbox.items.values())
    assert tickets == ["12345", "5158"]


def test_the_documented_trigger_template_dedupes_on_ticket_and_update_time(
    zendesk: FakeZendesk,
) -> None:
    from empathy_firewall_zendesk.webhook import TRIGGER_BODY_TEMPLATE

    body = (
        TRIGGER_BODY_TEMPLATE.replace("{{ticket.id}}", "1005")
        .replace("{{ticket.updated_at_with_timestamp}}", "2026-10-01T11:58:00Z")
        .replace("{{ticket.status}}", "open")
        .encode()
    )
    receiver = zendesk_receiver(zendesk)
    first = receiver.receive(
        zendesk_request(zendesk, body, headers={"X-Zendesk-Webhook-Invocation-Id": "1"})
    )
    retry = receiver.receive(
        zendesk_request(zendesk, body, headers={"X-Zendesk-Webhook-Invocation-Id": "2"})
    )
    assert first.json["id"] == "trigger:1005:2026-10-01T11:58:00Z"
    assert retry.json["status"] == "duplicate"


def test_freshdesk_deliveries_from_the_fake_are_queued_and_deduplicated() -> None:
    fake = FakeFreshdesk()
    inbox = MemoryInbox()
    receiver = freshdesk_receiver(fake, inbox)
    body = {"empathy_firewall": 1, "ticket_id": "42", "status": "Open", "priority": "High"}
    assert receiver.receive(fake.webhook(body)).json["status"] == "queued"
    assert receiver.receive(fake.webhook(body)).json["status"] == "duplicate"
    wrong = receiver.receive(fake.webhook(body, secret="not-it"))
    assert (wrong.status, wrong.json["reason"]) == (401, "bad_signature")
    payload = json.loads(next(iter(inbox.items.values())))
    assert payload["hints"] == {"priority": "High", "status": "Open"}


@pytest.mark.parametrize(
    ("mutate", "status", "reason"),
    [
        (lambda r: {**r, "method": "GET"}, 405, Reason.METHOD_NOT_ALLOWED),
        (lambda r: {**r, "body": b"{" + b" " * 3000 + b"}"}, 413, Reason.BODY_TOO_LARGE),
        (lambda r: {**r, "content_type": "text/plain"}, 415, Reason.UNSUPPORTED_MEDIA_TYPE),
        (lambda r: {**r, "content_type": None}, 415, Reason.UNSUPPORTED_MEDIA_TYPE),
        (lambda r: {**r, "signature": "AAAA"}, 401, Reason.BAD_SIGNATURE),
        (lambda r: {**r, "signature": "%%%not-base64"}, 401, Reason.BAD_SIGNATURE),
        (lambda r: {**r, "signature": None}, 401, Reason.BAD_SIGNATURE),
        (lambda r: {**r, "age": timedelta(minutes=30)}, 401, Reason.STALE_TIMESTAMP),
        (lambda r: {**r, "body": b"not json"}, 400, Reason.MALFORMED_PAYLOAD),
        (lambda r: {**r, "body": b"[1, 2]"}, 400, Reason.MALFORMED_PAYLOAD),
        (lambda r: {**r, "body": b'{"hello": "world"}'}, 400, Reason.MALFORMED_PAYLOAD),
    ],
    ids=[
        "get",
        "too-large",
        "text-plain",
        "no-content-type",
        "wrong-signature",
        "malformed-signature",
        "unsigned",
        "stale",
        "not-json",
        "not-an-object",
        "no-ticket",
    ],
)
def test_each_rejection_has_its_status_and_reason(
    zendesk: FakeZendesk,
    caplog: pytest.LogCaptureFixture,
    mutate: Any,
    status: int,
    reason: Reason,
) -> None:
    inbox = MemoryInbox()
    receiver = zendesk_receiver(zendesk, inbox, max_body_bytes=2048)
    spec = mutate(
        {
            "method": "POST",
            "body": event_body(1005, "ev-9"),
            "content_type": "application/json",
            "signature": "",
            "age": timedelta(0),
        }
    )
    signed_at = zendesk.clock.wall() - spec["age"]
    headers = signed_headers(zendesk.signing_secret, spec["body"], signed_at)
    if spec["content_type"] is None:
        del headers["Content-Type"]
    else:
        headers["Content-Type"] = spec["content_type"]
    if spec["signature"] is None:
        del headers["X-Zendesk-Webhook-Signature"]
    elif spec["signature"]:
        headers["X-Zendesk-Webhook-Signature"] = spec["signature"]
    request = WebhookRequest(
        spec["method"], "/webhooks/zendesk", Headers(headers), spec["body"], zendesk.clock.wall()
    )
    with caplog.at_level(logging.INFO, logger="empathy_firewall.webhooks"):
        response = receiver.receive(request)
    assert response.status == status
    assert response.json["status"] == "rejected"
    assert response.json["reason"] == reason.value
    assert response.json["detail"]
    assert inbox.items == {}
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"reason={reason.value}" in logged
    assert "ev-9" not in logged  # the payload is never logged
    assert zendesk.signing_secret not in logged


def test_charset_and_vendor_json_content_types_are_json(zendesk: FakeZendesk) -> None:
    receiver = zendesk_receiver(zendesk)
    body = event_body(1005, "ev-ct")
    for content_type in (
        "application/json; charset=utf-8",
        "APPLICATION/JSON",
        "application/vnd.x+json",
    ):
        response = receiver.receive(
            zendesk_request(zendesk, body, headers={"Content-Type": content_type})
        )
        assert response.status == 202, content_type


def test_a_signed_request_without_a_configured_secret_fails_closed(zendesk: FakeZendesk) -> None:
    connector = ZendeskConnector.from_config(
        zendesk.connector_config(allow_unsigned_webhooks=True), env={}
    )
    receiver = WebhookReceiver(connector, MemoryInbox(), account="acme")
    response = receiver.receive(zendesk_request(zendesk, event_body(1005, "ev-2")))
    assert (response.status, response.json["reason"]) == (401, "unverifiable")


class BrokenInbox:
    def put(self, connector: str, account: str, dedupe_key: str, payload: str) -> bool:
        raise OSError("database is gone")


def test_a_store_outage_is_503_with_retry_after_never_500(zendesk: FakeZendesk) -> None:
    receiver = zendesk_receiver(zendesk, BrokenInbox())
    response = receiver.receive(zendesk_request(zendesk, event_body(1005, "ev-3")))
    assert response.status == 503
    assert response.json["reason"] == "store_unavailable"
    assert response.headers["Retry-After"] == "30"


def test_a_parser_bug_is_a_400_not_a_crash(zendesk: FakeZendesk) -> None:
    connector = ZendeskConnector.from_config(zendesk.connector_config(), env=zendesk.env)

    def explode(_: WebhookRequest) -> Any:
        raise KeyError("surprise")

    connector.parse_webhook = explode  # type: ignore[method-assign]
    receiver = WebhookReceiver(connector, MemoryInbox(), account="acme")
    response = receiver.receive(zendesk_request(zendesk, event_body(1005, "ev-4")))
    assert (response.status, response.json["reason"]) == (400, "malformed_payload")


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)  # the fake is only read
@given(event_id=st.text(min_size=1, max_size=30))
def test_any_event_id_becomes_a_dedupe_key_postgresql_can_store(
    zendesk: FakeZendesk, event_id: str
) -> None:
    """A NUL or a lone surrogate in a vendor's event id (both survive ``json.loads``) must
    not fail the PostgreSQL batch it shares with other deliveries: the key is made storable,
    the same id always gives the same key, and a plain id keeps its readable form."""
    receiver = zendesk_receiver(zendesk)
    first = receiver.check(zendesk_request(zendesk, event_body(1005, event_id)))
    again = receiver.check(zendesk_request(zendesk, event_body(1005, event_id)))
    assert isinstance(first, PendingEvent)
    assert isinstance(again, PendingEvent)
    assert first.dedupe_key == again.dedupe_key
    assert "\x00" not in first.dedupe_key
    first.dedupe_key.encode("utf-8")  # no lone surrogate
    if "\x00" not in event_id and not any(0xD800 <= ord(c) <= 0xDFFF for c in event_id):
        assert first.dedupe_key == f"event:{event_id}"
