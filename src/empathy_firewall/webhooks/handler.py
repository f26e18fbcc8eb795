"""The framework-neutral webhook receiver: check, verify, parse, dedupe, persist, answer.

:meth:`WebhookReceiver.receive` takes a :class:`~empathy_firewall.webhooks.WebhookRequest`
and returns a :class:`WebhookResponse`; any web framework (the bundled Starlette app,
Flask, FastAPI, Django) only translates its own request and response objects. The work
itself happens later, in a worker that claims the event from the inbox: the receiver
only acknowledges, so a helpdesk that times out slow receivers never waits for the API.

The pipeline, in order, each step failing closed with a typed :class:`Reason`:

1. method POST, else 405; body no larger than ``max_body_bytes``, else 413;
2. a JSON content type, else 415;
3. the connector's verifier: a missing, wrong or stale signature is 401 (the body is never
   parsed before it is verified);
4. the connector parses the body: malformed or unknown payloads are 400;
5. the event's dedupe key (the vendor's delivery id, or a content key where there is
   none) and a small text-free payload are put in the inbox; a redelivery is answered 202
   like the first delivery, and stored once;
6. 202 with ``{"status": "queued" | "duplicate", "id": ...}``.

Bad input never raises: every rejection is a 4xx with a reason in the JSON body and one log
line (connector, reason, size) without the payload. Only a store outage answers 503 (the
helpdesk retries later); nothing is ever answered 500 for what a client sent.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from empathy_firewall.connectors.base import Connector, WebhookEvent
from empathy_firewall.errors import ConfigError, InputError
from empathy_firewall.webhooks.request import SignatureError, Verifier, WebhookRequest

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "InboxPort",
    "Outcome",
    "PendingEvent",
    "Reason",
    "ReceiverObserver",
    "WebhookReceiver",
    "WebhookResponse",
    "event_payload",
]

log = logging.getLogger("empathy_firewall.webhooks")

#: Zendesk and Freshdesk bodies built from the documented templates are well under 1 KiB;
#: event subscriptions with a ticket snapshot stay far below this bound
DEFAULT_MAX_BODY_BYTES = 256 * 1024

_JSON_TYPES = ("application/json",)


class Reason(StrEnum):
    """Why a request was rejected; the value is the ``reason`` in the response body."""

    METHOD_NOT_ALLOWED = "method_not_allowed"
    BODY_TOO_LARGE = "body_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    BAD_SIGNATURE = "bad_signature"
    STALE_TIMESTAMP = "stale_timestamp"
    UNVERIFIABLE = "unverifiable"
    MALFORMED_PAYLOAD = "malformed_payload"
    UNKNOWN_PAYLOAD = "unknown_payload"
    STORE_UNAVAILABLE = "store_unavailable"


_STATUS: Mapping[Reason, int] = {
    Reason.METHOD_NOT_ALLOWED: 405,
    Reason.BODY_TOO_LARGE: 413,
    Reason.UNSUPPORTED_MEDIA_TYPE: 415,
    Reason.BAD_SIGNATURE: 401,
    Reason.STALE_TIMESTAMP: 401,
    Reason.UNVERIFIABLE: 401,
    Reason.MALFORMED_PAYLOAD: 400,
    Reason.UNKNOWN_PAYLOAD: 400,
    Reason.STORE_UNAVAILABLE: 503,
}


class Outcome(StrEnum):
    """What happened to an accepted request."""

    QUEUED = "queued"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


@dataclass(frozen=True, slots=True)
class WebhookResponse:
    """A framework-neutral response: status, JSON body bytes, headers."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})

    @property
    def json(self) -> dict[str, Any]:
        """The body decoded (always a JSON object)."""
        decoded: dict[str, Any] = json.loads(self.body)
        return decoded


@dataclass(frozen=True, slots=True)
class PendingEvent:
    """A verified, parsed event waiting to be put in the inbox."""

    event: WebhookEvent
    dedupe_key: str
    payload: str


class InboxPort(Protocol):
    """Where accepted events go: idempotent on ``(connector, account, dedupe_key)``."""

    def put(self, connector: str, account: str, dedupe_key: str, payload: str) -> bool:
        """Store the event; False when the key was already stored (a redelivery)."""
        ...


