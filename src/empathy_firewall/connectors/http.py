"""The one HTTP policy every connector shares: errors, rate limits and retries.

* :func:`error_for` maps a response onto the library's error hierarchy: 401/403 ->
  :class:`~empathy_firewall.errors.AuthenticationError` (never retried), 429 ->
  :class:`~empathy_firewall.errors.RateLimitedError` with the server's advice, 408/5xx ->
  :class:`~empathy_firewall.errors.RetryableError`, 409 -> :class:`ConflictError`, other
  4xx (404, 422, ...) -> :class:`~empathy_firewall.errors.SkipError` for that item.
  Vendors pass a ``describe`` hook that turns their error bodies into a safe message.
* :class:`PolicySender` wraps a transport (the ``send`` seam) with a tenacity retry loop:
  bounded attempts and total wait, ``Retry-After`` (seconds or HTTP-date) and rate-limit
  headers honoured, jittered backoff that never waits *less* than the server asked, a
  shared gate so one 429 holds back every later request (no retry storm), and optional
  per-endpoint request budgets (Zendesk's incremental export: 10 per minute).
* :class:`RequestsTransport` is the production transport.

Time is injected (:class:`Clock`), so tests run retry scripts instantly and can prove no
request left before a ``Retry-After`` expired.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception

from empathy_firewall.connectors.base import Headers, HttpRequest, HttpResponse, Send
from empathy_firewall.errors import (
    AuthenticationError,
    EmpathyFirewallError,
    RateLimitedError,
    RetryableError,
    SkipError,
)

__all__ = [
    "Clock",
    "ConflictError",
    "ConnectError",
    "Describe",
    "PolicySender",
    "RateBudget",
    "RequestsTransport",
    "RetryPolicy",
    "SharedLimits",
    "SystemClock",
    "TransportError",
    "describe_error_body",
    "error_for",
    "headers_of",
    "parse_retry_after",
    "rate_limit_pause",
]

log = logging.getLogger(__name__)

#: turns an error response into a short message safe to log (no secrets, no ticket text)
Describe = Callable[[HttpResponse], str]

_MAX_MESSAGE = 160


class Clock(Protocol):
    """Monotonic time and sleeping, injectable for tests."""

    def now(self) -> float:
        """Seconds on a monotonic scale."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block for ``seconds``."""
        ...

    def wall(self) -> datetime:
        """The current wall-clock time (for HTTP-date Retry-After values)."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> float:
        """``time.monotonic()``."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """``time.sleep()``."""
        if seconds > 0:
            time.sleep(seconds)

    def wall(self) -> datetime:
        """Now, in UTC."""
        return datetime.now(UTC)


class ConflictError(SkipError):
    """409: someone else changed the item first (``safe_update``); re-read and re-apply."""


class TransportError(RetryableError):
    """The request failed below HTTP (timeout, connection refused).

    ``request_sent`` is False when the server certainly never saw the request (connect
    failures), so even a non-idempotent request may be retried; True when it may have
    been processed (a read timeout), so only idempotent requests are retried.
    """

    def __init__(self, message: str, *, request_sent: bool) -> None:
        super().__init__(message)
        self.request_sent = request_sent


class ConnectError(TransportError):
    """No connection to the server at all (refused, name not resolved, connect timeout).

    Nothing was sent, so any request may be retried; but a server that cannot be reached
    is not a busy server: the policy retries only briefly (``RetryPolicy.connect_attempts``)
    and the wait is counted apart from rate-limit waits.
    """

    def __init__(self, message: str, *, host: str, reason: str) -> None:
        self.host = host
        self.reason = reason
        super().__init__(message, request_sent=False)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP-date.

    Returns None when absent or unparsable; never negative.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now or datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value.strip())
    except ValueError:
        return None


def rate_limit_pause(headers: Mapping[str, str]) -> float | None:
    """Seconds to hold back because the rate-limit headers say the budget is spent.

    Reads the IETF draft ``ratelimit-remaining``/``ratelimit-reset`` pair and Zendesk-style
    ``name: total=100; remaining=0; resets=41`` headers. None when there is budget left.
    """
    hdrs = headers if isinstance(headers, Headers) else Headers(headers)
    remaining = _number(hdrs.get("ratelimit-remaining"))
    if remaining is not None and remaining <= 0:
        reset = _number(hdrs.get("ratelimit-reset"))
        if reset is not None:
            return max(0.0, reset)
    pause: float | None = None
    for name, value in hdrs.items():
        if not name.lower().startswith("zendesk-ratelimit-") or "remaining=" not in value:
            continue
        fields = dict(
            part.strip().split("=", 1) for part in value.split(";") if "=" in part.strip()
        )
        left = _number(fields.get("remaining"))
        resets = _number(fields.get("resets"))
        if left is not None and left <= 0 and resets is not None:
            pause = max(pause or 0.0, resets)
    return pause


def describe_error_body(response: HttpResponse) -> str:
    """A generic, tolerant error description: common JSON shapes, plain text, HTML."""
    data = response.json_or_none()
    if isinstance(data, Mapping):
        parts: list[str] = []
        for key in ("error", "code", "title", "message", "description", "detail"):
            value = data.get(key)
            if isinstance(value, str) and value:
                parts.append(value)
            elif isinstance(value, Mapping):
                parts.extend(str(v) for v in value.values() if isinstance(v, str))
        errors = data.get("errors")
        if isinstance(errors, list):
            for item in errors[:3]:
                if isinstance(item, Mapping):
                    parts.extend(str(item[k]) for k in ("code", "title", "message") if item.get(k))
        if parts:
            return _clip(": ".join(dict.fromkeys(parts)))
        return "error body without a message"
    content_type = response.headers.get("content-type", "")
    if "html" in content_type.lower() or response.text.lstrip().startswith("<"):
        return "HTML error page"
    text = " ".join(response.text.split())
    return _clip(text) if text else "empty body"


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def error_for(
    request: HttpRequest,
    response: HttpResponse,
    *,
    describe: Describe = describe_error_body,
    vendor: str = "helpdesk",
    now: datetime | None = None,
) -> EmpathyFirewallError | None:
    """The library error for a non-2xx response, or None for success."""
    status = response.status
    if status < 400:
        return None
    where = f"{vendor} {request.method} {request.path}"
    try:
        detail = describe(response)
    except Exception:  # a describe hook must never turn an error into a crash
        detail = describe_error_body(response)
    message = f"{where} -> {status}: {detail}"
    retry_after = parse_retry_after(response.headers.get("retry-after"), now=now)
    if status in (401, 403):
        return AuthenticationError(
            f"{message}. The {vendor} refused the credentials or their permissions; "
            "check the environment variables named in the connector config."
        )
    if status == 429:
        if retry_after is None:
            retry_after = rate_limit_pause(response.headers)
        return RateLimitedError(message, retry_after=retry_after)
    if status == 408 or status >= 500:
        return RetryableError(message, retry_after=retry_after)
    if status == 409:
        return ConflictError(message, item=request.item)
    return SkipError(message, item=request.item)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounds for retrying one request.

    ``max_attempts`` counts the first try. ``max_total_wait`` caps the seconds spent
    waiting for one request; if the server asks for longer, the error is raised at once
    (the run ends and resumes later from its bookmark). Backoff for errors without advice
    is ``base * 2**n`` capped at ``max_backoff`` with equal jitter; server advice gets up
    to ``advice_jitter`` seconds added, never subtracted. A server that cannot be reached
    at all (:class:`ConnectError`) is retried ``connect_attempts`` times only.
    """

    max_attempts: int = 5
    max_total_wait: float = 300.0
    base: float = 1.0
    max_backoff: float = 60.0
    advice_jitter: float = 1.0
    #: tries (the first included) when the server cannot be reached at all, with pauses of
    #: ``connect_backoff`` then twice that: a few seconds in all, then the error names the host
    connect_attempts: int = 3
    connect_backoff: float = 0.5


