"""The Zendesk HTTP client: the ``send`` seam plus credentials, rate budgets and retries.

``transport`` is any :data:`~empathy_firewall.connectors.base.Send` (the requests-based
transport in production, a fake Zendesk in tests). The client adds the ``Authorization``
header at the last moment, so rendered requests and logs never hold credentials.
"""

from __future__ import annotations

from empathy_firewall.connectors.base import Send
from empathy_firewall.connectors.http import Clock, RateBudget
from empathy_firewall.connectors.rest import HttpClient
from empathy_firewall_zendesk.config import Credentials, ZendeskConfig
from empathy_firewall_zendesk.parse import describe_zendesk_error

__all__ = ["EXPORT_PREFIX", "ZendeskClient"]

#: every incremental export endpoint shares the 10 (30 with High Volume) per minute budget
EXPORT_PREFIX = "/api/v2/incremental/"


class ZendeskClient(HttpClient):
    """Authenticated, rate-limited, retrying access to one Zendesk account.

    Sending, retries and JSON decoding come from :class:`HttpClient`; Zendesk adds its
    export budget and error descriptions.
    """

    vendor = "Zendesk"

    def __init__(
        self,
        config: ZendeskConfig,
        credentials: Credentials,
        *,
        transport: Send | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        super().__init__(
            config,
            credentials.authorization,
            transport=transport,
            clock=clock,
            describe=describe_zendesk_error,
            budgets=(RateBudget(EXPORT_PREFIX, config.export_requests_per_minute, 60.0),),
        )

    def _shown_path(self, path: str, url: str) -> str:
        return path  # the path as the caller gave it
