"""empathy-firewall-freshdesk: the Freshdesk connector for empathy-firewall.

Registered as ``freshdesk`` in the ``empathy_firewall.connectors`` entry-point group.
"""

from empathy_firewall_freshdesk.config import FreshdeskConfig
from empathy_firewall_freshdesk.connector import FreshdeskConnector
from empathy_firewall_freshdesk.webhook import WEBHOOK_BODY_TEMPLATE, SharedSecretVerifier

__all__ = ["WEBHOOK_BODY_TEMPLATE", "FreshdeskConfig", "FreshdeskConnector", "SharedSecretVerifier"]
