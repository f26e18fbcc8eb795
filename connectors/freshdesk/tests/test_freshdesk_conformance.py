"""The Freshdesk connector passes the shared connector conformance suite (against the fake)."""

from __future__ import annotations

import json

import pytest
from freshdesk_fixtures import connect

from empathy_firewall.connectors import Connector, Headers
from empathy_firewall.testing import ConnectorConformance, FakeFreshdesk
from empathy_firewall.webhooks import WebhookRequest


class TestFreshdeskConformance(ConnectorConformance):
    @pytest.fixture(autouse=True)
    def _fake(self) -> None:
        self.fake = FakeFreshdesk()

    def make_connector(self) -> Connector:
        return connect(self.fake)

    def seed_tickets(self, count: int) -> list[str]:
        return [str(self.fake.add_ticket(subject=f"seed {n}")) for n in range(count)]

    def advance(self) -> None:
        self.fake.clock.advance(5)

    def helpdesk_state(self) -> object:
        return self.fake.snapshot()

    def sample_webhook_body(self, ticket_id: str) -> bytes:
        return json.dumps(
            {"empathy_firewall": 1, "event": "ticket.updated", "ticket_id": ticket_id}
        ).encode()

    def signed_webhook(self, body: bytes) -> WebhookRequest:
        return self.fake.webhook(body)

    def tampered_webhook(self, request: WebhookRequest) -> WebhookRequest:
        headers = Headers({**request.headers, self.fake.secret_header: "not-the-secret"})
        return WebhookRequest(
            request.method, request.path, headers, request.body, request.received_at
        )
