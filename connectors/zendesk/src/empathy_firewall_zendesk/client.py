"""The Zendesk HTTP client: the ``send`` seam plus credentials, rate budgets and retries.

``transport`` is any :data:`~empathy_firewall.connectors.base.Send` (the requests-based
transport in production, a fake Zendesk in tests). The client adds the ``Authorization``
header at the last moment, so rendered requests and logs never hold credentials.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from empathy_firewall.connectors.base import HttpRequest, HttpResponse, Send
from empathy_firewall.connectors.http import (
    Clock,
    PolicySender,
    RateBudget,
    RequestsTransport,
    RetryPolicy,
)
from empathy_firewall.errors import InputError
from empathy_firewall_zendesk.config import Credentials, ZendeskConfig
from empathy_firewall_zendesk.parse import describe_zendesk_error

__all__ = ["EXPORT_PREFIX", "ZendeskClient"]

#: every incremental export endpoint shares the 10 (30 with High Volume) per minute budget
EXPORT_PREFIX = "/api/v2/incremental/"


class ZendeskClient:
    """Authenticated, rate-limited, retrying access to one Zendesk account."""

    def __init__(
        self,
        config: ZendeskConfig,
        credentials: Credentials,
        *,
        transport: Send | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        self.base_url = config.url
        self._authorization = credentials.authorization
        raw = transport or RequestsTransport(timeout=config.timeout_seconds)

        def authed(request: HttpRequest) -> HttpResponse:
            headers = request.headers.merged(
                {"Authorization": self._authorization, "Accept": "application/json"}
            )
            return raw(
                HttpRequest(
                    method=request.method,
                    url=request.url,
                    params=request.params,
                    headers=headers,
                    json_body=request.json_body,
                    purpose=request.purpose,
                    item=request.item,
                    idempotent=request.idempotent,
                )
            )

        self.sender = PolicySender(
            authed,
            policy=RetryPolicy(
                max_attempts=config.max_attempts, max_total_wait=config.max_total_wait_seconds
            ),
            clock=clock,
            describe=describe_zendesk_error,
            vendor="Zendesk",
            budgets=(RateBudget(EXPORT_PREFIX, config.export_requests_per_minute, 60.0),),
        )
        self.clock = self.sender.clock

    def __repr__(self) -> str:
        return f"ZendeskClient({self.base_url!r})"

    def send(self, request: HttpRequest) -> HttpResponse:
        """Send through the retry policy."""
        return self.sender(request)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        purpose: str = "",
        item: str | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Send and decode JSON; ``path`` is relative to the base URL or absolute."""
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        response = self.send(
            HttpRequest(
                method=method,
                url=url,
                params=tuple((params or {}).items()),
                json_body=body,
                purpose=purpose,
                item=item,
                idempotent=idempotent,
            )
        )
        data = response.json_or_none()
        if data is None and response.body and response.status != 204:
            raise InputError(f"Zendesk {method} {path}: response is not JSON")
        return data
