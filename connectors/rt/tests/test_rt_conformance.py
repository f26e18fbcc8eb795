"""The RT connector passes the shared connector conformance suite against a real RT 5."""

from __future__ import annotations

import pytest
from rt_server import RtAdmin, connector, require_rt, settle

from empathy_firewall.connectors import Connector
from empathy_firewall.testing import ConnectorConformance


class TestRtConformance(ConnectorConformance):
    @pytest.fixture(autouse=True)
    def _queue(self) -> None:
        self.url = require_rt()
        self.admin = RtAdmin(self.url)
        self.admin.ensure_tags_field()
        self.queue = self.admin.new_queue()

    def make_connector(self) -> Connector:
        return connector(self.url, self.queue)

    def seed_tickets(self, count: int) -> list[str]:
        return [self.admin.new_ticket(self.queue, f"seed {n}") for n in range(count)]

    def advance(self) -> None:
        settle()

    def helpdesk_state(self) -> object:
        return self.admin.state(self.queue)

    def missing_ticket_id(self) -> str:
        return "987654321"
