"""Polling: ``GET /api/v2/tickets`` by ``updated_since``, plus conversations per changed ticket.

Freshdesk's list is page-numbered, stops at 300 pages and, without ``updated_since``,
only shows tickets created in the last 30 days. Page numbers over a list ordered by
``updated_at`` also shift whenever a listed ticket changes (our own write-back between
pages does exactly that), which silently skips tickets. So the loop restarts the query
from the newest ``updated_at`` it has seen after every page (keyset pagination) and only
turns the page when a whole page shares the same time; the 300-page cap is then reached
only if more than 30,000 tickets changed within one overlap window, and the run stops
there with a note instead of failing.

* Every query has ``updated_since`` (never the 30-day default window), is ordered by
  ``updated_at`` ascending, 100 per page, with the includes worth their cost (``stats``
  for SLA and friction timestamps, ``requester`` for names, ``description`` for the
  customer's first message: a few credits per 100 tickets).
* Restarts overlap the last ``overlap_seconds``; copies already handed out (same id, same
  ``updated_at``) are dropped, within a run and across runs (the bookmark keeps them).
* A run reads what changed before it started (the server's ``Date`` at its first list
  call); later changes, our own write-back included, are left to the next run.
* Changes within ``settle_seconds`` of that moment are handed out but not remembered in
  the bookmark (``updated_at`` has one-second precision): the next run reads them again.
* Agents and groups are read once per run, lazily (only when a page has tickets).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from empathy_firewall.connectors.base import Bookmark
from empathy_firewall.connectors.paging import Pager, Record, Step, json_of
from empathy_firewall.errors import SkipError
from empathy_firewall.models import Ticket
from empathy_firewall.wire import HttpRequest, HttpResponse
from empathy_firewall_freshdesk.client import LIST_PATH, FreshdeskClient
from empathy_firewall_freshdesk.parse import (
    ParseContext,
    index_by_id,
    next_link,
    normalize_ticket,
    parse_ticket_list,
    parse_time,
)

__all__ = [
    "ListPager",
    "ListState",
    "People",
    "Watermark",
    "count_open",
    "iso",
    "list_conversations",
    "server_now",
    "until_cutoff",
]


def iso(moment: datetime) -> str:
    """Freshdesk's timestamp format (UTC, seconds)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class Watermark:
    """The resume point: the newest ``updated_at`` handed out and the copies near it.

    ``seen`` maps ticket ids to their ``updated_at`` for tickets within ``overlap`` of the
    watermark: exactly the ones a restart from ``since - overlap`` lists again. Pure.
    """

    def __init__(self, since: datetime, seen: Mapping[str, str], overlap: timedelta) -> None:
        self.since = since
        self.seen = dict(seen)
        self.overlap = overlap

    @classmethod
    def from_bookmark(
        cls, bookmark: Bookmark | None, *, default: datetime, overlap: timedelta
    ) -> Watermark:
        """Decode a bookmark made by :meth:`bookmark` (None: start at ``default``)."""
        data: dict[str, Any] = bookmark.data() if bookmark is not None else {}
        since = parse_time(data.get("since"))
        start = data.get("start_time")  # the sync job's generic backfill bookmark
        if since is None and isinstance(start, int | float) and not isinstance(start, bool):
            since = datetime.fromtimestamp(start, tz=UTC)
        since = since or default
        raw_seen = data.get("seen")
        seen = (
            {str(k): v for k, v in raw_seen.items() if isinstance(v, str)}
            if isinstance(raw_seen, Mapping)
            else {}
        )
        return cls(since, seen, overlap)

    @property
    def query_since(self) -> datetime:
        """The ``updated_since`` to ask for: the watermark minus the overlap."""
        return self.since - self.overlap

    def advanced(
        self, tickets: list[Mapping[str, Any]], horizon: datetime | None = None
    ) -> Watermark:
        """The watermark after handing out ``tickets``.

        Tickets changed after ``horizon`` (the server's "now" minus a settling margin) are
        not remembered: Freshdesk's ``updated_at`` has one-second precision, so a change in
        the same second as our read would otherwise look like the copy we already have.
        They are listed (and handed out) again by the next run instead.
        """
        since = self.since
        seen = dict(self.seen)
        for ticket in tickets:
            updated = parse_time(ticket.get("updated_at"))
            if updated is None or (horizon is not None and updated > horizon):
                continue
            seen[str(ticket.get("id"))] = iso(updated)
            since = max(since, updated)
        floor = since - self.overlap
        kept = {k: v for k, v in seen.items() if (parse_time(v) or since) >= floor}
        return Watermark(since, kept, self.overlap)

    def bookmark(self) -> Bookmark:
        """The bookmark to persist."""
        return Bookmark.of({"since": iso(self.since), "seen": dict(sorted(self.seen.items()))})


