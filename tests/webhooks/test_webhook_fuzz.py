"""Fuzzing: arbitrary methods, headers and bodies never make the receiver answer 500."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from webhook_support import MemoryInbox

from empathy_firewall.connectors.base import Headers
from empathy_firewall.webhooks.handler import WebhookReceiver
from empathy_firewall.webhooks.request import WebhookRequest
from empathy_firewall_freshdesk import FreshdeskConnector
from empathy_firewall_freshdesk.testing import FakeFreshdesk
from empathy_firewall_zendesk import ZendeskConnector
from empathy_firewall_zendesk.testing import FakeZendesk
from empathy_firewall_zendesk.webhook import compute_signature

ZENDESK = FakeZendesk()
FRESHDESK = FakeFreshdesk()
NOW = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
ALLOWED = {200, 202, 400, 401, 405, 413, 415}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
interesting_keys = st.sampled_from(
    ["type", "id", "ticket_id", "ticketID", "detail", "subject", "ticket", "updated_at", "event"]
)
objects = st.dictionaries(interesting_keys | st.text(max_size=8), json_values, max_size=6)
bodies = st.one_of(
    st.binary(max_size=300),
    objects.map(lambda o: json.dumps(o).encode()),
    st.builds(
        lambda t, d: json.dumps({"type": "zen:event-type:" + t, "detail": d}).encode(),
        st.text(max_size=20),
        json_values,
    ),
)
header_names = st.sampled_from(
    [
        "Content-Type",
        "X-Zendesk-Webhook-Signature",
        "X-Zendesk-Webhook-Signature-Timestamp",
        "X-Zendesk-Webhook-Invocation-Id",
        "X-Empathy-Firewall-Token",
        "Authorization",
    ]
) | st.text(min_size=1, max_size=10)
header_values = st.sampled_from(
    ["application/json", "text/plain", "", "Basic !!", "2026-10-01T12:00:00Z"]
) | st.text(max_size=40)


def receivers() -> list[WebhookReceiver]:
    zendesk = ZendeskConnector.from_config(ZENDESK.connector_config(), env=ZENDESK.env)
    freshdesk = FreshdeskConnector.from_config(FRESHDESK.connector_config(), env=FRESHDESK.env)
    return [
        WebhookReceiver(zendesk, MemoryInbox(), account="a", max_body_bytes=200),
        WebhookReceiver(freshdesk, MemoryInbox(), account="a", max_body_bytes=200),
    ]


RECEIVERS = receivers()


@settings(max_examples=300)
@given(
    method=st.sampled_from(["POST", "GET", "PUT", "post"]),
    headers=st.dictionaries(header_names, header_values, max_size=5),
    body=bodies,
)
def test_arbitrary_requests_get_a_4xx_or_an_acknowledgement(
    method: str, headers: dict[str, str], body: bytes
) -> None:
    request = WebhookRequest(method, "/webhooks/x", Headers(headers), body, NOW)
    for receiver in RECEIVERS:
        response = receiver.receive(request)
        assert response.status in ALLOWED
        assert isinstance(response.json["status"], str)


@settings(max_examples=200)
@given(body=bodies)
def test_correctly_signed_garbage_is_400_or_accepted(body: bytes) -> None:
    stamp = "2026-10-01T12:00:00Z"
    headers = {
        "Content-Type": "application/json",
        "X-Zendesk-Webhook-Signature": compute_signature(ZENDESK.signing_secret, stamp, body),
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
        "X-Empathy-Firewall-Token": FRESHDESK.webhook_secret,
    }
    request = WebhookRequest("POST", "/webhooks/x", Headers(headers), body, NOW)
    for receiver in RECEIVERS:
        response = receiver.receive(request)
        assert response.status in {200, 202, 400, 413}, response.json
