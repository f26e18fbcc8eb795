"""The RT HTTP client: the ``send`` seam plus credentials, retries and REST 2 paging.

Every request goes through :class:`~empathy_firewall.connectors.rest.HttpClient` (the
``Authorization`` header is added at the last moment, so rendered requests and logs never
hold it). A connection failure is reported naming the RT server, so "RT is down" reads as
such.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from empathy_firewall.connectors.base import Send
from empathy_firewall.connectors.http import Clock, TransportError, describe_error_body
from empathy_firewall.connectors.rest import HttpClient
from empathy_firewall.errors import InputError
from empathy_firewall.wire import Headers, HttpRequest, HttpResponse
from empathy_firewall_rt.config import RtConfig

__all__ = ["RtClient", "server_time"]

#: the largest page REST 2 serves
MAX_PER_PAGE = 100


def server_time(headers: Headers, fallback: datetime) -> datetime:
    """The server's clock from the ``Date`` header (whole seconds, UTC), else ``fallback``."""
    try:
        when = parsedate_to_datetime(headers.get("date", ""))
    except (TypeError, ValueError, IndexError):
        return fallback.astimezone(UTC).replace(microsecond=0)
    return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)


class RtClient(HttpClient):
    """Authenticated, retrying access to one RT instance's REST 2 API."""

    vendor = "RT"

    def __init__(
        self,
        config: RtConfig,
        authorization: str,
        *,
        transport: Send | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        super().__init__(
            config, authorization, transport=transport, clock=clock, describe=describe_error_body
        )
        self.base_url = config.api

    def send(self, request: HttpRequest) -> HttpResponse:
        """Send; a failure below HTTP names the server (``RT at http://host:port ...``)."""
        try:
            return super().send(request)
        except TransportError as exc:
            raise TransportError(
                f"RT at {self.config.web} did not answer ({exc})",
                request_sent=exc.request_sent,
            ) from None

    def get(
        self, path: str, params: tuple[tuple[str, str], ...] = (), *, purpose: str = ""
    ) -> tuple[Any, Headers]:
        """GET ``path`` (under the REST 2 root, or absolute) with repeatable parameters."""
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        response = self.send(HttpRequest("GET", url, params=params, purpose=purpose))
        data = response.json_or_none()
        if response.body and data is None:
            raise InputError(f"RT GET {HttpRequest('GET', url).path}: response is not JSON")
        return data, response.headers

    def items(
        self, path: str, params: tuple[tuple[str, str], ...] = (), *, purpose: str = ""
    ) -> Iterator[Mapping[str, Any]]:
        """Every item of a paged collection (``per_page`` 100, pages followed to the end)."""
        page = 1
        while True:
            body, _ = self.get(
                path,
                (*params, ("per_page", str(MAX_PER_PAGE)), ("page", str(page))),
                purpose=purpose,
            )
            if not isinstance(body, Mapping):
                return
            for item in body.get("items") or []:
                if isinstance(item, Mapping):
                    yield item
            pages = body.get("pages")
            if not isinstance(pages, int) or page >= pages or page >= 1000:
                return
            page += 1
