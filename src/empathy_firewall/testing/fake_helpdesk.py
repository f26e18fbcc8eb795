"""What every fake helpdesk shares: fault injection, the Retry-After gate, request recording
and the two transports.

A vendor fake lives in its connector's distribution (``empathy_firewall_zendesk.testing``,
``empathy_firewall_freshdesk.testing``, or a third party's); it subclasses
:class:`FakeHelpdesk` and implements :meth:`FakeHelpdesk._serve` (authenticate, charge its
rate limits, route), :attr:`FakeHelpdesk.env`, :meth:`FakeHelpdesk.add_ticket`,
:meth:`FakeHelpdesk.snapshot` and :meth:`FakeHelpdesk._touch`, and, for a connector with
webhooks, :meth:`FakeHelpdesk.webhook` and :meth:`FakeHelpdesk.webhook_body`. Those are
all :func:`~empathy_firewall.testing.conformance.conformance_suite` needs to run the
connector conformance suite against the fake. The base answers every request in the same
order:

1. a request that arrives before a ``Retry-After`` the fake issued expired is recorded in
   ``violations`` (and still served, as a real helpdesk would answer it with another 429);
2. the first queued :class:`Fault` matching the request is consumed: an HTTP error (with
   ``Retry-After``, which then holds back later requests), a timeout before the server saw
   the request, or a timeout after it was processed (the answer is lost);
3. otherwise :meth:`FakeHelpdesk._serve` answers; a :class:`Reply` raised inside it becomes
   the response (JSON unless the body is bytes);
4. every request is recorded in ``log`` with its fake-clock time and status (-1 / -2 for
   timeouts after / before processing).
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, TypeVar
from urllib.parse import parse_qsl, urlsplit

from empathy_firewall.connectors.base import Connector, Headers, HttpRequest, HttpResponse
from empathy_firewall.connectors.http import TransportError
from empathy_firewall.testing.clock import FakeClock
from empathy_firewall.webhooks.request import WebhookRequest

__all__ = ["JSON_HEADERS", "FakeHelpdesk", "Fault", "LoggedRequest", "Reply", "body_changed", "iso"]

#: the headers of every JSON answer
JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}

_C = TypeVar("_C", bound=Connector)


@dataclass
class Fault:
    """One injected failure, consumed by the first matching request.

    ``kind`` is ``"http"`` (answer ``status`` with ``body``), ``"timeout_before"`` (the
    request never reached the server) or ``"timeout_after"`` (processed, answer lost).
    ``path`` (a substring) and ``method`` restrict which requests it matches.
    """

    kind: str = "http"
    status: int = 500
    retry_after: str | None = None
    body: str = '{"error":"InternalError","description":"Something went wrong"}'
    content_type: str = "application/json"
    path: str | None = None
    method: str | None = None

    def matches(self, method: str, path: str) -> bool:
        """True if this fault applies to the request."""
        return (self.path is None or self.path in path) and (
            self.method is None or self.method == method
        )


@dataclass(frozen=True)
class LoggedRequest:
    """A request the fake received, at fake-clock time ``at``."""

    at: float
    method: str
    path: str
    params: Mapping[str, str]
    body: Any
    status: int


class Reply(Exception):
    """Raised inside :meth:`FakeHelpdesk._serve` to answer with ``status`` and ``body``."""

    def __init__(self, status: int, body: Any, headers: Mapping[str, str] | None = None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


def body_changed(request: WebhookRequest) -> WebhookRequest:
    """``request`` with its body changed after signing: what a signature must reject."""
    return WebhookRequest(
        method=request.method,
        path=request.path,
        headers=request.headers,
        body=request.body + b" ",
        received_at=request.received_at,
    )


def iso(moment: datetime) -> str:
    """A timestamp as helpdesk APIs write it (``2026-01-05T10:00:00Z``)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeHelpdesk(ABC):
    """Base of the fake helpdesks; see the module docstring."""

    #: the body of an injected 429 / other error when the test gives none (vendor shapes)
    RATE_LIMITED_BODY: ClassVar[str]
    ERROR_BODY: ClassVar[str]
    #: how long a change takes to show in polling (Zendesk's export leaves out the last
    #: minute); :meth:`settle` lets that much time pass
    SETTLE_SECONDS: ClassVar[float] = 0.0

    def __init__(self, *, base_url: str, clock: FakeClock | None) -> None:
        self.base_url = base_url.rstrip("/")
        self.clock = clock or FakeClock()
        self.faults: deque[Fault] = deque()
        self.log: list[LoggedRequest] = []
        self.violations: list[LoggedRequest] = []
        #: open tickets per agent the account holds beyond the seeded ones (the search
        #: count includes them, polling does not show them)
        self.unseen_open: dict[int, int] = {}
        #: the account's own open-ticket count per agent, answered as it is (a seeded
        #: figure, e.g. the sample file's ``open_tickets``)
        self.open_counts: dict[int, int] = {}
        self._blocked_until = 0.0

    # -- configuration helpers --------------------------------------------------------

    @property
    @abstractmethod
    def env(self) -> dict[str, str]:
        """Environment variables a connector needs to talk to this fake."""

    def connector_config(self, **overrides: Any) -> dict[str, Any]:
        """A raw connector config pointing at this fake."""
        return {"base_url": self.base_url, **overrides}

    def connect(self, connector: type[_C], **config: Any) -> _C:
        """A ``connector`` whose transport, clock and environment are this fake's."""
        built = connector.from_config(
            self.connector_config(**config), transport=self, clock=self.clock, env=self.env
        )
        assert isinstance(built, connector)
        return built

    # -- seeding -----------------------------------------------------------------------

    @abstractmethod
    def add_ticket(self, *, subject: str = "Help") -> int:
        """Add a ticket someone opened a while ago; returns its id (vendors add options)."""

    def seed_tickets(self, count: int) -> list[str]:
        """Add ``count`` tickets; returns their external ids (as the connector reports them)."""
        return [str(self.add_ticket(subject=f"seed {n}")) for n in range(count)]

    def settle(self) -> None:
        """Let :attr:`SETTLE_SECONDS` pass so recent changes become visible to polling."""
        self.clock.advance(self.SETTLE_SECONDS)

    def touch(self, ticket_id: int) -> None:
        """Record a change made by someone else (bumps the ticket's update time)."""
        self._touch(ticket_id)

    @abstractmethod
    def _touch(self, ticket_id: int) -> None:
        """Mark the ticket as changed now, as the helpdesk would."""

    # -- webhooks ----------------------------------------------------------------------

    def webhook(self, body: bytes) -> WebhookRequest | None:
        """A webhook request carrying ``body`` as the helpdesk sends it (None: no webhooks)."""
        return None

    def webhook_body(self, ticket_id: str) -> bytes:
        """A webhook body about ``ticket_id`` in the connector's documented format."""
        raise NotImplementedError(f"{type(self).__name__} sends no webhooks")

    def forge(self, request: WebhookRequest) -> WebhookRequest:
        """A forgery of ``request`` that the connector's verifier must reject.

        Default: the body changed after signing. A helpdesk whose webhooks carry a shared
        secret instead of a signature overrides this (the body is covered by nothing).
        """
        return body_changed(request)

    # -- fault injection ---------------------------------------------------------------

    def fail_next(
        self,
        status: int = 500,
        *,
        times: int = 1,
        retry_after: float | str | None = None,
        body: str | None = None,
        content_type: str = "application/json",
        path: str | None = None,
        method: str | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status``."""
        default = self.RATE_LIMITED_BODY if status == 429 else self.ERROR_BODY
        for _ in range(times):
            self.faults.append(
                Fault(
                    status=status,
                    retry_after=None if retry_after is None else str(retry_after),
                    body=default if body is None else body,
                    content_type=content_type,
                    path=path,
                    method=method,
                )
            )

    def timeout_next(
        self, *, processed: bool = False, path: str | None = None, method: str | None = None
    ) -> None:
        """Time out the next matching request, after processing it if ``processed``."""
        kind = "timeout_after" if processed else "timeout_before"
        self.faults.append(Fault(kind=kind, path=path, method=method))

    # -- observations ------------------------------------------------------------------

    @abstractmethod
    def snapshot(self) -> dict[int, Any]:
        """Everything a test may compare per ticket (tags, priority, status, messages)."""

    def count(self, path_contains: str = "", method: str | None = None) -> int:
        """How many requests matched (all requests by default)."""
        return sum(
            1
            for r in self.log
            if path_contains in r.path and (method is None or r.method == method)
        )

    # -- transports --------------------------------------------------------------------

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """The ``send`` seam: answer one request (raises TransportError for timeouts)."""
        split = urlsplit(request.url)
        params = dict(parse_qsl(split.query))
        params.update(dict(request.params))
        status, headers, body = self._handle(
            request.method.upper(), split.path, params, request.headers, request.json_body
        )
        if status == -1:
            raise TransportError(f"{request.method} {split.path}: timeout", request_sent=True)
        if status == -2:
            raise TransportError(f"{request.method} {split.path}: timeout", request_sent=False)
        return HttpResponse(status=status, headers=Headers(headers), body=body)

    def install(self, rsps: Any) -> None:
        """Serve this fake through a ``responses.RequestsMock`` (callbacks on every method)."""
        import requests

        pattern = re.compile(re.escape(self.base_url) + r"/.*")

        def callback(prepared: Any) -> Any:
            split = urlsplit(prepared.url)
            raw = prepared.body
            payload = json.loads(raw) if raw else None
            status, headers, body = self._handle(
                prepared.method.upper(),
                split.path,
                dict(parse_qsl(split.query)),
                Headers(dict(prepared.headers)),
                payload,
            )
            if status == -1:
                return requests.ReadTimeout("read timed out")
            if status == -2:
                return requests.ConnectTimeout("connect timed out")
            return (status, headers, body)

        for method in ("GET", "PUT", "POST", "DELETE"):
            rsps.add_callback(method, pattern, callback=callback)

    # -- request handling --------------------------------------------------------------

    def _handle(
        self, method: str, path: str, params: dict[str, str], headers: Mapping[str, str], body: Any
    ) -> tuple[int, dict[str, str], bytes]:
        now = self.clock.now()
        hdrs = headers if isinstance(headers, Headers) else Headers(headers)
        if now < self._blocked_until:
            self.violations.append(LoggedRequest(now, method, path, params, body, 429))
        fault = next((f for f in self.faults if f.matches(method, path)), None)
        processed_then_lost = False
        if fault is not None:
            self.faults.remove(fault)
            if fault.kind == "timeout_before":
                self.log.append(LoggedRequest(now, method, path, params, body, -2))
                return -2, {}, b""
            if fault.kind == "timeout_after":
                processed_then_lost = True
            else:
                fault_headers = {"Content-Type": fault.content_type}
                if fault.retry_after is not None:
                    fault_headers["Retry-After"] = fault.retry_after
                    self._block_for(fault.retry_after)
                self.log.append(LoggedRequest(now, method, path, params, body, fault.status))
                return fault.status, fault_headers, fault.body.encode()
        reply_headers = dict(JSON_HEADERS)
        try:
            status, payload = self._serve(method, path, params, hdrs, body, reply_headers)
        except Reply as reply:
            status, payload = reply.status, reply.body
            reply_headers.update(reply.headers)
        self.log.append(LoggedRequest(now, method, path, params, body, status))
        if processed_then_lost:
            return -1, {}, b""
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return status, reply_headers, data

    @abstractmethod
    def _serve(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        headers: Headers,
        body: Any,
        reply_headers: dict[str, str],
    ) -> tuple[int, Any]:
        """Authenticate, charge the rate limits and route one request: ``(status, payload)``.

        Raise :class:`Reply` to answer otherwise; add response headers to ``reply_headers``
        (they are kept on a :class:`Reply` raised afterwards, as a real API keeps them).
        """

    def _block(self, seconds: float) -> None:
        """Hold back every request for ``seconds``: earlier arrivals are ``violations``."""
        self._blocked_until = max(self._blocked_until, self.clock.now() + seconds)

    def _block_for(self, retry_after: str) -> None:
        """:meth:`_block` for a ``Retry-After`` value in seconds (an HTTP-date blocks nothing)."""
        try:
            seconds = float(retry_after)
        except ValueError:
            return
        self._block(seconds)
