"""Webhook authentication (shared secret, constant time, fail closed) and the body hint."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from freshdesk_fixtures import connect
from hypothesis import given
from hypothesis import strategies as st

from empathy_firewall.connectors import Headers
from empathy_firewall.errors import ConfigError, InputError
from empathy_firewall.webhooks import SignatureError, WebhookRequest
from empathy_firewall_freshdesk import WEBHOOK_BODY_TEMPLATE, SharedSecretVerifier
from empathy_firewall_freshdesk.testing import FakeFreshdesk
from empathy_firewall_freshdesk.webhook import parse_webhook_payload

SECRET = "s3cret-Value_42"
HEADER = "X-Empathy-Firewall-Token"


def request(headers: dict[str, str], body: bytes = b'{"ticket_id": "7"}') -> WebhookRequest:
    return WebhookRequest("POST", "/webhooks/freshdesk", Headers(headers), body)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_the_right_header_passes_and_anything_else_fails() -> None:
    verifier = SharedSecretVerifier(SECRET)
    verifier.verify(request({HEADER: SECRET}))
    verifier.verify(request({HEADER.lower(): SECRET}))  # header names are case-insensitive
    with pytest.raises(SignatureError, match="without its shared secret"):
        verifier.verify(request({}))
    with pytest.raises(SignatureError, match="does not match"):
        verifier.verify(request({HEADER: SECRET + "x"}))
    with pytest.raises(SignatureError):
        verifier.verify(request({HEADER: ""}))


def test_basic_auth_mode_checks_the_password() -> None:
    verifier = SharedSecretVerifier(SECRET, mode="basic")
    verifier.verify(request({"Authorization": basic("freshdesk", SECRET)}))
    with pytest.raises(SignatureError):
        verifier.verify(request({"Authorization": basic("freshdesk", "wrong")}))
    with pytest.raises(SignatureError, match="malformed"):
        verifier.verify(request({"Authorization": "Basic !!!not-base64"}))
    with pytest.raises(SignatureError):
        verifier.verify(request({HEADER: SECRET}))  # the header does not count in basic mode


def test_no_secret_is_a_configuration_error_unless_allowed() -> None:
    with pytest.raises(ConfigError, match="FRESHDESK_WEBHOOK_SECRET"):
        SharedSecretVerifier(None)
    SharedSecretVerifier(None, allow_unauthenticated=True).verify(request({}))


def test_the_connector_reads_the_secret_from_its_environment(fake: FakeFreshdesk) -> None:
    connector = connect(fake, webhook_secret_header="X-My-Secret")
    verifier = connector.verifier()
    verifier.verify(request({"X-My-Secret": fake.webhook_secret}))
    assert fake.webhook_secret not in repr(verifier)
    bare = connect(fake)
    bare._env = {}
    with pytest.raises(ConfigError):
        bare.verifier()


header_text = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=0, max_size=40
)


@given(header_text.filter(lambda s: s.strip() == s and s != ""), header_text)
def test_only_the_exact_secret_passes(secret: str, given_value: str) -> None:
    verifier = SharedSecretVerifier(secret)
    req = request({HEADER: given_value})
    if given_value.strip() == secret:
        verifier.verify(req)
    else:
        with pytest.raises(SignatureError):
            verifier.verify(req)


@given(header_text, header_text)
def test_basic_auth_passes_only_with_the_secret_as_password(user: str, password: str) -> None:
    verifier = SharedSecretVerifier(SECRET, mode="basic")
    req = request({"Authorization": basic(user.replace(":", ""), password)})
    if password == SECRET:
        verifier.verify(req)
    else:
        with pytest.raises(SignatureError):
            verifier.verify(req)


@given(st.binary(max_size=200))
def test_any_body_parses_to_an_event_or_an_input_error(body: bytes) -> None:
    try:
        event = parse_webhook_payload(body)
    except InputError:
        return
    assert event.ticket is not None
    assert event.ticket.external_id.isdigit()


def test_the_documented_template_parses_once_freshdesk_fills_it() -> None:
    rendered = (
        WEBHOOK_BODY_TEMPLATE.replace("{{ticket.id}}", "1234")
        .replace("{{ticket.status}}", "Open")
        .replace("{{ticket.priority}}", "High")
    )
    event = parse_webhook_payload(rendered.encode(), account="acme")
    assert event.ticket is not None
    assert event.ticket.external_id == "1234"
    assert event.ticket.account == "acme"
    assert event.type == "ticket.updated"
    assert event.snapshot is None
    assert event.data == {"event": "ticket.updated", "status": "Open", "priority": "High"}


@pytest.mark.parametrize(
    "body",
    [
        {"ticket_id": 55},
        {"ticket": {"id": "55"}},
        {"freshdesk_webhook": {"ticket_id": "#55"}},
        {"id": "55"},
    ],
)
def test_common_hand_written_bodies(body: dict[str, object]) -> None:
    event = parse_webhook_payload(json.dumps(body).encode())
    assert event.ticket is not None
    assert event.ticket.external_id == "55"


@pytest.mark.parametrize("body", [b"not json", b"[1,2]", b'{"subject": "hi"}', b'{"ticket_id": 0}'])
def test_bad_bodies_are_input_errors(body: bytes) -> None:
    with pytest.raises(InputError):
        parse_webhook_payload(body)


def _deliver(receiver: object, body: bytes, secret: str, at: datetime) -> str:
    from empathy_firewall.webhooks import WebhookReceiver

    assert isinstance(receiver, WebhookReceiver)
    req = WebhookRequest(
        "POST",
        "/webhooks/freshdesk",
        Headers({HEADER: secret, "Content-Type": "application/json"}),
        body,
        received_at=at,
    )
    answer = receiver.receive(req)
    assert answer.status == 202, answer.json
    return str(answer.json["status"])


def test_a_new_reply_with_unchanged_status_is_never_dropped_as_a_duplicate(
    fake: FakeFreshdesk, tmp_path: Path
) -> None:
    """Issue 11 item 1: the documented body is identical for every update that leaves
    status and priority alone; only hints arriving together are coalesced."""
    from empathy_firewall.state.store import StateStore
    from empathy_firewall.webhooks import WebhookReceiver
    from empathy_firewall.webhooks.queue import StoreInbox

    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    receiver = WebhookReceiver(connect(fake), StoreInbox(store), account="acme")
    body = (
        WEBHOOK_BODY_TEMPLATE.replace("{{ticket.id}}", "42")
        .replace("{{ticket.status}}", "Open")
        .replace("{{ticket.priority}}", "Low")
        .encode()
    )
    t0 = datetime(2026, 3, 1, 9, 0, 0, tzinfo=UTC)
    assert _deliver(receiver, body, fake.webhook_secret, t0) == "queued"
    # a second automation rule firing on the same update, a moment later: coalesced
    assert _deliver(receiver, body, fake.webhook_secret, t0 + timedelta(milliseconds=300)) == (
        "duplicate"
    )
    # the customer writes again ten minutes later; status and priority are unchanged
    assert _deliver(receiver, body, fake.webhook_secret, t0 + timedelta(minutes=10)) == "queued"
    # a body carrying the modification time dedupes exactly on it, however late the retry
    stamped = json.dumps({"ticket_id": "42", "updated_at": "2026-03-01T09:20:00Z"}).encode()
    assert _deliver(receiver, stamped, fake.webhook_secret, t0 + timedelta(minutes=20)) == "queued"
    retry = t0 + timedelta(minutes=85)
    assert _deliver(receiver, stamped, fake.webhook_secret, retry) == "duplicate"
    store.close()
