"""Polling: TicketSQL on ``LastUpdated`` with keyset paging, and full ticket reads.

RT stores times with one-second resolution and many tickets may share a second, so the
bookmark is a key, not a time: ``{"since": "YYYY-MM-DD HH:MM:SS", "after_id": N}`` means
"every ticket updated after that second, plus those updated in that second with an id above
N". Searches are ordered by ``LastUpdated, id`` and always ask for the first page, so our
own writes (which move a ticket to the end) never shift a page under us.

Each run first reads the server's clock and only looks at tickets updated before
``server time - settle_seconds``: a write still being committed in the current second is
picked up by the next run instead of being skipped. When the run reaches the end, the
bookmark moves to that bound.

TicketSQL reads every date literal as a wall-clock time in the RT user's timezone (RT's
``$Timezone`` unless the user set one), even one that says ``+0000`` or ``Z``: literals are
written in the configured ``timezone``, and every poll first checks that RT reads them
back as meant (:func:`check_timezone`), so a wrong setting stops the run before a write.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from empathy_firewall.connectors.base import Bookmark
from empathy_firewall.connectors.paging import Pager, Step, json_of
from empathy_firewall.connectors.parsing import parse_time
from empathy_firewall.errors import ConfigError, InputError, SkipError
from empathy_firewall.models import Ticket
from empathy_firewall.wire import HttpRequest, HttpResponse
from empathy_firewall_rt.client import RtClient, server_time
from empathy_firewall_rt.config import RtConfig
from empathy_firewall_rt.parse import HISTORY_FIELDS, TICKET_FIELDS, ref_id

__all__ = ["Names", "RtPager", "check_timezone", "read_ticket", "start_position", "ticket_query"]

_FORMAT = "%Y-%m-%d %H:%M:%S"

#: (since, after_id): the keyset position of the last ticket handled
Position = tuple[datetime, int | None]


_Item = Mapping[str, Any]
#: builds a ticket from its record, history and attachments (the connector's parser)
#: a ticket's history and attachments
_Parts = tuple[list[_Item], list[_Item]]
Normalize = Callable[[_Item, Sequence[_Item], Sequence[_Item]], Ticket]


def _literal(moment: datetime, zone: ZoneInfo) -> str:
    return f"'{moment.astimezone(zone).strftime(_FORMAT)}'"


def quoted(name: str) -> str:
    """A TicketSQL string literal."""
    return "'" + name.replace("\\", "\\\\").replace("'", "\\'") + "'"


def ticket_query(queues: Sequence[str], position: Position, until: datetime, zone: ZoneInfo) -> str:
    """The TicketSQL for tickets after ``position`` and updated before ``until``. Pure."""
    since, after = position
    start, end = _literal(since, zone), _literal(since + timedelta(seconds=1), zone)
    window = f"LastUpdated >= {start}"
    if after is not None:
        window = f"(LastUpdated >= {end} OR ({window} AND LastUpdated < {end} AND id > {after}))"
    parts = [window, f"LastUpdated < {_literal(until, zone)}"]
    if queues:
        parts.insert(0, "(" + " OR ".join(f"Queue = {quoted(q)}" for q in queues) + ")")
    return " AND ".join(parts)


def encode(position: Position) -> Bookmark:
    """The bookmark for a keyset position."""
    since, after = position
    return Bookmark.of({"since": since.astimezone(UTC).strftime(_FORMAT), "after_id": after})


def start_position(bookmark: Bookmark | None, default_since: datetime) -> Position:
    """Decode a bookmark (ours, or the sync job's ``{"start_time": epoch}`` backfill)."""
    if bookmark is None:
        return default_since.replace(microsecond=0), None
    data = bookmark.data()
    if isinstance(data.get("start_time"), int | float):
        return datetime.fromtimestamp(data["start_time"], UTC).replace(microsecond=0), None
    since = data.get("since")
    after = data.get("after_id")
    try:
        moment = datetime.strptime(str(since), _FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise InputError("RT bookmark: `since` is not a time") from None
    if after is not None and not isinstance(after, int):
        raise InputError("RT bookmark: `after_id` is not a number")
    return moment, after


class Names:
    """Numeric user and queue ids from the history -> names, read once per connector."""

    def __init__(self, client: RtClient) -> None:
        self._client = client
        self._cache: dict[str, str] = {}

    def __call__(self, kind: str, ident: str) -> str:
        """The name of user/queue ``ident`` (the id itself if RT does not say)."""
        path = f"/{kind}/{ident}"
        if ident.isdigit() and path not in self._cache:
            try:
                body, _ = self._client.get(path, purpose=f"{kind}_name")
            except SkipError:
                body = None
            name = body.get("Name") if isinstance(body, Mapping) else None
            self._cache[path] = str(name or ident)
        return self._cache.get(path, ident)


def check_timezone(client: RtClient, zone: ZoneInfo) -> None:
    """Make sure RT reads our date literals in ``zone``: the first ticket must be found at
    its own ``LastUpdated`` second (tried twice, in case it changed between the reads)."""
    for _ in range(2):
        params = (("query", "id > 0"), ("per_page", "1"), ("fields", "LastUpdated"))
        first, _ = client.get("/tickets", params, purpose="timezone_check")
        items = first.get("items") if isinstance(first, Mapping) else None
        if not items or (moment := parse_time(items[0].get("LastUpdated"))) is None:
            return  # no ticket: nothing can be misread yet
        end = _literal(moment + timedelta(seconds=1), zone)
        query = f"id = {ref_id(items[0].get('id'))} AND LastUpdated >= {_literal(moment, zone)}"
        query += f" AND LastUpdated < {end}"
        found, _ = client.get("/tickets", (("query", query),), purpose="timezone_check")
        if isinstance(found, Mapping) and found.get("total"):
            return
    raise ConfigError(
        f"RT reads TicketSQL dates in another timezone than timezone = {zone.key!r}: set "
        "`timezone` to RT's $Timezone (or the RT user's timezone preference)"
    )


def read_ticket(client: RtClient, tid: str) -> Mapping[str, Any]:
    """``GET /ticket/{id}``: the full record (SkipError for a missing ticket)."""
    body, _ = client.get(f"/ticket/{tid}", purpose="read_ticket")
    if not isinstance(body, Mapping) or ref_id(body.get("id")) is None:
        raise SkipError(f"RT ticket {tid}: unreadable response", item=tid)
    return body


@dataclass(frozen=True, slots=True)
class Window:
    """Where a run is: the keyset position after the last ticket handed out, and the
    bound (server time minus the settling margin) it reads up to."""

    position: Position
    until: datetime


class RtPager(Pager[Window, _Parts]):
    """RT's paging steps (see the module docstring); the core loop drives them."""

    vendor = "RT"

    def __init__(self, client: RtClient, normalize: Normalize, config: RtConfig) -> None:
        self.client, self.normalize, self.config = client, normalize, config

    def search(self, window: Window) -> HttpRequest:
        """The search for the first page after ``window.position``. Pure."""
        config = self.config
        params = (
            ("query", ticket_query(config.queues, window.position, window.until, config.zone)),
            ("orderby", "LastUpdated"),
            ("order", "ASC"),
            ("orderby", "id"),
            ("order", "ASC"),
            ("fields", TICKET_FIELDS),
            ("fields[Queue]", "Name"),
            ("per_page", str(config.per_page)),
            ("page", "1"),
        )
        return HttpRequest("GET", f"{self.client.base_url}/tickets", params, purpose="search")

    def start(self, bookmark: Bookmark | None) -> tuple[HttpRequest, Window]:
        """Check the timezone, read the server's clock, and search from ``bookmark``."""
        lookback = timedelta(minutes=self.config.initial_lookback_minutes)
        position = start_position(bookmark, self.client.clock.wall() - lookback)
        check_timezone(self.client, self.config.zone)
        _, headers = self.client.get("/rt", purpose="server_time")
        until = server_time(headers, self.client.clock.wall())
        window = Window(position, until - timedelta(seconds=self.config.settle_seconds))
        return self.search(window), window

    def step(self, state: Window, response: HttpResponse) -> Step[Window]:
        """The page's records, and the search after its last ticket while more remain."""
        body = json_of(response, "RT")
        found = body.get("items") if isinstance(body, Mapping) else None
        records = tuple(r for r in found or () if isinstance(r, Mapping))
        total = body.get("total") if isinstance(body, Mapping) else None
        more = bool(records) and isinstance(total, int) and total > len(records)
        position = state.position
        if records:
            last = records[-1]
            moment, last_id = parse_time(last.get("LastUpdated")), ref_id(last.get("id"))
            if moment is None or last_id is None or not last_id.isdigit():
                raise InputError("RT search returned a ticket without LastUpdated or id")
            position = (moment.replace(microsecond=0), int(last_id))
        if not more and position[0] < state.until:
            position = (state.until, None)  # everything before the bound was handled
        after = Window(position, state.until)
        following = self.search(after) if more else None
        return Step(after, encode(position), records, following)

    def related(self, state: Window, record: _Item) -> _Parts:
        """The ticket's history and its attachments' text (two paged listings)."""
        tid, fields = self.ticket_id(record), (("fields", "TransactionId,ContentType,Content"),)
        history = list(self.client.items(f"/ticket/{tid}/history", (("fields", HISTORY_FIELDS),)))
        return history, list(self.client.items(f"/ticket/{tid}/attachments", fields))

    def ticket(self, state: Window, record: _Item, related: _Parts | None) -> Ticket:
        """The connector's parser on the record, its history and attachments."""
        return self.normalize(record, *(related or ([], [])))

    def ticket_id(self, record: _Item) -> str:
        """RT's ticket id (``id`` may be a reference object)."""
        return ref_id(record.get("id")) or "?"