@dataclass(slots=True)
class RateBudget:
    """At most ``limit`` credits per ``period`` seconds to paths starting with ``prefix``.

    A request usually costs one credit; vendors that charge more for some calls (Freshdesk's
    ``include=``) pass ``cost``. ``exact`` restricts the budget to the path ``prefix`` itself
    and ``methods`` to some HTTP methods (Freshdesk's "Tickets List" sub-limit is
    ``GET /api/v2/tickets`` only). ``limit`` may be changed while running (a vendor's
    rate-limit headers reveal the account's real budget).
    """

    prefix: str
    limit: int
    period: float = 60.0
    sent: deque[float] = field(default_factory=deque)
    exact: bool = False
    methods: frozenset[str] | None = None

    def applies(self, request: HttpRequest) -> bool:
        """True when ``request`` counts against this budget."""
        path = request.path
        if self.exact and path.rstrip("/") != self.prefix.rstrip("/"):
            return False
        if not self.exact and not path.startswith(self.prefix):
            return False
        return self.methods is None or request.method.upper() in self.methods

    def _expire(self, now: float) -> None:
        while self.sent and now - self.sent[0] >= self.period:
            self.sent.popleft()

    def wait_needed(self, now: float, cost: int = 1) -> float:
        """Seconds until ``cost`` more credits fit the budget."""
        self._expire(now)
        cost = max(1, min(cost, self.limit))
        if len(self.sent) + cost <= self.limit:
            return 0.0
        # the oldest entries must age out until ``cost`` credits are free
        index = len(self.sent) + cost - self.limit - 1
        return self.sent[index] + self.period - now

    def record(self, now: float, cost: int = 1) -> None:
        """Count ``cost`` credits spent at ``now``."""
        self.sent.extend([now] * max(0, cost))

    def remaining(self, now: float) -> int:
        """Credits still free in the current window."""
        self._expire(now)
        return max(0, self.limit - len(self.sent))


