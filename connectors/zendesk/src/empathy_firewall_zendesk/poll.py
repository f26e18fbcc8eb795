"""Polling: the cursor-based incremental ticket export, plus comments per changed ticket.

Quirks handled (see docs/zendesk.md):

* the first request sends ``start_time`` (at least a minute in the past: the export never
  returns the most recent minute), every later one only ``cursor``;
* the loop ends on ``end_of_stream`` *or* when the cursor does not advance (the core loop's
  guard: the next request would be the one just sent);
* a ticket can appear more than once (every change re-exports it): copies are dropped
  within a page and across the pages of one run;
* deleted tickets come back with ``status: deleted`` and are reported as ``removed``;
* ``support_type_scope=all`` so tickets handled by AI agents are included (the API's
  default, ``agent``, leaves them out);
* users and groups are sideloaded and cached for the run; ticket metrics come from the
  ``metric_sets`` sideload, SLA breach times from ``slas`` when enabled;
* the export has its own budget of 10 requests per minute (30 with High Volume).
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from empathy_firewall.connectors.base import Bookmark
from empathy_firewall.connectors.paging import Pager, Record, Step, json_of
from empathy_firewall.models import Ticket
from empathy_firewall.wire import HttpRequest, HttpResponse
from empathy_firewall_zendesk.client import ZendeskClient
from empathy_firewall_zendesk.config import ZendeskConfig
from empathy_firewall_zendesk.parse import (
    ParseContext,
    export_stamp,
    index_by_id,
    normalize_ticket,
    parse_export,
)

__all__ = [
    "EXPORT_PATH",
    "AgentDirectory",
    "ExportPager",
    "ExportState",
    "Thread",
    "count_open",
    "list_agents",
    "list_audits",
    "list_comments",
    "missing_organizations",
]

EXPORT_PATH = "/api/v2/incremental/tickets/cursor.json"
_MAX_COMMENT_PAGES = 50


def _cursor_pages(
    client: ZendeskClient,
    path: str,
    params: Mapping[str, str],
    *,
    purpose: str,
    item: str | None = None,
) -> Iterator[Mapping[str, Any]]:
    """Bodies of a cursor-paginated (``meta.has_more``) or offset-paginated
    (``next_page``) list, at most ``_MAX_COMMENT_PAGES`` of them."""
    query = dict(params)
    url = path
    for _ in range(_MAX_COMMENT_PAGES):
        body = client.request("GET", url, params=query, purpose=purpose, item=item)
        if not isinstance(body, Mapping):
            return
        yield body
        meta = body.get("meta")
        after = meta.get("after_cursor") if isinstance(meta, Mapping) else None
        if isinstance(meta, Mapping) and meta.get("has_more") is True and after:
            query = {**query, "page[after]": str(after)}
            continue
        following = body.get("next_page")
        if isinstance(following, str) and following.startswith("http") and following != url:
            url, query = following, {}
            continue
        return


def list_comments(
    client: ZendeskClient, ticket_id: str, users: dict[str, Mapping[str, Any]] | None = None
) -> list[Mapping[str, Any]]:
    """All comments of a ticket (cursor pagination, 100 per page, oldest first).

    Sideloaded users are merged into ``users`` when given.
    """
    out: list[Mapping[str, Any]] = []
    params = {"page[size]": str(client.config.comments_page_size), "include": "users"}
    path = f"/api/v2/tickets/{ticket_id}/comments.json"
    for body in _cursor_pages(client, path, params, purpose="comments", item=ticket_id):
        comments = body.get("comments")
        if isinstance(comments, list):
            out.extend(c for c in comments if isinstance(c, Mapping))
        if users is not None:
            users.update(index_by_id(body.get("users")))
    return out


def list_audits(client: ZendeskClient, ticket_id: str) -> list[Mapping[str, Any]]:
    """All audits of a ticket, oldest first (cursor pagination, 100 per page).

    Audits hold the ticket's comments as well as its history, so reading them replaces the
    comments call: history costs no extra request per ticket.
    """
    out: list[Mapping[str, Any]] = []
    params = {"page[size]": str(client.config.audits_page_size)}
    for body in _cursor_pages(
        client, f"/api/v2/tickets/{ticket_id}/audits.json", params, purpose="audits", item=ticket_id
    ):
        audits = body.get("audits")
        if isinstance(audits, list):
            out.extend(a for a in audits if isinstance(a, Mapping))
    return out


@dataclass(frozen=True, slots=True)
class AgentDirectory:
    """The account's agents: users (with user fields), groups, and group ids per agent."""

    users: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    groups: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    memberships: dict[str, tuple[str, ...]] = field(default_factory=dict)


