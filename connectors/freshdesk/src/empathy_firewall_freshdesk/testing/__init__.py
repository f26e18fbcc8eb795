"""The fake Freshdesk and its seeder, shipped with the connector for tests and demos.

:class:`FakeFreshdesk` is an in-memory Freshdesk account speaking the API v2 shapes the
connector uses; :func:`replay_into_freshdesk` replays a ticket file into it in time order.
The conformance suite runs against it with
``conformance_suite(FreshdeskConnector, fake=FakeFreshdesk)``.
"""

from __future__ import annotations

from empathy_firewall_freshdesk.testing.fake import DEFAULT_SECRET_HEADER, FakeFreshdesk
from empathy_firewall_freshdesk.testing.seed import (
    FRESHDESK_PRIORITY,
    FRESHDESK_STATUS,
    replay_into_freshdesk,
)

__all__ = [
    "DEFAULT_SECRET_HEADER",
    "FRESHDESK_PRIORITY",
    "FRESHDESK_STATUS",
    "FakeFreshdesk",
    "replay_into_freshdesk",
]
