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

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from empathy_firewall.connectors.base import Bookmark, Page
from empathy_firewall.connectors.parsing import normalize_or_skip, parse_time
from empathy_firewall.errors import ConfigError, InputError, SkipError
from empathy_firewall.models import Ticket
from empathy_firewall_rt.client import RtClient, server_time
from empathy_firewall_rt.parse import HISTORY_FIELDS, TICKET_FIELDS, ref_id

__all__ = ["Names", "check_timezone", "poll_pages", "read_ticket", "start_position", "ticket_query"]

_FORMAT = "%Y-%m-%d %H:%M:%S"

#: (since, after_id): the keyset position of the last ticket handled
Position = tuple[datetime, int | None]


_Item = Mapping[str, Any]
#: builds a ticket from its record, history and attachments (the connector's parser)
Normalize = Callable[[_Item, Sequence[_Item], Sequence[_Item]], Ticket]


def _literal(moment: datetime, zone: ZoneInfo) -> str:
    return f"'{moment.astimezone(zone).strftime(_FORMAT)}'"


def _quoted(name: str) -> str:
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
        parts.insert(0, "(" + " OR ".join(f"Queue = {_quoted(q)}" for q in queues) + ")")
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


def ticket_parts(client: RtClient, tid: str) -> tuple[list[_Item], list[_Item]]:
    """A ticket's history and its attachments' text (two paged listings)."""
    history = list(client.items(f"/ticket/{tid}/history", (("fields", HISTORY_FIELDS),)))
    fields = (("fields", "TransactionId,ContentType,Content"),)
    return history, list(client.items(f"/ticket/{tid}/attachments", fields))


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


def poll_pages(
    client: RtClient,
    bookmark: Bookmark | None,
    normalize: Normalize,
    *,
    queues: Sequence[str],
    per_page: int,
    default_since: datetime,
    settle_seconds: int,
    zone: ZoneInfo,
) -> Iterator[Page]:
    """Pages of tickets updated after ``bookmark`` (see the module docstring)."""
    position = start_position(bookmark, default_since)
    check_timezone(client, zone)
    _, headers = client.get("/rt", purpose="server_time")
    until = server_time(headers, client.clock.wall()) - timedelta(seconds=settle_seconds)
    while True:
        params = (
            ("query", ticket_query(queues, position, until, zone)),
            ("orderby", "LastUpdated"),
            ("order", "ASC"),
            ("orderby", "id"),
            ("order", "ASC"),
            ("fields", TICKET_FIELDS),
            ("fields[Queue]", "Name"),
            ("per_page", str(per_page)),
            ("page", "1"),
        )
        body, _ = client.get("/tickets", params, purpose="search")
        records = (
            [r for r in (body.get("items") or []) if isinstance(r, Mapping)]
            if isinstance(body, Mapping)
            else []
        )
        tickets: list[Ticket] = []
        notes: list[str] = []
        for record in records:
            tid = ref_id(record.get("id")) or "?"
            try:
                history, attachments = ticket_parts(client, tid)
            except SkipError as exc:  # gone (deleted, moved out of sight) since the search
                notes.append(f"skipped ticket {tid}: {exc}")
                continue
            ticket = normalize_or_skip(tid, partial(normalize, record, history, attachments), notes)
            if ticket is not None:
                tickets.append(ticket)
        total = body.get("total") if isinstance(body, Mapping) else None
        more = bool(records) and isinstance(total, int) and total > len(records)
        if records:
            last = records[-1]
            moment = parse_time(last.get("LastUpdated"))
            last_id = ref_id(last.get("id"))
            if moment is None or last_id is None or not last_id.isdigit():
                raise InputError("RT search returned a ticket without LastUpdated or id")
            advanced = (moment.replace(microsecond=0), int(last_id))
            if more and advanced == position:
                notes.append("RT search did not advance; stopping this run")
                more = False
            position = advanced
        if not more and position[0] < until:
            position = (until, None)  # everything before the bound was handled
        yield Page(tickets=tuple(tickets), bookmark=encode(position), more=more, notes=tuple(notes))
        if not more:
            return