def list_agents(client: ZendeskClient) -> AgentDirectory:
    """Every agent in a group, from ``GET /api/v2/group_memberships`` with users and groups
    sideloaded: one request per 100 memberships."""
    directory = AgentDirectory()
    members: dict[str, list[str]] = {}
    params = {"page[size]": "100", "include": "users,groups"}
    for body in _cursor_pages(client, "/api/v2/group_memberships.json", params, purpose="agents"):
        directory.users.update(index_by_id(body.get("users")))
        directory.groups.update(index_by_id(body.get("groups")))
        for record in body.get("group_memberships") or ():
            if not isinstance(record, Mapping):
                continue
            user, group = record.get("user_id"), record.get("group_id")
            if user is not None and group is not None:
                members.setdefault(str(user), []).append(str(group))
    directory.memberships.update({k: tuple(dict.fromkeys(v)) for k, v in members.items()})
    return directory


def missing_organizations(
    client: ZendeskClient,
    tickets: Sequence[Mapping[str, Any]],
    users: Mapping[str, Mapping[str, Any]],
    known: Mapping[str, Mapping[str, Any]],
) -> dict[str, Mapping[str, Any]]:
    """Organisations the page refers to but the export did not sideload (``show_many``,
    100 per request; none when the sideload had them all)."""
    wanted: dict[str, None] = {}
    for ticket in tickets:
        for value in (
            ticket.get("organization_id"),
            users.get(str(ticket.get("requester_id")), {}).get("organization_id"),
        ):
            if isinstance(value, int) and value > 0 and str(value) not in known:
                wanted[str(value)] = None
    found: dict[str, Mapping[str, Any]] = {}
    ids = list(wanted)
    for start in range(0, len(ids), 100):
        body = client.request(
            "GET",
            "/api/v2/organizations/show_many.json",
            params={"ids": ",".join(ids[start : start + 100])},
            purpose="organizations",
        )
        if isinstance(body, Mapping):
            found.update(index_by_id(body.get("organizations")))
    return found


def count_open(client: ZendeskClient, agent_id: str) -> int | None:
    """Open tickets assigned to an agent, by the search count API (one request):
    ``type:ticket assignee:ID status<solved``. None when Zendesk gives no count."""
    body = client.request(
        "GET",
        "/api/v2/search/count.json",
        params={"query": f"type:ticket assignee:{agent_id} status<solved"},
        purpose="backlog_count",
        item=agent_id,
    )
    count = body.get("count") if isinstance(body, Mapping) else None
    return count if isinstance(count, int) and count >= 0 else None


