"""Framework-neutral webhook requests and the verifier protocol.

The HTTP server (any framework) builds a :class:`WebhookRequest` from what it received,
with the body as the exact raw bytes (signatures are computed over them), and hands it to
the connector's :class:`Verifier` before anything parses it.

Verification fails closed: a verifier raises :class:`SignatureError` (answer 401, never
process the body) for a missing, malformed, stale or wrong signature.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from empathy_firewall.connectors.base import Headers
from empathy_firewall.errors import InputError

__all__ = ["SignatureError", "Verifier", "WebhookRequest"]


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
