"""Webhook signatures: published test vectors, fail-closed rules, properties."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from zendesk_fixtures import load, raw

from empathy_firewall.connectors import Headers
from empathy_firewall.errors import ConfigError
from empathy_firewall.webhooks import SignatureError, WebhookRequest
from empathy_firewall_zendesk.webhook import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    ZendeskSignatureVerifier,
    compute_signature,
)

VECTORS = {v["name"]: v for v in load("signature_vector.json")["vectors"]}
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def request(
    body: bytes, signature: str | None, timestamp: str | None, at: datetime = NOW
) -> WebhookRequest:
    headers = {}
    if signature is not None:
        headers[SIGNATURE_HEADER] = signature
    if timestamp is not None:
        headers[TIMESTAMP_HEADER] = timestamp
    return WebhookRequest("POST", "/webhooks/zendesk", Headers(headers), body, received_at=at)


def test_zendesk_go_vector_verifies_timestamp_plus_body() -> None:
    vector = VECTORS["zendesk_go_library_vector"]
    body = raw("webhook_event_user_group_membership_created_zendesk_go.json")
    assert (
        compute_signature(vector["secret"], vector["timestamp"], body)
        == vector["expected_signature"]
    )
    verifier = ZendeskSignatureVerifier(vector["secret"], window=None)
    verifier.verify(request(body, vector["expected_signature"], vector["timestamp"]))


def test_legacy_docs_vector_pins_key_handling_and_base64_output() -> None:
    vector = VECTORS["zendesk_docs_legacy_example"]
    body = vector["body"].encode()
    # the legacy page concatenated body + timestamp; our order gives its other figure
    assert (
        compute_signature(vector["secret"], vector["timestamp"], body)
        == vector["computed_timestamp_plus_body"]
    )
    with pytest.raises(SignatureError):
        ZendeskSignatureVerifier(vector["secret"], window=None).verify(
            request(body, vector["expected_signature"], vector["timestamp"])
        )


def test_missing_signature_with_a_secret_is_rejected() -> None:
    verifier = ZendeskSignatureVerifier("s3cret")
    with pytest.raises(SignatureError):
        verifier.verify(request(b"{}", None, None))
    with pytest.raises(SignatureError):
        verifier.verify(request(b"{}", "abc=", None))


def test_a_signature_without_a_configured_secret_is_a_config_error() -> None:
    verifier = ZendeskSignatureVerifier(None, allow_unsigned=True)
    with pytest.raises(ConfigError, match="ZENDESK_WEBHOOK_SECRET"):
        verifier.verify(request(b"{}", "abc=", "2026-01-05T09:00:00Z"))
    verifier.verify(request(b"{}", None, None))  # explicitly allowed unsigned


def test_no_secret_and_no_explicit_opt_out_fails_at_startup() -> None:
    with pytest.raises(ConfigError):
        ZendeskSignatureVerifier(None)


def test_a_stale_timestamp_is_rejected_even_with_a_valid_signature() -> None:
    ts = "2026-01-05T08:50:00Z"
    sig = compute_signature("s3cret", ts, b"{}")
    with pytest.raises(SignatureError, match="replay"):
        ZendeskSignatureVerifier("s3cret").verify(request(b"{}", sig, ts))
    ZendeskSignatureVerifier("s3cret", window=timedelta(minutes=15)).verify(request(b"{}", sig, ts))


def test_malformed_signature_is_rejected() -> None:
    with pytest.raises(SignatureError):
        ZendeskSignatureVerifier("s3cret").verify(
            request(b"{}", "%%%not-base64", "2026-01-05T09:00:00Z")
        )


@settings(deadline=None)
@given(secret=st.text(min_size=1), body=st.binary(), skew=st.integers(-299, 299))
def test_any_correctly_signed_body_verifies(secret: str, body: bytes, skew: int) -> None:
    ts = (NOW + timedelta(seconds=skew)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ZendeskSignatureVerifier(secret).verify(request(body, compute_signature(secret, ts, body), ts))


@settings(deadline=None)
@given(body=st.binary(), flip=st.integers(min_value=0), other=st.binary(min_size=1))
def test_any_change_to_the_body_is_rejected(body: bytes, flip: int, other: bytes) -> None:
    ts = "2026-01-05T09:00:00Z"
    sig = compute_signature("s3cret", ts, body)
    changed = (
        body + other
        if not body
        else bytes(b ^ (1 if i == flip % len(body) else 0) for i, b in enumerate(body))
    )
    with pytest.raises(SignatureError):
        ZendeskSignatureVerifier("s3cret").verify(request(changed, sig, ts))


@settings(deadline=None)
@given(signature=st.text(), timestamp=st.text())
def test_garbage_headers_never_crash(signature: str, timestamp: str) -> None:
    with contextlib.suppress(SignatureError):
        ZendeskSignatureVerifier("s3cret").verify(request(b"{}", signature, timestamp))