@dataclass(frozen=True, slots=True)
class ExportState:
    """Where an export run is: the parse context (sideloads and agents read so far, the
    page's metric sets), the cursor or start time, and the copies handed out this run."""

    ctx: ParseContext
    cursor: str | None = None
    start_time: int | None = None
    seen: Mapping[str, tuple[int, str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Thread:
    """A ticket's comments (with their sideloaded users) or its audits."""

    comments: Sequence[Mapping[str, Any]] | None = None
    audits: Sequence[Mapping[str, Any]] | None = None
    users: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


class ExportPager(Pager[ExportState, Thread]):
    """Zendesk's export steps (see the module docstring); the core loop drives them."""

    vendor = "Zendesk"

    def __init__(
        self,
        client: Callable[[], ZendeskClient],
        config: ZendeskConfig,
        base: ParseContext,
        directory: Callable[[], AgentDirectory] = AgentDirectory,
    ) -> None:
        """``client`` is called only to read (never by :func:`.paging.parse_one`)."""
        self.client, self.config, self.base, self.directory = client, config, base, directory

    def request(self, state: ExportState, latest: int | None = None) -> HttpRequest:
        """The export request for ``state`` (its cursor, else its start time, at most
        ``latest``). Pure."""
        config = self.config
        params = {"per_page": str(config.per_page), "support_type_scope": config.support_type_scope}
        include = [*config.sideloads, *(["slas"] if config.include_slas else [])]
        if include:
            params["include"] = ",".join(include)
        if config.exclude_deleted:
            params["exclude_deleted"] = "true"
        if state.cursor is not None:
            params["cursor"] = state.cursor
        else:
            start = state.start_time or 0
            params["start_time"] = str(start if latest is None else min(start, latest))
        url = f"{config.url}{EXPORT_PATH}"
        return HttpRequest("GET", url, tuple(params.items()), purpose="export")

    def state(self, data: Mapping[str, Any], ctx: ParseContext | None = None) -> ExportState:
        """The state a bookmark's (or a test's) data describes."""
        cursor, start = data.get("cursor"), data.get("start_time")
        return ExportState(
            ctx or self.base,
            cursor if isinstance(cursor, str) else None,
            start if isinstance(start, int) else None,
            data.get("seen") or {},
        )

    def start(self, bookmark: Bookmark | None) -> tuple[HttpRequest, ExportState]:
        """Read the agents (cached) and ask from the bookmark's cursor or start time."""
        clock, directory = self.client().clock, self.directory()
        ctx = replace(
            self.base,
            users=dict(directory.users),
            groups=dict(directory.groups),
            memberships=directory.memberships,
        )
        state = self.state(bookmark.data() if bookmark is not None else {}, ctx)
        if state.cursor is None and state.start_time is None:
            lookback = timedelta(minutes=self.config.initial_lookback_minutes)
            state = replace(state, start_time=int((clock.wall() - lookback).timestamp()))
        # never closer than a minute to now: the export leaves out the last minute
        return self.request(state, int(clock.wall().timestamp()) - 61), state

    def step(self, state: ExportState, response: HttpResponse) -> Step[ExportState]:
        """Parse the export page once: tickets, sideloads, removed ids, the next cursor."""
        export = parse_export(json_of(response, "Zendesk"), seen=state.seen)
        ctx = replace(
            state.ctx,
            users={**state.ctx.users, **export.users},
            groups={**state.ctx.groups, **export.groups},
            organizations={**state.ctx.organizations, **export.organizations},
            metric_sets=export.metric_sets,
        )
        seen = {**state.seen, **{str(t["id"]): export_stamp(t) for t in export.tickets}}
        cursor = export.after_cursor or state.cursor
        after = ExportState(ctx, cursor, state.start_time, seen)
        if cursor is not None:
            bookmark = Bookmark.of({"cursor": cursor})
        else:
            bookmark = Bookmark.of({"start_time": state.start_time})
        notes = (f"dropped {export.duplicates} duplicate ticket copies",) * (export.duplicates > 0)
        ends = export.end_of_stream or export.after_cursor is None
        following = None if ends else self.request(after)
        return Step(after, bookmark, export.tickets, following, notes, export.removed)

    def prepare(self, state: ExportState, records: Sequence[Record]) -> ExportState:
        """Read the organisations the page names but the export did not sideload."""
        ctx = state.ctx
        found = missing_organizations(self.client(), records, ctx.users, ctx.organizations)
        if not found:
            return state
        return replace(state, ctx=replace(ctx, organizations={**ctx.organizations, **found}))

    def related(self, state: ExportState, record: Record) -> Thread | None:
        """The ticket's audits or comments (none when ``fetch_comments`` is off)."""
        return self.thread(str(record["id"])) if self.config.fetch_comments else None

    def thread(self, tid: str) -> Thread:
        """Read a ticket's audits (``history = "audits"``) or its comments."""
        if self.config.history == "audits":
            return Thread(audits=list_audits(self.client(), tid))
        users: dict[str, Mapping[str, Any]] = {}
        return Thread(comments=list_comments(self.client(), tid, users), users=users)

    def ticket(self, state: ExportState, record: Record, related: Thread | None) -> Ticket:
        """Normalize one exported ticket with its thread."""
        ctx = state.ctx
        if related is None:
            return normalize_ticket(record, ctx=ctx)
        if related.users:
            ctx = replace(ctx, users=ChainMap(dict(related.users), dict(ctx.users)))
        return normalize_ticket(record, comments=related.comments, audits=related.audits, ctx=ctx)