class SharedLimits(Protocol):
    """A rate gate shared by every process talking to one account (the state store's
    :class:`~empathy_firewall.state.rates.StoreRateLimits`)."""

    def hold(self, until: datetime) -> None:
        """Send nothing before ``until`` (wall time), in every process."""
        ...

    def wait(
        self, now: datetime, budgets: Sequence[tuple[str, int, float]], cost: int = 1
    ) -> float:
        """Seconds to wait; 0.0 when the request may go now (its credits reserved)."""
        ...


def _retryable(request: HttpRequest) -> Callable[[BaseException], bool]:
    def decide(exc: BaseException) -> bool:
        if isinstance(exc, RateLimitedError):
            return True  # a 429 was refused, never processed
        if isinstance(exc, TransportError):
            return request.is_idempotent or not exc.request_sent
        if isinstance(exc, RetryableError):
            return request.is_idempotent
        return False

    return decide


class PolicySender:
    """Wraps a transport with the shared error mapping, rate-limit gate and retry loop.

    Calling it is a :data:`~empathy_firewall.connectors.base.Send`: it returns a 2xx/3xx
    response or raises a library error. ``stats`` counts requests and waits.
    ``cost_of`` prices a request in budget credits (default: one credit per request).
    """

    def __init__(
        self,
        transport: Send,
        *,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
        describe: Describe = describe_error_body,
        vendor: str = "helpdesk",
        budgets: tuple[RateBudget, ...] = (),
        rng: random.Random | None = None,
        cost_of: Callable[[HttpRequest], int] | None = None,
    ) -> None:
        self._transport = transport
        self.policy = policy or RetryPolicy()
        self.clock: Clock = clock or SystemClock()
        self._describe = describe
        self._vendor = vendor
        self._budgets = budgets
        self._cost_of = cost_of
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._not_before = 0.0
        #: the account's gate shared with other processes (set by whoever owns the store)
        self.shared: SharedLimits | None = None
        self.stats: dict[str, float] = {
            "requests": 0,
            "retries": 0,
            "waited": 0.0,
            "connect_wait": 0.0,
        }

    def hold_until(self, moment: float) -> None:
        """Send nothing before ``moment`` (clock seconds); used after a Retry-After.

        With :attr:`shared`, every other process on the account holds back too.
        """
        if moment <= self._not_before:
            return
        self._not_before = moment
        if self.shared is not None:
            ahead = moment - self.clock.now()
            if ahead > 0:
                self.shared.hold(self.clock.wall() + timedelta(seconds=ahead))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Send with retries; raise the mapped error when retries are exhausted."""
        waited = 0.0

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, ConnectError):
                return self.policy.connect_backoff * float(2 ** (state.attempt_number - 1))
            advice = exc.retry_after if isinstance(exc, RetryableError) else None
            if advice is not None:
                return advice + self._rng.uniform(0.0, self.policy.advice_jitter)
            exponent = float(2 ** (state.attempt_number - 1))
            backoff = min(self.policy.max_backoff, self.policy.base * exponent)
            return backoff / 2 + self._rng.uniform(0.0, backoff / 2)

        def stop(state: RetryCallState) -> bool:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, ConnectError):
                return state.attempt_number >= self.policy.connect_attempts
            if state.attempt_number >= self.policy.max_attempts:
                return True
            return waited + state.upcoming_sleep > self.policy.max_total_wait

        def before_sleep(state: RetryCallState) -> None:
            nonlocal waited
            exc = state.outcome.exception() if state.outcome else None
            self.stats["retries"] += 1
            if isinstance(exc, ConnectError):  # no answer at all: not a rate-limit wait
                self.stats["connect_wait"] = self.stats.get("connect_wait", 0.0) + (
                    state.upcoming_sleep
                )
            else:
                waited += state.upcoming_sleep
                self.stats["waited"] += state.upcoming_sleep
                # The gate holds back every request until the advice ends.
                self.hold_until(self.clock.now() + state.upcoming_sleep)
            log.info(
                "%s %s %s: %s; retrying in %.1fs",
                self._vendor,
                request.method,
                request.path,
                type(exc).__name__,
                state.upcoming_sleep,
            )

        retrying = Retrying(
            retry=retry_if_exception(_retryable(request)),
            wait=wait,
            stop=stop,
            sleep=self.clock.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        return retrying(self._attempt, request)

    def _attempt(self, request: HttpRequest) -> HttpResponse:
        self._pause_for_gate_and_budgets(request)
        self.stats["requests"] += 1
        response = self._transport(request)
        pause = rate_limit_pause(response.headers)
        if pause is not None and response.status != 429:
            self.hold_until(self.clock.now() + pause)
        error = error_for(
            request,
            response,
            describe=self._describe,
            vendor=self._vendor,
            now=self.clock.wall(),
        )
        if error is not None:
            if isinstance(error, RateLimitedError) and error.retry_after is not None:
                # honoured here and, through the shared gate, by every other process, even
                # when this request gives up at once (advice beyond max_total_wait)
                self.hold_until(self.clock.now() + error.retry_after)
            raise error
        return response

    def _pause_for_gate_and_budgets(self, request: HttpRequest) -> None:
        cost = self._cost_of(request) if self._cost_of is not None else 1
        while True:
            now = self.clock.now()
            needed = max(0.0, self._not_before - now)
            for budget in self._budgets:
                if budget.applies(request):
                    needed = max(needed, budget.wait_needed(now, cost))
            if needed <= 0:
                break
            self.stats["waited"] += needed
            self.clock.sleep(needed)
        if self.shared is not None:
            shared = [
                (f"{b.prefix}|{b.exact}|{sorted(b.methods or ())}", b.limit, b.period)
                for b in self._budgets
                if b.applies(request)
            ]
            while True:
                needed = self.shared.wait(self.clock.wall(), shared, cost)
                if needed <= 0:
                    break
                self.stats["waited"] += needed
                self.clock.sleep(needed)
        now = self.clock.now()
        for budget in self._budgets:
            if budget.applies(request):
                budget.record(now, cost)


class RequestsTransport:
    """The production transport: one ``requests.Session``, timeouts always set.

    A server that cannot be reached (refused, unknown name, connect timeout, by default
    after 5 s) is a :class:`ConnectError` naming the host and the reason; read timeouts
    and broken connections are :class:`TransportError` with ``request_sent=True``.
    Messages name the host and path only.
    """

    def __init__(
        self,
        *,
        timeout: float = 30.0,
        session: requests.Session | None = None,
        connect_timeout: float = 5.0,
    ) -> None:
        self._timeout = timeout
        self._connect_timeout = min(connect_timeout, timeout)
        self._session = session or requests.Session()
        self._environment: dict[str, dict[str, Any]] = {}

    def _settings_for(self, url: str) -> dict[str, Any]:
        """Proxy and certificate settings from the environment, resolved once per origin.

        ``Session.request`` re-reads them on every call, which cost about a fifth of a
        10,000-ticket sync's CPU time.
        """
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._environment:
            settings = self._session.merge_environment_settings(origin, {}, None, None, None)
            self._environment[origin] = dict(settings)
        return self._environment[origin]

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Send one request, no retries."""
        data: bytes | None = None
        headers = dict(request.headers)
        if request.json_body is not None:
            data = json.dumps(request.json_body).encode()
            headers.setdefault("Content-Type", "application/json")
        try:
            prepared = self._session.prepare_request(
                requests.Request(
                    request.method,
                    request.url,
                    params=list(request.params),
                    data=data,
                    headers=headers,
                )
            )
            raw = self._session.send(
                prepared,
                timeout=(self._connect_timeout, self._timeout),
                allow_redirects=False,
                **self._settings_for(request.url),
            )
        except requests.ConnectTimeout:
            host = _host(request.url)
            raise ConnectError(
                f"cannot connect to {host}: connect timeout after {self._connect_timeout:g} s "
                "(check base_url and the network)",
                host=host,
                reason="connect timeout",
            ) from None
        except requests.ConnectionError as exc:
            reason = _connect_reason(exc)
            if reason is None:  # the connection was made, then broke: it may have been sent
                raise TransportError(
                    f"{request.method} {request.path} on {_host(request.url)}: "
                    f"{type(exc).__name__}",
                    request_sent=True,
                ) from None
            host = _host(request.url)
            raise ConnectError(
                f"cannot connect to {host}: {reason} (check base_url and the network)",
                host=host,
                reason=reason,
            ) from None
        except requests.RequestException as exc:
            # A read timeout, a reset connection, a broken body: it may have been processed.
            raise TransportError(
                f"{request.method} {request.path}: {type(exc).__name__}", request_sent=True
            ) from None
        return HttpResponse(
            status=raw.status_code, headers=Headers(raw.headers.items()), body=raw.content
        )


def _host(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc.rpartition("@")[2] or url


def _connect_reason(exc: requests.ConnectionError) -> str | None:
    """Why no connection was made, or None when one was made and then broke."""
    text = repr(exc.args[0]) if exc.args else repr(exc)
    lowered = text.lower()
    for needle, reason in (
        ("name or service not known", "the host name does not resolve"),
        ("nodename nor servname", "the host name does not resolve"),
        ("temporary failure in name resolution", "the host name does not resolve"),
        ("failed to resolve", "the host name does not resolve"),
        ("nameresolutionerror", "the host name does not resolve"),
        ("connection refused", "connection refused"),
        ("no route to host", "no route to host"),
        ("network is unreachable", "network is unreachable"),
        ("newconnectionerror", "no connection"),
        ("certificate verify failed", "TLS certificate not trusted"),
    ):
        if needle in lowered:
            return reason
    return None


def headers_of(mapping: Mapping[str, Any]) -> Headers:
    """Build :class:`Headers` from any mapping of header names to values."""
    return Headers({str(k): str(v) for k, v in mapping.items()})
