"""The RT connector: the core Connector contract, wired to the modules of this package."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property
from typing import Any, ClassVar

from empathy_firewall.actions import Plan
from empathy_firewall.connectors.base import (
    ApplyResult,
    Bookmark,
    Capabilities,
    ConnectorConfig,
    HttpRequest,
    HttpResponse,
    Page,
)
from empathy_firewall.connectors.paging import pages
from empathy_firewall.connectors.rest import HttpConnector
from empathy_firewall.errors import ConfigError
from empathy_firewall.models import Ticket
from empathy_firewall_rt.apply import apply_plans, dry_answer
from empathy_firewall_rt.client import RtClient
from empathy_firewall_rt.config import RtConfig, resolve_authorization
from empathy_firewall_rt.parse import normalize_ticket
from empathy_firewall_rt.poll import Names, RtPager, check_timezone, quoted

__all__ = ["RtConnector"]


class RtConnector(HttpConnector[RtConfig, RtClient]):
    """Request Tracker 5 through REST 2: TicketSQL polling, internal comments, priority and
    tags in a custom field. Poll-only (RT has no signed webhooks)."""

    name: ClassVar[str] = "rt"
    Config: ClassVar[type[ConnectorConfig]] = RtConfig
    capabilities: ClassVar[Capabilities] = Capabilities(
        poll=True, tags=True, notes=True, drafts=True, priority=True
    )

    def _build_client(self) -> RtClient:
        authorization = resolve_authorization(self.config, self._env)
        return RtClient(self.config, authorization, transport=self._transport, clock=self._clock)

    @cached_property
    def _names(self) -> Names:
        return Names(self.client)

    # pure half -----------------------------------------------------------------------

    def normalize(
        self,
        record: Mapping[str, Any],
        history: Sequence[Mapping[str, Any]],
        attachments: Sequence[Mapping[str, Any]],
    ) -> Ticket:
        """One ticket from its REST 2 record, history and attachments."""
        return normalize_ticket(
            record,
            history,
            attachments,
            account=self.config.account,
            web_url=self.config.web,
            tags_field=self.config.tags_field,
            levels=self.config.priorities,
            names=self._names,
        )

    def dry_answer(self, request: HttpRequest) -> HttpResponse | None:
        """RT's answer to a successful write (see :func:`.apply.dry_answer`)."""
        return dry_answer(request)

    # I/O half ------------------------------------------------------------------------

    def check(self) -> None:
        """Authenticate (``GET /rt``); the tags custom field must exist and RT must read
        dates in the configured timezone."""
        self.client.get("/rt", purpose="check")
        body, _ = self.client.get(
            "/customfields",
            (("query", f'[{{"field":"Name","value":"{self.config.tags_field}"}}]'),),
            purpose="check_tags_field",
        )
        if not isinstance(body, Mapping) or not body.get("total"):
            raise ConfigError(
                f"RT has no custom field {self.config.tags_field!r} for tags: create it "
                "(multi-value freeform, applied to tickets; see docs/rt.md) or set `tags_field`"
            )
        check_timezone(self.client, self.config.zone)

    def poll(self, bookmark: Bookmark | None) -> Iterator[Page]:
        """Pages of tickets updated since ``bookmark`` (see :mod:`.poll`)."""
        return pages(RtPager(self.client, self.normalize, self.config), self.client.send, bookmark)

    def count_open(self, assignee_id: str) -> int | None:
        """The agent's active tickets (RT's ``__Active__`` statuses), counted by RT."""
        query = f"Owner = {quoted(assignee_id)} AND Status = '__Active__'"
        body, _ = self.client.get("/tickets", (("query", query), ("per_page", "1")))
        total = body.get("total") if isinstance(body, Mapping) else None
        return total if isinstance(total, int) else None

    def apply(self, plans: Sequence[Plan], *, verify: bool = False) -> tuple[ApplyResult, ...]:
        """Write plans back (see :mod:`.apply`)."""
        return apply_plans(
            self.client,
            plans,
            verify=verify,
            tags_field=self.config.tags_field,
            levels=self.config.priorities,
        )