def server_now(headers: Mapping[str, str], fallback: datetime) -> datetime:
    """The server's clock from the HTTP ``Date`` header (our own clock when absent)."""
    value = headers.get("date") or headers.get("Date")
    if value:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return fallback
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return fallback


def until_cutoff(body: object, cutoff: datetime) -> tuple[list[Any], bool]:
    """The list records changed before ``cutoff``, and whether any came at or after it.

    A run reads the tickets that changed before it started; later changes (our own
    write-back among them) are the next run's, so a run always ends and never reads a
    ticket twice because it wrote to it (the cutoff's own second included: a write in the
    run's first second would otherwise come back). Pure.
    """
    if not isinstance(body, list):
        return [], False
    kept: list[Any] = []
    later = False
    for record in body:
        updated = parse_time(record.get("updated_at")) if isinstance(record, Mapping) else None
        if updated is not None and updated >= cutoff:
            later = True
        else:
            kept.append(record)
    return kept, later


def list_conversations(client: FreshdeskClient, ticket_id: str) -> list[Mapping[str, Any]]:
    """All conversations of a ticket (100 per page, following ``Link``), oldest first."""
    return client.list_all(
        f"/api/v2/tickets/{ticket_id}/conversations", purpose="conversations", item=ticket_id
    )


class People:
    """Agents and groups, read once per run on first use; contacts and companies read one
    by one as tickets name them, each once per run (a contact view costs one credit)."""

    def __init__(self, client: FreshdeskClient) -> None:
        self._client = client
        self.agents: dict[str, Mapping[str, Any]] | None = None
        self.groups: dict[str, Mapping[str, Any]] | None = None
        self.contacts: dict[str, Mapping[str, Any]] = {}
        self.companies: dict[str, Mapping[str, Any]] = {}

    def load(self) -> None:
        """Read agents and groups (once)."""
        if self.agents is None:
            self.agents = index_by_id(self._client.list_all("/api/v2/agents", purpose="agents"))
        if self.groups is None:
            self.groups = index_by_id(self._client.list_all("/api/v2/groups", purpose="groups"))

    def _view(self, kind: str, rid: str) -> Mapping[str, Any]:
        try:
            body = self._client.request(
                "GET", f"/api/v2/{kind}/{rid}", purpose=kind, item=rid, idempotent=True
            )
        except SkipError:
            return {}  # deleted or merged meanwhile: unknown, not an error
        return body if isinstance(body, Mapping) else {}

    def customers(self, tickets: Iterable[Mapping[str, Any]]) -> None:
        """Read the contacts (and their companies) of ``tickets`` not read yet."""
        for ticket in tickets:
            rid = ticket.get("requester_id")
            if isinstance(rid, int) and not isinstance(rid, bool) and str(rid) not in self.contacts:
                self.contacts[str(rid)] = self._view("contacts", str(rid))
            contact = self.contacts.get(str(rid), {})
            for company in (ticket.get("company_id"), contact.get("company_id")):
                if isinstance(company, int) and company > 0 and str(company) not in self.companies:
                    self.companies[str(company)] = self._view("companies", str(company))


def count_open(client: FreshdeskClient, agent_id: str, statuses: Iterable[int]) -> int | None:
    """Open tickets of an agent by the filter (search) API, one request:
    ``"agent_id:ID AND (status:2 OR status:3 ...)"``; its ``total``. None without one.

    The search index lags a few minutes behind changes; good enough for a first run.
    """
    either = " OR ".join(f"status:{s}" for s in statuses)
    body = client.request(
        "GET",
        "/api/v2/search/tickets",
        params={"query": f'"agent_id:{agent_id} AND ({either})"'},
        purpose="backlog_count",
        item=agent_id,
    )
    total = body.get("total") if isinstance(body, Mapping) else None
    return total if isinstance(total, int) and not isinstance(total, bool) and total >= 0 else None


@dataclass(frozen=True, slots=True)
class ListState:
    """Where a list run is: the watermark to persist, the query (``updated_since`` and page
    number), every copy handed out this run (settled or not), and the server's clock at the
    first list call (None before it)."""

    mark: Watermark
    since: datetime
    page: int = 1
    handed: Mapping[str, str] = field(default_factory=dict)
    cutoff: datetime | None = None


