"""The Zendesk connector: the core Connector contract, wired to the modules of this package."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import timedelta
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
    RawPage,
    WebhookEvent,
)
from empathy_firewall.connectors.paging import pages, parse_one
from empathy_firewall.connectors.rest import HttpConnector
from empathy_firewall.errors import AuthenticationError, ConfigError
from empathy_firewall.models import Agent, Ticket
from empathy_firewall.webhooks.request import WebhookRequest
from empathy_firewall_zendesk.apply import TicketUpdateBudget, apply_plans, dry_answer
from empathy_firewall_zendesk.client import ZendeskClient
from empathy_firewall_zendesk.config import ZendeskConfig, resolve_credentials
from empathy_firewall_zendesk.parse import (
    ParseContext,
    agent_of,
    index_by_id,
)
from empathy_firewall_zendesk.poll import (
    AgentDirectory,
    ExportPager,
    ExportState,
    Thread,
    count_open,
    list_agents,
    missing_organizations,
)
from empathy_firewall_zendesk.webhook import ZendeskSignatureVerifier, parse_webhook_payload

__all__ = ["ZendeskConnector"]


class ZendeskConnector(HttpConnector[ZendeskConfig, ZendeskClient]):
    """Zendesk Support: incremental export, signed webhooks, bulk write-back.

    ``history``: tickets carry their history from audits (``history = "audits"``, the
    default), so the core derives none; with ``history = "comments"`` they carry none.

    ``transport``, ``clock`` and ``env`` (where the secrets are read) are injected, and the
    client is built on the first network call, as for every :class:`HttpConnector`.
    """

    name: ClassVar[str] = "zendesk"
    Config: ClassVar[type[ConnectorConfig]] = ZendeskConfig
    capabilities: ClassVar[Capabilities] = Capabilities(
        poll=True,
        webhook=True,
        tags=True,
        macros=True,
        notes=True,
        public_replies=True,
        drafts=True,
        priority=True,
        history=True,
    )

    _directory: tuple[float, AgentDirectory] | None = None

    @cached_property
    def _budget(self) -> TicketUpdateBudget:
        """Zendesk's per-ticket update limit, counted across every apply of this connector."""
        return TicketUpdateBudget(
            self.config.ticket_updates_per_window,
            self.config.ticket_update_window_seconds,
            self._clock,
        )

    def _build_client(self) -> ZendeskClient:
        credentials = resolve_credentials(self.config, self._env)
        return ZendeskClient(self.config, credentials, transport=self._transport, clock=self._clock)

    # pure half -----------------------------------------------------------------------

    def context(self, related: Mapping[str, Any] | None = None) -> ParseContext:
        """The parse context for this account, with sideloads from ``related``."""
        related = related or {}
        return ParseContext(
            account=self.config.account,
            base_url=self.config.url,
            users=related.get("users") or {},
            groups=related.get("groups") or {},
            metric_sets=related.get("metric_sets") or {},
            organizations=related.get("organizations") or {},
            memberships=related.get("memberships") or {},
            customer_fields=self.config.customer_fields,
            opt_in_field=self.config.agent_opt_in_field,
        )

    def pager(self) -> ExportPager:
        """The export's paging steps (the client is built only when they read)."""
        return ExportPager(lambda: self.client, self.config, self.context(), self.directory)

    def parse_page(self, raw: RawPage) -> Page:
        """Normalize one export page with the polling loop's own steps (``related``:
        ``comments`` or ``audits`` by ticket id, ``users``, ``groups``, ``organizations``,
        ``memberships``, ``seen``, ``cursor``, ``start_time``)."""
        related, pager = raw.related, self.pager()
        state = pager.state(related, self.context(related))
        threads = (related.get("comments") or {}, related.get("audits") or {})

        def thread(_: ExportState, record: Mapping[str, Any]) -> Thread:
            tid = str(record["id"])
            return Thread(comments=threads[0].get(tid), audits=threads[1].get(tid))

        response = HttpResponse(200, body=json.dumps(raw.body).encode())
        return parse_one(pager, state, pager.request(state), response, thread)

    def parse_webhook(self, request: WebhookRequest) -> WebhookEvent:
        """Parse an event-subscription or trigger webhook (verify it first)."""
        return parse_webhook_payload(
            request.body, headers=request.headers, account=self.config.account
        )

    def verifier(self) -> ZendeskSignatureVerifier:
        """HMAC-SHA256 verifier with the configured replay window; fails closed."""
        return ZendeskSignatureVerifier(
            self.secret(self.config.signing_secret_env),
            window=timedelta(seconds=self.config.webhook_replay_window_seconds),
            allow_unsigned=self.config.allow_unsigned_webhooks,
            secret_env=self.config.signing_secret_env,
        )

    def dry_answer(self, request: HttpRequest) -> HttpResponse | None:
        """Zendesk's answer to a successful write (see :func:`.apply.dry_answer`)."""
        return dry_answer(request)

    # I/O half ------------------------------------------------------------------------

    def check(self) -> None:
        """Authenticate as the configured user; polling (the export) needs an admin."""
        body = self.client.request("GET", "/api/v2/users/me.json", purpose="check")
        user = body.get("user") if isinstance(body, Mapping) else None
        if not isinstance(user, Mapping) or user.get("id") in (None, 0):
            raise AuthenticationError(
                "Zendesk answered as an anonymous user: the credentials were not accepted"
            )
        if self.config.polling and user.get("role") != "admin":
            raise ConfigError(
                "the Zendesk user is not an admin; the incremental export (polling) needs one "
                "(set `polling: false` for a webhook-only deployment)"
            )

    def directory(self) -> AgentDirectory:
        """The account's agents and groups, listed once per ``agents_cache_seconds`` (once
        per sync run; again after that in a long-lived ``serve``); empty when
        ``fetch_agents`` is off."""
        now = self.client.clock.now()
        if self._directory is None or now - self._directory[0] >= self.config.agents_cache_seconds:
            listed = list_agents(self.client) if self.config.fetch_agents else AgentDirectory()
            self._directory = (now, listed)
        return self._directory[1]

    def list_agents(self) -> tuple[Agent, ...]:
        """Every agent in a group: name, email, groups and (when configured) the opt-ins of
        their agent field."""
        directory = self.directory()
        ctx = self.context(
            {
                "users": directory.users,
                "groups": directory.groups,
                "memberships": directory.memberships,
            }
        )
        return tuple(agent_of(uid, ctx) for uid in sorted(directory.memberships, key=int))

    def count_open(self, assignee_id: str) -> int | None:
        """Open tickets assigned to one agent, counted by the helpdesk (the core asks while
        its store is cold); None when the helpdesk gives no count."""
        return self.count_open_by_assignee([assignee_id]).get(assignee_id)

    def count_open_by_assignee(self, agent_ids: Sequence[str]) -> dict[str, int]:
        """Open (unsolved) tickets per agent from the search count API: the backlog
        fallback for a first run, one request per agent. Agents Zendesk gives no count
        for are left out."""
        out: dict[str, int] = {}
        for agent_id in dict.fromkeys(agent_ids):
            if agent_id.isdigit():
                count = count_open(self.client, agent_id)
                if count is not None:
                    out[agent_id] = count
        return out

    def poll(self, bookmark: Bookmark | None) -> Iterator[Page]:
        """Pages of changed tickets since ``bookmark`` (see :mod:`.poll`)."""
        return pages(self.pager(), self.client.send, bookmark)

    def fetch(self, external_ids: Sequence[str]) -> tuple[Ticket, ...]:
        """Read tickets in full with ``show_many`` (100 per call) and their comments."""
        out: list[Ticket] = []
        ids = [i for i in dict.fromkeys(external_ids) if i.isdigit()]
        for start in range(0, len(ids), 100):
            chunk = ids[start : start + 100]
            body = self.client.request(
                "GET",
                "/api/v2/tickets/show_many.json",
                params={"ids": ",".join(chunk), "include": ",".join(self.config.sideloads)},
                purpose="show_many",
            )
            if not isinstance(body, Mapping):
                continue
            directory = self.directory()
            users = {**directory.users, **index_by_id(body.get("users"))}
            groups = {**directory.groups, **index_by_id(body.get("groups"))}
            metrics = index_by_id(body.get("metric_sets"), key="ticket_id")
            records = [
                r
                for r in body.get("tickets") or []
                if isinstance(r, Mapping) and r.get("status") != "deleted"
            ]
            orgs = index_by_id(body.get("organizations"))
            orgs.update(missing_organizations(self.client, records, users, orgs))
            ctx = self.context(
                {
                    "users": users,
                    "groups": groups,
                    "metric_sets": metrics,
                    "organizations": orgs,
                    "memberships": directory.memberships,
                }
            )
            pager, state = self.pager(), ExportState(ctx)
            for record in records:
                thread = pager.thread(str(record.get("id")))
                out.append(pager.ticket(state, record, thread))
        return tuple(out)

    def apply(self, plans: Sequence[Plan], *, verify: bool = False) -> tuple[ApplyResult, ...]:
        """Write plans back in bulk jobs (see :mod:`.apply`)."""
        return apply_plans(self.client, plans, verify=verify, budget=self._budget)