class ReceiverObserver(Protocol):
    """Counts what the receiver does (the metrics module implements it)."""

    def received(self, connector: str) -> None:
        """A request arrived on this connector's route."""
        ...

    def rejected(self, connector: str, reason: str) -> None:
        """A request was rejected with this reason."""
        ...

    def accepted(self, connector: str, outcome: str) -> None:
        """A verified event was queued, recognised as a duplicate, or ignored."""
        ...


#: the encoders ``json.dumps`` would build anew on every call (non-default options)
_ANSWER_JSON = json.JSONEncoder(sort_keys=True)
_PAYLOAD_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


def _response(code: int, body: Mapping[str, Any]) -> WebhookResponse:
    return WebhookResponse(code, _ANSWER_JSON.encode(dict(body)).encode())


def event_payload(event: WebhookEvent, received_at: datetime) -> str:
    """The inbox payload: what the worker needs, without ticket text (it re-reads the ticket).

    Only the event type, the ticket reference, the times and the vendor's short hints
    (status, priority; strings only) are kept.
    """
    ticket = event.ticket
    hints = {k: v for k, v in event.data.items() if isinstance(v, str) and len(v) <= 200}
    data = {
        "type": event.type[:200],
        "ticket": None if ticket is None else ticket.external_id,
        "account": None if ticket is None else ticket.account,
        "occurred_at": None if event.occurred_at is None else event.occurred_at.isoformat(),
        "received_at": received_at.isoformat(),
        "hints": hints,
    }
    return _PAYLOAD_JSON.encode(data)


def dedupe_key(event_id: str) -> str:
    """The inbox key for a vendor's event id: the id itself (up to 300 characters), or,
    when it holds a NUL or a lone surrogate (both survive ``json.loads``, neither fits a
    PostgreSQL text column), a digest of it, so one odd delivery cannot fail the batch it
    shares with others and its redeliveries still dedupe."""
    if "\x00" not in event_id:
        try:
            event_id.encode("utf-8")
        except UnicodeEncodeError:
            pass
        else:
            return event_id[:300]
    raw = event_id.encode("utf-8", "surrogatepass")
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media in _JSON_TYPES or (media.startswith("application/") and media.endswith("+json"))