class ListPager(Pager[ListState, list[Mapping[str, Any]]]):
    """Freshdesk's list steps (see the module docstring); the core loop drives them."""

    vendor = "Freshdesk"

    def __init__(
        self,
        client: FreshdeskClient,
        people: People,
        context: Callable[[Mapping[str, Any]], ParseContext],
    ) -> None:
        self.client, self.config, self.people, self.context = client, client.config, people, context

    def request(self, state: ListState) -> HttpRequest:
        """The list request for ``state``. Pure."""
        params = {
            "updated_since": iso(state.since),
            "order_by": "updated_at",
            "order_type": "asc",
            "per_page": str(self.config.per_page),
            "page": str(state.page),
        }
        if self.config.includes:
            params["include"] = ",".join(self.config.includes)
        url = f"{self.client.base_url}{LIST_PATH}"
        return HttpRequest("GET", url, tuple(params.items()), purpose="list_tickets")

    def start(self, bookmark: Bookmark | None) -> tuple[HttpRequest, ListState]:
        """Ask from the bookmark's watermark minus the overlap."""
        overlap = timedelta(seconds=self.config.overlap_seconds)
        default = self.client.clock.wall() - timedelta(minutes=self.config.initial_lookback_minutes)
        mark = Watermark.from_bookmark(bookmark, default=default, overlap=overlap)
        state = ListState(mark, mark.query_since)
        return self.request(state), state

    def step(self, state: ListState, response: HttpResponse) -> Step[ListState]:
        """Parse the list page once; restart the query after its newest change, turn the
        page within a same-second crowd (held until its last page), or stop."""
        config, mark = self.config, state.mark
        overlap = timedelta(seconds=config.overlap_seconds)
        cutoff = state.cutoff or server_now(response.headers, self.client.clock.wall())
        body, reached_present = until_cutoff(json_of(response, "Freshdesk"), cutoff)
        has_next = next_link(response.headers) is not None and not reached_present
        listing = parse_ticket_list(body, seen={**mark.seen, **state.handed})
        full = not reached_present and (has_next or listing.count >= config.per_page)
        after = mark.advanced(
            list(listing.tickets), cutoff - timedelta(seconds=config.settle_seconds)
        )
        notes = [f"dropped {listing.duplicates} duplicate ticket copies"] * (listing.duplicates > 0)
        more, since, page, turned = full, state.since, state.page, False
        # Restart from the newest change on this page (settled or not: ``handed`` drops the
        # copies within the run); the bookmark's watermark only moves with settled ones.
        restart = listing.newest - overlap if listing.newest is not None else since
        if full and restart > since:
            since, page = restart, 1  # keyset restart
        elif full and page >= config.max_pages:
            # Freshdesk lists no further: step past this window rather than re-reading the
            # same pages on every run. Only a bulk change of more than 30,000 tickets within
            # one overlap window can get here.
            more = False
            notes.append(
                f"more than {config.max_pages} pages of tickets changed within "
                f"{config.overlap_seconds}s of {iso(after.since)}; Freshdesk lists no "
                "further, so the rest of that window was skipped (re-sync it with an "
                "earlier start if it matters)"
            )
            after = Watermark(after.since + overlap + timedelta(seconds=1), {}, overlap)
        elif full:
            page, turned = page + 1, True  # a whole page within the overlap: turn the page
        handed = {
            **state.handed,
            **{str(t["id"]): str(t.get("updated_at")) for t in listing.tickets},
        }
        nxt = ListState(after, since, page, handed, cutoff)
        # Page numbers within a crowd of tickets changed in the same second only hold still
        # while nobody writes to them: the crowd goes out in one page, after its last page is
        # read, so our own write-back cannot shift a page we have not read.
        following = self.request(nxt) if more else None
        return Step(nxt, after.bookmark(), listing.tickets, following, tuple(notes), hold=turned)

    def prepare(self, state: ListState, records: Sequence[Record]) -> ListState:
        """Read agents and groups (once) and the customers the page names."""
        self.people.load()
        if self.config.fetch_contacts:
            self.people.customers(records)
        return state

    def related(self, state: ListState, record: Record) -> list[Mapping[str, Any]] | None:
        """The ticket's conversations (none when ``fetch_conversations`` is off)."""
        if not self.config.fetch_conversations:
            return None
        return list_conversations(self.client, str(record["id"]))

    def ticket(
        self, state: ListState, record: Record, related: list[Mapping[str, Any]] | None
    ) -> Ticket:
        """Normalize one listed ticket with its conversations."""
        people = self.people
        ctx = self.context(
            {
                "agents": people.agents or {},
                "groups": people.groups or {},
                "contacts": people.contacts,
                "companies": people.companies,
            }
        )
        return normalize_ticket(record, conversations=related or (), ctx=ctx)
