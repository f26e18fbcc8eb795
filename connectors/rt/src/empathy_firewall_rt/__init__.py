"""empathy-firewall-rt: the Request Tracker 5 connector for empathy-firewall.

Registered as ``rt`` in the ``empathy_firewall.connectors`` entry-point group.
"""

from empathy_firewall_rt.config import RtConfig
from empathy_firewall_rt.connector import RtConnector

__all__ = ["RtConfig", "RtConnector"]
