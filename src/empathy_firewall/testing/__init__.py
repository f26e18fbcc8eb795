"""Test helpers shipped with the library: fake helpdesks and the connector conformance suite."""

from __future__ import annotations

from typing import Any

from empathy_firewall.testing.clock import FakeClock
from empathy_firewall.testing.fake_freshdesk import FakeFreshdesk
from empathy_firewall.testing.fake_helpdesk import FakeHelpdesk, Fault, LoggedRequest
from empathy_firewall.testing.fake_zendesk import FakeZendesk

__all__ = [
    "ConnectorConformance",
    "FakeClock",
    "FakeFreshdesk",
    "FakeHelpdesk",
    "FakeZendesk",
    "Fault",
    "LoggedRequest",
    "sample_plan",
]


def __getattr__(name: str) -> Any:
    # The conformance suite imports pytest; load it only when a test asks for it.
    if name in ("ConnectorConformance", "sample_plan"):
        from empathy_firewall.testing import conformance

        return getattr(conformance, name)
    raise AttributeError(name)
