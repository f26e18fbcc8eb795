"""The fake Zendesk and its seeders, shipped with the connector for tests and demos.

:class:`FakeZendesk` is an in-memory Zendesk account speaking the REST shapes the
connector uses; :func:`seed_from_tickets` loads a ticket file into it at once and
:func:`replay_into_zendesk` replays one in time order; ``python -m
empathy_firewall_zendesk.testing.server`` serves it over HTTP. The conformance suite runs
against it with ``conformance_suite(ZendeskConnector, fake=FakeZendesk)``.
"""

from __future__ import annotations

from empathy_firewall_zendesk.testing.fake import FakeZendesk
from empathy_firewall_zendesk.testing.seed import replay_into_zendesk, seed_from_tickets

__all__ = ["FakeZendesk", "replay_into_zendesk", "seed_from_tickets"]
