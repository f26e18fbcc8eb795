"""The Freshdesk connector: the core Connector contract, wired to the modules of this package."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
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
    WebhookEvent,
)
from empathy_firewall.connectors.paging import pages
from empathy_firewall.connectors.rest import HttpConnector
from empathy_firewall.errors import AuthenticationError, ConfigError, SkipError
from empathy_firewall.models import Agent, Ticket, TicketStatus
from empathy_firewall.webhooks.request import WebhookRequest
from empathy_firewall_freshdesk.apply import apply_plans, dry_answer
from empathy_firewall_freshdesk.client import FreshdeskClient
from empathy_firewall_freshdesk.config import FreshdeskConfig, resolve_credentials
from empathy_firewall_freshdesk.parse import (
    ParseContext,
    agent_of,
    index_by_id,
    normalize_ticket,
)
from empathy_firewall_freshdesk.poll import (
    ListPager,
    People,
    count_open,
    list_conversations,
)
from empathy_firewall_freshdesk.webhook import SharedSecretVerifier, parse_webhook_payload

__all__ = ["FreshdeskConnector"]


class FreshdeskConnector(HttpConnector[FreshdeskConfig, FreshdeskClient]):
    """Freshdesk (API v2): ``updated_since`` polling, shared-secret webhooks, merged tags.

    ``transport``, ``clock`` and ``env`` (where the secrets are read) are injected, and the
    client is built on the first network call, as for every :class:`HttpConnector`.
    """

    name: ClassVar[str] = "freshdesk"
    Config: ClassVar[type[ConnectorConfig]] = FreshdeskConfig
    capabilities: ClassVar[Capabilities] = Capabilities(
        poll=True,
        webhook=True,
        tags=True,
        macros=True,
        notes=True,
        public_replies=True,
        drafts=True,
        priority=True,
    )

    #: agents and groups read for :meth:`fetch`, with the clock time they were read
    _people_seen: tuple[float, People] | None = None
    _people_cache: (
        tuple[float, dict[str, Mapping[str, Any]], dict[str, Mapping[str, Any]]] | None
    ) = None

    def _build_client(self) -> FreshdeskClient:
        credentials = resolve_credentials(self.config, self._env)
        return FreshdeskClient(
            self.config, credentials, transport=self._transport, clock=self._clock
        )

    # pure half -----------------------------------------------------------------------

    def context(self, related: Mapping[str, Any] | None = None) -> ParseContext:
        """The parse context for this account, with cached agents and groups."""
        related = related or {}
        return ParseContext(
            account=self.config.account,
            base_url=self.config.url,
            agents=related.get("agents") or {},
            groups=related.get("groups") or {},
            contacts=related.get("contacts") or {},
            companies=related.get("companies") or {},
            custom_statuses=self.config.custom_statuses,
            customer_fields=self.config.customer_fields,
        )

    def parse_webhook(self, request: WebhookRequest) -> WebhookEvent:
        """Parse an automation rule's webhook (verify it first): a hint naming the ticket."""
        return parse_webhook_payload(
            request.body, account=self.config.account, received_at=request.received_at
        )

    def verifier(self) -> SharedSecretVerifier:
        """Shared-secret verifier (custom header or basic auth); fails closed."""
        return SharedSecretVerifier(
            self.secret(self.config.webhook_secret_env),
            mode=self.config.webhook_auth,
            header=self.config.webhook_secret_header,
            allow_unauthenticated=self.config.allow_unauthenticated_webhooks,
            secret_env=self.config.webhook_secret_env,
        )

    def dry_answer(self, request: HttpRequest) -> HttpResponse | None:
        """Freshdesk's answer to a successful write (see :func:`.apply.dry_answer`)."""
        return dry_answer(request)

    def dry_config(self) -> FreshdeskConfig:
        """No tag re-check on a dry run: nothing was written, so the check would merge
        and write again."""
        return self.config.model_copy(update={"recheck_tags": False})

    # I/O half ------------------------------------------------------------------------

    def check(self) -> None:
        """Authenticate: ``GET /api/v2/agents/me`` must answer with an agent."""
        body = self.client.request("GET", "/api/v2/agents/me", purpose="check")
        if not isinstance(body, Mapping) or body.get("id") in (None, 0):
            raise AuthenticationError(
                "Freshdesk did not answer with an agent: the API key was not accepted"
            )

    def poll(self, bookmark: Bookmark | None) -> Iterator[Page]:
        """Pages of changed tickets since ``bookmark`` (see :mod:`.poll`)."""
        if not self.config.polling:
            raise ConfigError("polling is switched off for this Freshdesk connector")
        return pages(
            ListPager(self.client, self.people(), self.context), self.client.send, bookmark
        )

    def fetch(self, external_ids: Sequence[str]) -> tuple[Ticket, ...]:
        """Re-read tickets in full (after a webhook hint): ticket with stats and requester,
        then all its conversations. Unknown or deleted ids are left out."""
        out: list[Ticket] = []
        ids = [i for i in dict.fromkeys(external_ids) if i.isdigit()]
        if not ids:
            return ()
        agents, groups = self._people()
        people = self.people()
        for tid in ids:
            try:
                record = self.client.request(
                    "GET",
                    f"/api/v2/tickets/{tid}",
                    params={"include": "stats,requester"},
                    purpose="read_ticket",
                    item=tid,
                )
                if not isinstance(record, Mapping):
                    continue
                conversations = list_conversations(self.client, tid)
            except SkipError:
                continue  # deleted, spam or never existed
            if self.config.fetch_contacts:
                people.customers([record])
            ctx = self.context(
                {
                    "agents": agents,
                    "groups": groups,
                    "contacts": people.contacts,
                    "companies": people.companies,
                }
            )
            out.append(normalize_ticket(record, conversations=conversations, ctx=ctx))
        return tuple(out)

    def people(self) -> People:
        """Contacts and companies read by this connector, kept ``people_cache_seconds``
        (a sync run reads each once; a long-lived ``serve`` process reads them again)."""
        now = self.client.clock.now()
        if self._people_seen is None or now - self._people_seen[0] >= (
            self.config.people_cache_seconds
        ):
            self._people_seen = (now, People(self.client))
        return self._people_seen[1]

    def list_agents(self) -> tuple[Agent, ...]:
        """Every agent: name, e-mail (from the agent's contact) and groups. Freshdesk
        agents have no custom fields, so opt-ins come from the firewall's store only."""
        agents, groups = self._people()
        ctx = self.context({"agents": agents, "groups": groups})
        return tuple(agent_of(aid, ctx) for aid in sorted(agents, key=int))

    def count_open(self, assignee_id: str) -> int | None:
        """Open tickets assigned to one agent, counted by the helpdesk (the core asks while
        its store is cold); None when the helpdesk gives no count."""
        return self.count_open_by_assignee([assignee_id]).get(assignee_id)

    def count_open_by_assignee(self, agent_ids: Sequence[str]) -> dict[str, int]:
        """Open tickets per agent from the filter API (Open, Pending and the custom
        statuses configured as open-like): the backlog fallback for a first run, one
        request per agent. Agents Freshdesk gives no total for are left out."""
        open_like = (
            code
            for code, status in self.config.custom_statuses.items()
            if status not in (TicketStatus.SOLVED, TicketStatus.CLOSED)
        )
        statuses = [2, 3, *sorted(open_like)]
        out: dict[str, int] = {}
        for agent_id in dict.fromkeys(agent_ids):
            if agent_id.isdigit():
                total = count_open(self.client, agent_id, statuses)
                if total is not None:
                    out[agent_id] = total
        return out

    def _people(self) -> tuple[dict[str, Mapping[str, Any]], dict[str, Mapping[str, Any]]]:
        """Agents and groups for :meth:`fetch`, kept for ``people_cache_seconds`` so a
        stream of webhooks does not read them again for every ticket."""
        now = self.client.clock.now()
        cached = self._people_cache
        if cached is not None and now - cached[0] < self.config.people_cache_seconds:
            return cached[1], cached[2]
        agents = index_by_id(self.client.list_all("/api/v2/agents", purpose="agents"))
        groups = index_by_id(self.client.list_all("/api/v2/groups", purpose="groups"))
        self._people_cache = (now, agents, groups)
        return agents, groups

    def apply(self, plans: Sequence[Plan], *, verify: bool = False) -> tuple[ApplyResult, ...]:
        """Write plans back (see :mod:`.apply`)."""
        return apply_plans(self.client, plans, verify=verify)
