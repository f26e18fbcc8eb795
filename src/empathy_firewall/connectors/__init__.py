"""Connectors: the Connector contract, the entry-point registry and the HTTP policy."""

from empathy_firewall.connectors.base import (
    ActionOutcome,
    ApplyResult,
    Bookmark,
    Capabilities,
    Connector,
    ConnectorConfig,
    Headers,
    HttpRequest,
    HttpResponse,
    Page,
    RawPage,
    Send,
    WebhookEvent,
    markers_in,
    note_marker,
)
from empathy_firewall.connectors.registry import available, create, load

__all__ = [
    "ActionOutcome",
    "ApplyResult",
    "Bookmark",
    "Capabilities",
    "Connector",
    "ConnectorConfig",
    "Headers",
    "HttpRequest",
    "HttpResponse",
    "Page",
    "RawPage",
    "Send",
    "WebhookEvent",
    "available",
    "create",
    "load",
    "markers_in",
    "note_marker",
]
