"""Polling: the cursor-based incremental ticket export, plus comments per changed ticket.

Quirks handled (see docs/zendesk.md):

* the first request sends ``start_time`` (at least a minute in the past: the export never
  returns the most recent minute), every later one only ``cursor``;
* the loop ends on ``end_of_stream`` *or* when the cursor does not advance;
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

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from empathy_firewall.connectors.base import Bookmark, Page, RawPage
from empathy_firewall.errors import SkipError
from empathy_firewall_zendesk.client import ZendeskClient
from empathy_firewall_zendesk.parse import export_stamp, index_by_id, parse_export

__all__ = [
    "EXPORT_PATH",
    "AgentDirectory",
    "count_open",
    "list_agents",
    "list_audits",
    "list_comments",
    "missing_organizations",
    "poll_pages",
]

EXPORT_PATH = "/api/v2/incremental/tickets/cursor.json"
_MAX_COMMENT_PAGES = 50


def list_comments(
    client: ZendeskClient, ticket_id: str, users: dict[str, Mapping[str, Any]] | None = None
) -> list[Mapping[str, Any]]:
    """All comments of a ticket (cursor pagination, 100 per page, oldest first).

    Sideloaded users are merged into ``users`` when given.
    """
    out: list[Mapping[str, Any]] = []
    params = {"page[size]": str(client.config.comments_page_size), "include": "users"}
    for _ in range(_MAX_COMMENT_PAGES):
        body = client.request(
            "GET",
            f"/api/v2/tickets/{ticket_id}/comments.json",
            params=params,
            purpose="comments",
            item=ticket_id,
        )
        if not isinstance(body, Mapping):
            break
        comments = body.get("comments")
        if isinstance(comments, list):
            out.extend(c for c in comments if isinstance(c, Mapping))
        if users is not None:
            users.update(index_by_id(body.get("users")))
        meta = body.get("meta")
        after = meta.get("after_cursor") if isinstance(meta, Mapping) else None
        if not (isinstance(meta, Mapping) and meta.get("has_more") is True and after):
            break
        params = {**params, "page[after]": str(after)}
    return out


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


class PageReader(Protocol):
    """What the paging loop needs from the connector (kept structural, so this module
    does not import the connector module that imports it)."""

    def directory(self) -> AgentDirectory:
        """The account's agents and groups."""
        ...

    def parse_page(self, raw: RawPage) -> Page:
        """Normalize one export page."""
        ...


def poll_pages(
    connector: PageReader, client: ZendeskClient, bookmark: Bookmark | None
) -> Iterator[Page]:
    """Yield normalized pages from ``bookmark`` until the export reaches the present."""
    config = client.config
    state: dict[str, Any] = bookmark.data() if bookmark is not None else {}
    cursor = state.get("cursor") if isinstance(state.get("cursor"), str) else None
    start_time = state.get("start_time")
    if cursor is None and not isinstance(start_time, int):
        start = client.clock.wall() - timedelta(minutes=config.initial_lookback_minutes)
        start_time = int(start.timestamp())
    directory = connector.directory()
    users: dict[str, Mapping[str, Any]] = dict(directory.users)
    groups: dict[str, Mapping[str, Any]] = dict(directory.groups)
    organizations: dict[str, Mapping[str, Any]] = {}
    seen: dict[str, tuple[int, str]] = {}
    while True:
        params = {"per_page": str(config.per_page), "support_type_scope": config.support_type_scope}
        include = [*config.sideloads, *(["slas"] if config.include_slas else [])]
        if include:
            params["include"] = ",".join(include)
        if config.exclude_deleted:
            params["exclude_deleted"] = "true"
        if cursor is not None:
            params["cursor"] = cursor
        else:
            # never closer than a minute to now: the export leaves out the last minute
            latest = int(client.clock.wall().timestamp()) - 61
            params["start_time"] = str(min(int(start_time or 0), latest))
        body = client.request("GET", EXPORT_PATH, params=params, purpose="export")
        export = parse_export(body, seen=seen)
        users.update(export.users)
        groups.update(export.groups)
        organizations.update(export.organizations)
        organizations.update(missing_organizations(client, export.tickets, users, organizations))
        comments: dict[str, list[Mapping[str, Any]]] = {}
        audits: dict[str, list[Mapping[str, Any]]] = {}
        vanished: list[str] = []
        if config.fetch_comments:
            for ticket in export.tickets:
                tid = str(ticket["id"])
                try:
                    if config.history == "audits":
                        audits[tid] = list_audits(client, tid)
                    else:
                        comments[tid] = list_comments(client, tid, users)
                except SkipError:
                    vanished.append(tid)  # deleted between the export and this read
        page = connector.parse_page(
            RawPage(
                body=body,
                related={
                    "comments": comments,
                    "audits": audits,
                    "users": users,
                    "groups": groups,
                    "organizations": organizations,
                    "memberships": directory.memberships,
                    "seen": dict(seen),
                    "cursor": cursor,
                    "start_time": start_time,
                    "vanished": vanished,
                },
            )
        )
        for ticket in export.tickets:
            seen[str(ticket["id"])] = export_stamp(ticket)
        yield page
        if not page.more:
            return
        cursor = export.after_cursor
