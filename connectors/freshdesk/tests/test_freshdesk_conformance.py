"""The Freshdesk connector passes the shared connector conformance suite (against the fake)."""

from empathy_firewall.testing import conformance_suite
from empathy_firewall_freshdesk import FreshdeskConnector
from empathy_firewall_freshdesk.testing import FakeFreshdesk

TestFreshdeskConformance = conformance_suite(FreshdeskConnector, fake=FakeFreshdesk)
