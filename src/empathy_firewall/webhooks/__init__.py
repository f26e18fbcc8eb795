"""Webhooks: framework-neutral requests, verifiers (and, later, the handler and ASGI app)."""

from empathy_firewall.webhooks.request import SignatureError, Verifier, WebhookRequest

__all__ = ["SignatureError", "Verifier", "WebhookRequest"]
