"""Zendesk webhooks: signature verification and payload parsing. Pure.

Signature (Zendesk's "verifying webhooks" page): ``X-Zendesk-Webhook-Signature`` is
``base64(HMAC-SHA256(key=signing secret as given, message=TIMESTAMP + RAW BODY))`` where
TIMESTAMP is the exact ``X-Zendesk-Webhook-Signature-Timestamp`` header string.

Two payload formats arrive:

* event subscriptions (``"type": "zen:event-type:ticket.comment_added"``, string ids,
  UPPER-CASE enums, a ``detail`` ticket snapshot that we do not use: the event is only a
  hint to re-read the ticket);
* trigger- or automation-connected webhooks, whose body is whatever JSON the admin typed;
  we document :data:`TRIGGER_BODY_TEMPLATE` for admins to paste, and also accept the
  common hand-written keys (``ticket_id``, ``ticketID``, ``{"ticket": {"id"}}``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from empathy_firewall.connectors.base import WebhookEvent
from empathy_firewall.errors import ConfigError, InputError
from empathy_firewall.models import SourceRef
from empathy_firewall.webhooks.request import SignatureError, WebhookRequest
from empathy_firewall_zendesk.parse import CONNECTOR, parse_time

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "TRIGGER_BODY_TEMPLATE",
    "ZendeskSignatureVerifier",
    "compute_signature",
    "parse_webhook_payload",
]

SIGNATURE_HEADER = "X-Zendesk-Webhook-Signature"
TIMESTAMP_HEADER = "X-Zendesk-Webhook-Signature-Timestamp"
INVOCATION_HEADER = "X-Zendesk-Webhook-Invocation-Id"
_EVENT_PREFIX = "zen:event-type:"

#: the JSON body admins paste into a trigger's "Notify active webhook" action
TRIGGER_BODY_TEMPLATE = """{
  "empathy_firewall": 1,
  "event": "ticket.updated",
  "ticket_id": "{{ticket.id}}",
  "updated_at": "{{ticket.updated_at_with_timestamp}}",
  "status": "{{ticket.status}}"
}"""


def _digest(secret: bytes, timestamp: str, body: bytes) -> bytes:
    return hmac.digest(secret, timestamp.encode() + body, "sha256")


def compute_signature(secret: str, timestamp: str, body: bytes) -> str:
    """``base64(HMAC-SHA256(secret, timestamp + body))``; the secret is used as-is."""
    return base64.b64encode(_digest(secret.encode(), timestamp, body)).decode("ascii")


def _parse_timestamp(value: str) -> datetime | None:
    parsed = parse_time(value)
    if parsed is not None:
        return parsed
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None


class ZendeskSignatureVerifier:
    """Verifies Zendesk webhook signatures, failing closed.

    * A secret is configured: a missing, malformed, wrong or stale signature raises
      :class:`SignatureError` (the server answers 401 and processes nothing).
    * No secret is configured: only allowed with ``allow_unsigned=True``; a request that
      *does* carry a signature then raises :class:`ConfigError`, because Zendesk signs and
      we cannot check it (the secret is missing from our environment).

    ``window`` bounds the distance between the signed timestamp and ``received_at``
    (replay protection; None disables it, for recorded test vectors only).
    """

    def __init__(
        self,
        secret: str | None,
        *,
        window: timedelta | None = timedelta(minutes=5),
        allow_unsigned: bool = False,
        secret_env: str = "ZENDESK_WEBHOOK_SECRET",  # noqa: S107 - a variable name
    ) -> None:
        if not secret and not allow_unsigned:
            raise ConfigError(
                f"Zendesk webhooks need a signing secret: set {secret_env} "
                "(or allow_unsigned_webhooks: true, for trusted networks only)"
            )
        self._secret = secret or None
        self._secret_bytes = (secret or "").encode()
        self._window = window
        self._secret_env = secret_env

    def __repr__(self) -> str:
        return f"ZendeskSignatureVerifier(secret={'<set>' if self._secret else None})"

    def verify(self, request: WebhookRequest) -> None:
        """Return if the request is authentic; raise otherwise (see the class docstring)."""
        signature = request.headers.get(SIGNATURE_HEADER)
        timestamp = request.headers.get(TIMESTAMP_HEADER)
        if self._secret is None:
            if signature:
                raise ConfigError(
                    "Zendesk sent a signed webhook but no signing secret is configured: "
                    f"set {self._secret_env} to the webhook's signing secret"
                )
            return
        if not signature or not timestamp:
            raise SignatureError("missing Zendesk webhook signature or timestamp header")
        try:
            given = base64.b64decode(signature.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise SignatureError("malformed Zendesk webhook signature") from None
        if self._window is not None:
            signed_at = _parse_timestamp(timestamp)
            if signed_at is None:
                raise SignatureError("malformed Zendesk webhook signature timestamp")
            if abs(request.received_at - signed_at) > self._window:
                raise SignatureError("Zendesk webhook signature timestamp outside replay window")
        expected = _digest(self._secret_bytes, timestamp, request.body)
        if not hmac.compare_digest(given, expected):
            raise SignatureError("Zendesk webhook signature does not match")


def _as_id(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value > 0:
        return str(value)
    if isinstance(value, str) and value.strip().isdigit() and value.strip() != "0":
        return value.strip()
    return None


def _ref(ticket_id: str | None, account: str | None) -> SourceRef | None:
    if ticket_id is None:
        return None
    return SourceRef(connector=CONNECTOR, external_id=ticket_id, account=account)


def _parse_event(
    data: Mapping[str, Any], *, account: str | None, fallback_id: Callable[[], str]
) -> WebhookEvent:
    kind = str(data["type"])[len(_EVENT_PREFIX) :]
    raw_detail = data.get("detail")
    detail: Mapping[str, Any] = raw_detail if isinstance(raw_detail, Mapping) else {}
    ticket_id: str | None = None
    if kind.startswith("ticket."):
        ticket_id = _as_id(detail.get("id"))
        subject = data.get("subject")
        if ticket_id is None and isinstance(subject, str) and subject.startswith("zen:ticket:"):
            ticket_id = _as_id(subject.rsplit(":", 1)[1])
        if ticket_id is None:
            # a ticket event must name its ticket; a 400 makes the problem visible (a 200
            # "ignored" would tell Zendesk all is well and the update would be lost)
            raise InputError(f"Zendesk ticket event {kind!r} has no ticket id (detail.id)")
    # no snapshot from ``detail``: an event is a hint, the worker re-reads the whole
    # ticket, and building one cost a third of the parse on the webhook's accept path
    event_id = data.get("id")
    event = data.get("event")
    return WebhookEvent(
        id=f"event:{event_id}" if isinstance(event_id, str) and event_id else fallback_id(),
        type=kind,
        ticket=_ref(ticket_id, account),
        occurred_at=parse_time(data.get("time")),
        data={"event": event} if isinstance(event, Mapping) else {},
    )


def _parse_trigger(
    data: Mapping[str, Any], *, account: str | None, fallback_id: Callable[[], str]
) -> WebhookEvent:
    nested = data.get("ticket")
    ticket_id = (
        _as_id(data.get("ticket_id"))
        or _as_id(data.get("ticketID"))
        or _as_id(data.get("ticketId"))
        or (_as_id(nested.get("id")) if isinstance(nested, Mapping) else None)
    )
    if ticket_id is None:
        raise InputError("trigger webhook body has no ticket id (see the documented template)")
    updated = data.get("updated_at")
    event = data.get("event") or data.get("type") or "trigger"
    dedupe = (
        f"trigger:{ticket_id}:{updated}" if isinstance(updated, str) and updated else fallback_id()
    )
    return WebhookEvent(
        id=dedupe,
        type=str(event),
        ticket=_ref(ticket_id, account),
        occurred_at=parse_time(updated),
        data={k: v for k, v in data.items() if k in ("event", "status", "type")},
    )


def parse_webhook_payload(
    body: bytes, *, headers: Mapping[str, str] | None = None, account: str | None = None
) -> WebhookEvent:
    """Parse either webhook format into a :class:`WebhookEvent`; :class:`InputError` if bad.

    The dedupe id is the event's ``id`` for event subscriptions, ``ticket id + updated_at``
    for the documented trigger template, else the invocation id header, else a body hash.
    """
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InputError("Zendesk webhook body is not JSON") from None
    if not isinstance(data, Mapping):
        raise InputError("Zendesk webhook body is not a JSON object")
    invocation = (headers or {}).get(INVOCATION_HEADER)

    def fallback() -> str:  # only for a body without its own id (rare): no hash otherwise
        if invocation:
            return f"invocation:{invocation}"
        return "sha256:" + hashlib.sha256(body).hexdigest()[:32]

    kind = data.get("type")
    if isinstance(kind, str) and kind.startswith(_EVENT_PREFIX):
        return _parse_event(data, account=account, fallback_id=fallback)
    return _parse_trigger(data, account=account, fallback_id=fallback)