class WebhookReceiver:
    """Receives one connector's webhooks (see the module docstring).

    ``account`` is the inbox partition (the connector's helpdesk account). The verifier is
    built once, here: a connector without a configured secret fails at start-up with a
    :class:`ConfigError`, never per request.
    """

    def __init__(
        self,
        connector: Connector,
        inbox: InboxPort,
        *,
        account: str,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        observer: ReceiverObserver | None = None,
        verifier: Verifier | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        if max_body_bytes < 1:
            raise ConfigError("webhooks.max_body_bytes must be positive")
        self.connector = connector
        self.name = connector.name
        self.account = account
        self.inbox = inbox
        self.max_body_bytes = max_body_bytes
        self.observer = observer
        self.verifier = verifier if verifier is not None else connector.verifier()
        self.log = logger or log

    def __repr__(self) -> str:
        return f"WebhookReceiver({self.name!r}, account={self.account!r})"

    def reject(self, reason: Reason, message: str, *, size: int) -> WebhookResponse:
        """A 4xx (or 503) with the reason, counted and logged without the payload."""
        if self.observer is not None:
            self.observer.rejected(self.name, reason.value)
        level = (
            logging.ERROR
            if reason in (Reason.UNVERIFIABLE, Reason.STORE_UNAVAILABLE)
            else (logging.WARNING)
        )
        self.log.log(
            level,
            "webhook rejected connector=%s status=%d reason=%s bytes=%d detail=%s",
            self.name,
            _STATUS[reason],
            reason.value,
            size,
            json.dumps(message),
        )
        return _response(
            _STATUS[reason], {"status": "rejected", "reason": reason.value, "detail": message}
        )

    def too_large(self, size: int) -> WebhookResponse:
        """The 413 for a body over ``max_body_bytes`` (a server that stops reading at the
        limit passes ``max_body_bytes + 1``)."""
        return self.reject(
            Reason.BODY_TOO_LARGE, f"body exceeds {self.max_body_bytes} bytes", size=size
        )

    def receive(self, request: WebhookRequest) -> WebhookResponse:
        """Run the pipeline on one request; never raises for anything the client sent."""
        step = self.check(request)
        if isinstance(step, WebhookResponse):
            return step
        try:
            fresh = self.inbox.put(self.name, self.account, step.dedupe_key, step.payload)
        except Exception as exc:  # the store is down: the helpdesk must redeliver later
            return self.store_failed(exc)
        return self.stored(step, fresh)

    def check(self, request: WebhookRequest) -> WebhookResponse | PendingEvent:
        """Steps 1-4: the rejection or ignore response, or the event ready to persist.

        Async servers call this, await their own inbox write, then :meth:`stored` (or
        :meth:`store_failed`); :meth:`receive` does all of it synchronously.
        """
        if self.observer is not None:
            self.observer.received(self.name)
        size = len(request.body)
        if request.method.upper() != "POST":
            return self.reject(Reason.METHOD_NOT_ALLOWED, "use POST", size=size)
        if size > self.max_body_bytes:
            return self.too_large(size)
        if not _is_json(request.headers.get("Content-Type")):
            return self.reject(
                Reason.UNSUPPORTED_MEDIA_TYPE, "expected Content-Type: application/json", size=size
            )
        rejected = self._verify(request, size)
        if rejected is not None:
            return rejected
        try:
            event = self.connector.parse_webhook(request)
        except InputError as exc:
            return self.reject(Reason.MALFORMED_PAYLOAD, exc.reason, size=size)
        except Exception as exc:  # a parser bug must not become a 500 for the helpdesk
            return self.reject(
                Reason.MALFORMED_PAYLOAD,
                f"payload not understood ({type(exc).__name__})",
                size=size,
            )
        if event.ticket is None:
            return self._accepted(Outcome.IGNORED, event, "event is not about a ticket")
        return PendingEvent(event, dedupe_key(event.id), event_payload(event, request.received_at))

    def _verify(self, request: WebhookRequest, size: int) -> WebhookResponse | None:
        try:
            self.verifier.verify(request)
        except SignatureError as exc:
            stale = "window" in exc.reason or "stale" in exc.reason
            reason = Reason.STALE_TIMESTAMP if stale else Reason.BAD_SIGNATURE
            return self.reject(reason, exc.reason, size=size)
        except ConfigError as exc:  # signed, but we hold no secret: fail closed
            return self.reject(Reason.UNVERIFIABLE, str(exc), size=size)
        except Exception as exc:  # a verifier bug: still never trust the request
            return self.reject(
                Reason.BAD_SIGNATURE, f"signature not checkable ({type(exc).__name__})", size=size
            )
        return None

    def stored(self, pending: PendingEvent, fresh: bool) -> WebhookResponse:
        """The answer once ``pending`` is committed (``fresh`` False: a redelivery)."""
        return self._accepted(Outcome.QUEUED if fresh else Outcome.DUPLICATE, pending.event, None)

    def store_failed(
        self, exc: BaseException, *, retry_after: float | None = None
    ) -> WebhookResponse:
        """503 with Retry-After: the inbox write failed (or did not finish in time), so
        nothing was acknowledged. ``retry_after`` defaults to 30 s (kept under 60 s, the
        longest Retry-After Zendesk honours)."""
        self.log.error(
            "webhook inbox unavailable connector=%s error=%s", self.name, type(exc).__name__
        )
        if self.observer is not None:
            self.observer.rejected(self.name, Reason.STORE_UNAVAILABLE.value)
        body = {
            "status": "rejected",
            "reason": Reason.STORE_UNAVAILABLE.value,
            "detail": "retry later",
        }
        if isinstance(exc, TimeoutError):
            body["detail"] = "the state store is busy (locked); retry later"
        response = _response(503, body)
        wait = 30 if retry_after is None else max(1, min(59, round(retry_after * 5)))
        return WebhookResponse(503, response.body, {**response.headers, "Retry-After": str(wait)})

    def _accepted(self, outcome: Outcome, event: WebhookEvent, note: str | None) -> WebhookResponse:
        if self.observer is not None:
            self.observer.accepted(self.name, outcome.value)
        ticket = None if event.ticket is None else event.ticket.external_id
        self.log.debug(
            "webhook %s connector=%s id=%s ticket=%s", outcome.value, self.name, event.id, ticket
        )
        body: dict[str, Any] = {"status": outcome.value, "id": event.id}
        if note:
            body["detail"] = note
        return _response(202 if outcome is not Outcome.IGNORED else 200, body)
