"""Webhooks: framework-neutral requests, verifiers, the receiver, workers and the ASGI app.

The request, verifier and receiver types here have no web-framework dependency; the
Starlette app (:mod:`empathy_firewall.webhooks.app`), the service wiring
(:mod:`empathy_firewall.webhooks.service`) and the metrics need the ``serve`` extra.
See ``docs/webhooks.md``.
"""

from empathy_firewall.webhooks.handler import (
    InboxPort,
    Outcome,
    PendingEvent,
    Reason,
    WebhookReceiver,
    WebhookResponse,
)
from empathy_firewall.webhooks.request import SignatureError, Verifier, WebhookRequest

__all__ = [
    "InboxPort",
    "Outcome",
    "PendingEvent",
    "Reason",
    "SignatureError",
    "Verifier",
    "WebhookReceiver",
    "WebhookRequest",
    "WebhookResponse",
]
