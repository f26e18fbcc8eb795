"""Freshdesk webhooks: shared-secret authentication and payload parsing. Pure.

Freshdesk sends webhooks only from automation rules ("Trigger webhook" action), unsigned,
with a body the admin types. So:

* the sender is authenticated by a shared secret the admin puts in a custom header
  (default ``X-Empathy-Firewall-Token``) or as the password of the rule's basic auth,
  compared in constant time; verification fails closed;
* the body is only a *hint* naming the ticket: :func:`parse_webhook_payload` returns an
  event with the ticket reference and no snapshot, and processing re-reads the ticket
  through the API before acting (the body is unsigned; anyone holding the secret could
  write anything in it, and it may be stale after Freshdesk's retries).

:data:`WEBHOOK_BODY_TEMPLATE` is the JSON body admins paste into the rule.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from empathy_firewall.connectors.base import WebhookEvent
from empathy_firewall.errors import ConfigError, InputError
from empathy_firewall.models import SourceRef
from empathy_firewall.webhooks.request import SignatureError, WebhookRequest
from empathy_firewall_freshdesk.parse import CONNECTOR, parse_time

__all__ = [
    "COALESCE_SECONDS",
    "DEFAULT_SECRET_HEADER",
    "WEBHOOK_BODY_TEMPLATE",
    "SharedSecretVerifier",
    "parse_webhook_payload",
]

DEFAULT_SECRET_HEADER = "X-Empathy-Firewall-Token"  # noqa: S105 - a header name
_MAX_BODY = 64 * 1024

#: the JSON body admins paste into the automation rule's "Trigger webhook" action
#: (Content: Advanced, Encoding: JSON); Freshdesk fills the ``{{...}}`` placeholders
WEBHOOK_BODY_TEMPLATE = """{
  "empathy_firewall": 1,
  "event": "ticket.updated",
  "ticket_id": "{{ticket.id}}",
  "status": "{{ticket.status}}",
  "priority": "{{ticket.priority}}"
}"""


class SharedSecretVerifier:
    """Authenticates Freshdesk webhooks by a shared secret, failing closed.

    * ``mode="header"``: the secret must be the exact value of ``header``.
    * ``mode="basic"``: the secret must be the password of ``Authorization: Basic``
      (the user name is not checked; the automation rule's "Requires authentication").

    A secret configured and the credential missing, malformed or wrong raises
    :class:`SignatureError` (answer 401, process nothing). No secret configured raises
    :class:`ConfigError` when the verifier is built, unless ``allow_unauthenticated`` (for
    development on a trusted network only): then every request passes.
    """

    def __init__(
        self,
        secret: str | None,
        *,
        mode: str = "header",
        header: str = DEFAULT_SECRET_HEADER,
        allow_unauthenticated: bool = False,
        secret_env: str = "FRESHDESK_WEBHOOK_SECRET",  # noqa: S107 - a variable name
    ) -> None:
        if mode not in ("header", "basic"):
            raise ConfigError(f"unknown Freshdesk webhook auth mode {mode!r} (header or basic)")
        if not secret and not allow_unauthenticated:
            raise ConfigError(
                f"Freshdesk webhooks need a shared secret: set {secret_env} and send it from "
                "the automation rule (see docs/freshdesk.md), or set "
                "allow_unauthenticated_webhooks: true for development on a trusted network"
            )
        self._secret = secret.encode() if secret else None
        self._mode = mode
        self._header = header

    def __repr__(self) -> str:
        state = "<set>" if self._secret else None
        return f"SharedSecretVerifier(mode={self._mode!r}, secret={state})"

    def _given(self, request: WebhookRequest) -> bytes | None:
        if self._mode == "header":
            value = request.headers.get(self._header)
            return value.strip().encode() if value is not None else None
        auth = request.headers.get("Authorization") or ""
        scheme, _, encoded = auth.strip().partition(" ")
        if scheme.lower() != "basic" or not encoded:
            return None
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise SignatureError("malformed basic credentials on the Freshdesk webhook") from None
        _, sep, password = decoded.partition(b":")
        return password if sep else None

    def verify(self, request: WebhookRequest) -> None:
        """Return if the request carries the shared secret; raise otherwise."""
        if self._secret is None:
            return  # explicitly allowed: development only
        given = self._given(request)
        if given is None:
            where = self._header if self._mode == "header" else "basic auth password"
            raise SignatureError(f"Freshdesk webhook without its shared secret ({where})")
        if not hmac.compare_digest(given, self._secret):
            raise SignatureError("Freshdesk webhook shared secret does not match")


def _as_id(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value > 0:
        return str(value)
    if isinstance(value, str):
        text = value.strip().lstrip("#")
        if text.isdigit() and text.strip("0"):
            return text
    return None


def _ticket_id(data: Mapping[str, Any]) -> str | None:
    nested = data.get("ticket")
    freshdesk = data.get("freshdesk_webhook")  # the "simple" content's wrapper
    for candidate in (
        data.get("ticket_id"),
        data.get("ticketId"),
        data.get("id"),
        nested.get("id") if isinstance(nested, Mapping) else None,
        freshdesk.get("ticket_id") if isinstance(freshdesk, Mapping) else None,
    ):
        found = _as_id(candidate)
        if found is not None:
            return found
    return None


#: bodies for one ticket with the same content inside this window are coalesced into one
#: inbox item (several automation rules firing on one update); anything later is processed
COALESCE_SECONDS = 2


def _delivery_key(data: Mapping[str, Any]) -> str | None:
    """A value that changes with every real change: an explicit delivery id, or the
    ticket's modification time, when the admin's template includes one."""
    for name in ("delivery_id", "updated_at"):
        value = data.get(name)
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            text = str(value).strip()
            if text and "{{" not in text and len(text) <= 100:
                return f"{name}={text}"
    return None


def parse_webhook_payload(
    body: bytes, *, account: str | None = None, received_at: datetime | None = None
) -> WebhookEvent:
    """Parse a rule's webhook body into a hint :class:`WebhookEvent`; :class:`InputError`
    if it is not a JSON object naming a ticket.

    The event's ``id`` is the inbox dedupe key, and it drops only true redeliveries. The
    documented body (ticket id, status, priority) is the same for a new customer reply that
    changes neither status nor priority, so a content hash alone would drop real updates:

    * a body with a ``delivery_id`` or ``updated_at`` value keys on the ticket and that
      value (a Freshdesk retry resends it unchanged; a real change renders a new one);
    * otherwise the key is the ticket, a hash of the body and the ``received_at`` time
      rounded down to :data:`COALESCE_SECONDS`: identical hints arriving together are
      coalesced, every later hint is processed (a retry re-reads the ticket, which writes
      nothing new).
    """
    if len(body) > _MAX_BODY:
        raise InputError("Freshdesk webhook body is too large")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InputError(
            "Freshdesk webhook body is not JSON (use the documented template)"
        ) from None
    if not isinstance(data, Mapping):
        raise InputError("Freshdesk webhook body is not a JSON object")
    ticket_id = _ticket_id(data)
    if ticket_id is None:
        raise InputError("Freshdesk webhook body has no ticket id (see the documented template)")
    event = data.get("event")
    delivery = _delivery_key(data)
    if delivery is not None:
        digest = hashlib.sha256(delivery.encode()).hexdigest()[:24]
        key = f"freshdesk:{ticket_id}:d:{digest}"
    else:
        when = received_at if received_at is not None else datetime.now(UTC)
        window = int(when.timestamp()) // COALESCE_SECONDS
        digest = hashlib.sha256(body).hexdigest()[:24]
        key = f"freshdesk:{ticket_id}:{digest}:{window}"
    hints = {k: data[k] for k in ("event", "status", "priority") if isinstance(data.get(k), str)}
    return WebhookEvent(
        id=key,
        type=event if isinstance(event, str) and event else "ticket.updated",
        ticket=SourceRef(connector=CONNECTOR, external_id=ticket_id, account=account),
        occurred_at=parse_time(data.get("updated_at")),
        snapshot=None,
        data=hints,
    )
