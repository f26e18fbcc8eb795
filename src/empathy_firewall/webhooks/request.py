"""Framework-neutral webhook requests and the verifier protocol (from :mod:`..wire`).

The HTTP server (any framework) builds a :class:`WebhookRequest` from what it received,
with the body as the exact raw bytes (signatures are computed over them), and hands it to
the connector's :class:`Verifier` before anything parses it.

Verification fails closed: a verifier raises :class:`SignatureError` (answer 401, never
process the body) for a missing, malformed, stale or wrong signature.
"""

from __future__ import annotations

from empathy_firewall.wire import SignatureError, Verifier, WebhookRequest

__all__ = ["SignatureError", "Verifier", "WebhookRequest"]
