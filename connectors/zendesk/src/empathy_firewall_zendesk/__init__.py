"""empathy-firewall-zendesk: the Zendesk connector for empathy-firewall.

Registered as ``zendesk`` in the ``empathy_firewall.connectors`` entry-point group.
"""

from empathy_firewall_zendesk.config import ZendeskConfig
from empathy_firewall_zendesk.connector import ZendeskConnector
from empathy_firewall_zendesk.webhook import TRIGGER_BODY_TEMPLATE, ZendeskSignatureVerifier

__all__ = ["TRIGGER_BODY_TEMPLATE", "ZendeskConfig", "ZendeskConnector", "ZendeskSignatureVerifier"]
