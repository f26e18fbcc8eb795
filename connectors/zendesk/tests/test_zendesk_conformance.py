"""The Zendesk connector passes the shared connector conformance suite (against the fake)."""

from __future__ import annotations

import json

import pytest
from zendesk_fixtures import connect

from empathy_firewall.connectors import Connector, Headers
from empathy_firewall.testing import ConnectorConformance, FakeZendesk
from empathy_firewall.webhooks import WebhookRequest
from empathy_firewall_zendesk.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, compute_signature


class TestZendeskConformance(ConnectorConformance):
    @pytest.fixture(autouse=True)
    def _fake(self) -> None:
        self.fake = FakeZendesk()

    def make_connector(self) -> Connector:
        return connect(self.fake)

    def seed_tickets(self, count: int) -> list[str]:
        return [str(self.fake.add_ticket(subject=f"seed {n}")) for n in range(count)]

    def advance(self) -> None:
        self.fake.clock.advance(120)  # past the export's excluded last minute

    def helpdesk_state(self) -> object:
        return self.fake.snapshot()

    def sample_webhook_body(self, ticket_id: str) -> bytes:
        return json.dumps(
            {
                "empathy_firewall": 1,
                "event": "ticket.updated",
                "ticket_id": ticket_id,
                "updated_at": "2026-01-05T09:00:00Z",
                "status": "open",
            }
        ).encode()

    def signed_webhook(self, body: bytes) -> WebhookRequest:
        now = self.fake.clock.wall()
        ts = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        signature = compute_signature(self.fake.signing_secret, ts, body)
        headers = Headers({SIGNATURE_HEADER: signature, TIMESTAMP_HEADER: ts})
        return WebhookRequest("POST", "/webhooks/zendesk", headers, body, received_at=now)
