"""Signed deliveries, an in-memory inbox, and a webhook service wired to a fake helpdesk."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from empathy_firewall.connectors.base import Headers, HttpRequest, HttpResponse
from empathy_firewall.state import StateStore
from empathy_firewall.webhooks.request import WebhookRequest
from empathy_firewall.webhooks.settings import load_serve_config
from empathy_firewall_zendesk.testing import FakeZendesk
from empathy_firewall_zendesk.webhook import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    compute_signature,
)

if TYPE_CHECKING:
    from empathy_firewall.webhooks.service import WebhookService

__all__ = [
    "Locked",
    "MemoryInbox",
    "event_body",
    "service_for",
    "signed_headers",
    "write_config",
    "zendesk_request",
]

ROOT = Path(__file__).resolve().parents[2]
ZENDESK_FIXTURES = ROOT / "connectors" / "zendesk" / "tests" / "fixtures"


class MemoryInbox:
    """An inbox port in memory: dedupes like the store's."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str, str], str] = {}

    def put(self, connector: str, account: str, dedupe_key: str, payload: str) -> bool:
        key = (connector, account, dedupe_key)
        if key in self.items:
            return False
        self.items[key] = payload
        return True


class Locked:
    """A fake helpdesk's transport behind a lock (worker threads share one fake)."""

    def __init__(self, fake: Any) -> None:
        self.fake = fake
        self.lock = threading.Lock()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with self.lock:
            response: HttpResponse = self.fake(request)
            return response


def event_body(ticket_id: int | str, event_id: str, kind: str = "ticket.comment_added") -> bytes:
    """A Zendesk event-subscription body (the documented shape) about one ticket."""
    return json.dumps(
        {
            "account_id": 22129848,
            "detail": {"id": str(ticket_id), "status": "OPEN", "priority": "LOW"},
            "event": {},
            "id": event_id,
            "subject": f"zen:ticket:{ticket_id}",
            "time": "2026-10-01T11:59:00Z",
            "type": f"zen:event-type:{kind}",
            "zendesk_event_version": "2022-11-06",
        }
    ).encode()


def signed_headers(secret: str, body: bytes, at: datetime) -> dict[str, str]:
    """Headers Zendesk sends: content type, signature over timestamp + body, timestamp."""
    stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: compute_signature(secret, stamp, body),
        TIMESTAMP_HEADER: stamp,
    }


def zendesk_request(
    fake: FakeZendesk, body: bytes, *, headers: Mapping[str, str] | None = None
) -> WebhookRequest:
    """A correctly signed Zendesk delivery, received at the fake's wall clock."""
    at = fake.clock.wall()
    merged = {**signed_headers(fake.signing_secret, body, at), **(headers or {})}
    return WebhookRequest("POST", "/webhooks/zendesk", Headers(merged), body, at)


def write_config(
    folder: Path, state_url: str | None, *, connector: str = "zendesk", **webhooks: Any
) -> Path:
    """A configuration file for ``serve``/``worker``/``inbox`` (connector at a fake URL).

    Workers take events at once (``settle_seconds = 0``) unless a test passes its own
    ``settle_seconds``: only the coalescing tests are about waiting for a ticket to settle.
    """
    webhooks.setdefault("settle_seconds", 0)
    lines = ["[connector]", f'name = "{connector}"']
    if connector == "zendesk":
        lines += ['base_url = "https://fake.zendesk.test"', "initial_lookback_minutes = 525600"]
    else:
        lines += ['base_url = "https://fake.freshdesk.test"']
    lines += ["", "[state]"]
    if state_url is not None:
        lines.append(f'url = "{state_url}"')
    lines += ["", "[webhooks]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in webhooks.items()]
    path = folder / "firewall.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def service_for(
    fake: FakeZendesk, store: StateStore, folder: Path, *, lock: bool = False, **webhooks: Any
) -> WebhookService:
    """A webhook service on ``store`` whose Zendesk connectors talk to ``fake``."""
    from empathy_firewall.webhooks.service import WebhookService

    config = load_serve_config(write_config(folder, None, **webhooks))
    transport: Any = Locked(fake) if lock else fake
    options = {"zendesk": {"transport": transport, "clock": fake.clock, "env": fake.env}}
    return WebhookService(config, store=store, connector_options=options)
