"""Test helpers shipped with the library: the generic fake helpdesk, a fake clock and the
connector conformance suite.

Vendor fakes live with their connectors (``empathy_firewall_zendesk.testing.FakeZendesk``,
``empathy_firewall_freshdesk.testing.FakeFreshdesk``); a connector's whole conformance
test is one line, ``TestMine = conformance_suite(MyConnector, fake=MyFake)``.
"""

from __future__ import annotations

from typing import Any

from empathy_firewall.testing.clock import FakeClock
from empathy_firewall.testing.fake_helpdesk import FakeHelpdesk, Fault, LoggedRequest

__all__ = [
    "ConnectorConformance",
    "FakeClock",
    "FakeHelpdesk",
    "Fault",
    "LoggedRequest",
    "conformance_suite",
    "sample_plan",
]


def __getattr__(name: str) -> Any:
    # The conformance suite imports pytest; load it only when a test asks for it.
    if name in ("ConnectorConformance", "conformance_suite", "sample_plan"):
        from empathy_firewall.testing import conformance

        return getattr(conformance, name)
    raise AttributeError(name)
