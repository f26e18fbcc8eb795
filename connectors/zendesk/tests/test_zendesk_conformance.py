"""The Zendesk connector passes the shared connector conformance suite (against the fake)."""

from empathy_firewall.testing import conformance_suite
from empathy_firewall_zendesk import ZendeskConnector
from empathy_firewall_zendesk.testing import FakeZendesk

TestZendeskConformance = conformance_suite(ZendeskConnector, fake=FakeZendesk)
