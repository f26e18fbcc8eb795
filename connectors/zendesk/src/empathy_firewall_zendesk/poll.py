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

from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from empathy_firewall.connectors.base import Bookmark, Page, RawPage
from empathy_firewall.errors import SkipError
from empathy_firewall_zendesk.client import ZendeskClient
from empathy_firewall_zendesk.parse import export_stamp, index_by_id, parse_export

if TYPE_CHECKING:
    from empathy_firewall_zendesk.connector import ZendeskConnector

__all__ = ["EXPORT_PATH", "list_comments", "poll_pages"]

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


def poll_pages(
    connector: ZendeskConnector, client: ZendeskClient, bookmark: Bookmark | None
) -> Iterator[Page]:
    """Yield normalized pages from ``bookmark`` until the export reaches the present."""
    config = client.config
    state: dict[str, Any] = bookmark.data() if bookmark is not None else {}
    cursor = state.get("cursor") if isinstance(state.get("cursor"), str) else None
    start_time = state.get("start_time")
    if cursor is None and not isinstance(start_time, int):
        start = client.clock.wall() - timedelta(minutes=config.initial_lookback_minutes)
        start_time = int(start.timestamp())
    users: dict[str, Mapping[str, Any]] = {}
    groups: dict[str, Mapping[str, Any]] = {}
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
        comments: dict[str, list[Mapping[str, Any]]] = {}
        vanished: list[str] = []
        if config.fetch_comments:
            for ticket in export.tickets:
                tid = str(ticket["id"])
                try:
                    comments[tid] = list_comments(client, tid, users)
                except SkipError:
                    vanished.append(tid)  # deleted between the export and this read
        page = connector.parse_page(
            RawPage(
                body=body,
                related={
                    "comments": comments,
                    "users": users,
                    "groups": groups,
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
