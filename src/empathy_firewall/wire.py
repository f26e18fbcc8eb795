"""Neutral HTTP vocabulary shared by connectors and the webhook endpoint.

This module is the ground floor of the HTTP side: it imports nothing from the rest of the
package except the error hierarchy, so connectors, the connector kit and the webhook
endpoint can all import it without importing each other.

* :class:`Headers`: an immutable, case-insensitive header mapping.
* :class:`HttpRequest` / :class:`HttpResponse` and :data:`Send`: the single I/O seam a
  connector talks through (``send(request) -> response``).
* :class:`WebhookRequest`, :class:`Verifier` and :class:`SignatureError`: a received
  webhook as raw bytes, and the check that it really comes from the helpdesk.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

from empathy_firewall.errors import InputError

__all__ = [
    "Headers",
    "HttpRequest",
    "HttpResponse",
    "Send",
    "SignatureError",
    "Verifier",
    "WebhookRequest",
]


class Headers(Mapping[str, str]):
    """An immutable, case-insensitive header mapping that keeps the original spelling."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        self._items: dict[str, tuple[str, str]] = {}
        for name, value in pairs:
            self._items[name.lower()] = (name, value)

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def get(self, name: str, default: Any = None) -> Any:
        """The value of ``name`` (any case), else ``default``: one dict lookup (the
        inherited ``Mapping.get`` goes through ``__getitem__`` and a ``KeyError``; it is
        called several times per webhook)."""
        found = self._items.get(name.lower())
        return default if found is None else found[1]

    def __iter__(self) -> Iterator[str]:
        return (original for original, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __repr__(self) -> str:
        return f"Headers({sorted(self)!r})"  # names only: values may hold secrets

    def merged(self, extra: Mapping[str, str]) -> Headers:
        """A copy with ``extra`` added (replacing same-named headers)."""
        return Headers([*self.items(), *extra.items()])


_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """A framework-neutral HTTP request.

    ``url`` is absolute. ``json_body`` is serialized by the transport. ``purpose`` is a
    short label ("update_many", "job_status") used by dry-run output and benchmarks;
    ``item`` names the ticket the request is about, so a 404/422 can skip just that one.
    ``idempotent`` says whether sending it twice is harmless; the retry policy only
    retries non-idempotent requests when the server certainly did not process them.
    Rendered requests never carry credentials: the client adds them when sending.
    """

    method: str
    url: str
    params: tuple[tuple[str, str], ...] = ()
    headers: Headers = field(default_factory=Headers)
    json_body: Any = None
    purpose: str = ""
    item: str | None = None
    idempotent: bool | None = None

    @property
    def is_idempotent(self) -> bool:
        """The explicit flag, or the method's usual semantics (GET/DELETE yes, PUT/POST no)."""
        if self.idempotent is not None:
            return self.idempotent
        return self.method.upper() in _IDEMPOTENT_METHODS

    @property
    def path(self) -> str:
        """The URL path, for messages and routing (no query string, no host)."""
        return urlsplit(self.url).path

    def param(self, name: str) -> str | None:
        """The first value of query parameter ``name``, if present."""
        for key, value in self.params:
            if key == name:
                return value
        return None

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description for ``--dry-run`` output (no credentials in it)."""
        return {
            "method": self.method,
            "url": self.url,
            "params": dict(self.params),
            "json": self.json_body,
            "purpose": self.purpose,
            "item": self.item,
        }


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """A framework-neutral HTTP response: status, case-insensitive headers, raw body."""

    status: int
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""

    @property
    def ok(self) -> bool:
        """True for 2xx."""
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        """The body decoded as UTF-8, replacing undecodable bytes."""
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON; :class:`InputError` (never a crash) when it is not JSON."""
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            raise InputError(f"response body is not JSON (HTTP {self.status})") from None

    def json_or_none(self) -> Any:
        """The body as JSON, or None when it is empty or not JSON (plain-text 429s, HTML)."""
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None


#: the single I/O seam: send one request, get one response (or a library error)
Send = Callable[[HttpRequest], HttpResponse]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """One received webhook: method, path, case-insensitive headers, raw body, arrival time."""

    method: str
    path: str
    headers: Headers
    body: bytes
    received_at: datetime = field(default_factory=_utcnow)

    def __post_init__(self) -> None:
        if not isinstance(self.headers, Headers):
            object.__setattr__(self, "headers", Headers(self.headers))
        if self.received_at.tzinfo is None:
            raise ValueError("received_at must be timezone-aware")


class SignatureError(InputError):
    """The webhook's signature is missing, malformed, stale or wrong: reject it (401)."""


@runtime_checkable
class Verifier(Protocol):
    """Checks that a webhook really comes from the helpdesk."""

    def verify(self, request: WebhookRequest) -> None:
        """Return if authentic; raise :class:`SignatureError` otherwise."""
        ...
