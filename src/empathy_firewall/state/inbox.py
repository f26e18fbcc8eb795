"""The webhook inbox: verified events wait here until a worker claims and finishes them.

``put`` is idempotent on ``(connector, account, dedupe_key)``: a redelivered webhook is
stored once. ``claim`` hands pending items (and items whose claim expired) to one worker:
on PostgreSQL the candidates are read with ``FOR UPDATE SKIP LOCKED``, so concurrent
workers never wait on each other; on every backend the claim itself is a guarded UPDATE
per item, so an item is never claimed twice. Used by the webhook worker (issue 6).

On PostgreSQL a claim is one ``WITH picked AS MATERIALIZED (SELECT ... FOR UPDATE SKIP
LOCKED LIMIT n) UPDATE ... RETURNING`` and :func:`complete_many` marks a whole batch done
in one statement; both commit without waiting for the disk
(:func:`~empathy_firewall.state.sql.relax_commit`): losing either on a server crash only
hands an item out again, and the ledger, committed durably before an item is done, stops
a second write (docs/webhooks.md).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select, union_all

from empathy_firewall.state import schema as t
from empathy_firewall.state.sql import relax_commit
from empathy_firewall.state.store import StateStore, upsert

__all__ = [
    "InboxItem",
    "claim",
    "claimable",
    "complete",
    "complete_many",
    "fail",
    "new_row",
    "next_claim_at",
    "put",
    "status_counts",
    "ticket_of",
    "waiting",
]

#: ids per statement (within every backend's parameter limits)
_CHUNK = 500
#: a claim picks its tickets among this many oldest claimable events
_WINDOW = 10_000
#: the first key of the two-key advisory locks a claim takes per ticket ("efcl")
_CLAIM_LOCK = 0x6566_636C


@dataclass(frozen=True, slots=True)
class InboxItem:
    """One claimed webhook event."""

    id: int
    connector: str
    account: str
    dedupe_key: str
    payload: str
    attempts: int


_ITEM_COLUMNS = (
    t.inbox.c.id,
    t.inbox.c.connector,
    t.inbox.c.account,
    t.inbox.c.dedupe_key,
    t.inbox.c.payload,
    t.inbox.c.attempts,
)


def ticket_of(payload: str) -> str | None:
    """The ticket an inbox payload names (``"ticket"``, a non-empty string), else None."""
    try:
        data = json.loads(payload)
    except ValueError:
        return None
    ticket = data.get("ticket") if isinstance(data, dict) else None
    return ticket[:300] if isinstance(ticket, str) and ticket else None


def new_row(
    connector: str, account: str, dedupe_key: str, payload: str, received_at: datetime
) -> dict[str, object]:
    """The inbox row of a newly stored event (pending, no attempt yet, its ticket named)."""
    return {
        "connector": connector,
        "account": account,
        "dedupe_key": dedupe_key,
        "payload": payload,
        "ticket": ticket_of(payload),
        "received_at": received_at,
        "status": "pending",
        "attempts": 0,
    }


def claimable(now: datetime) -> ColumnElement[bool]:
    """The items a claim may hand out at ``now``: pending, or claimed with the claim expired
    (a dead worker's item, or one whose retry backoff has ended)."""
    ib = t.inbox
    return or_(ib.c.status == "pending", (ib.c.status == "claimed") & (ib.c.claimed_until < now))


def put(store: StateStore, connector: str, account: str, dedupe_key: str, payload: str) -> bool:
    """Store an event; False when the dedupe key was already there (a redelivery)."""
    with store.engine.begin() as conn:
        stmt = upsert(conn, t.inbox, ("connector", "account", "dedupe_key"), None)
        stored = conn.execute(
            stmt.returning(t.inbox.c.id),
            new_row(connector, account, dedupe_key, payload, datetime.now(UTC)),
        ).first()
    return stored is not None


def _oldest(can_claim: ColumnElement[bool], max_attempts: int, *extra: Any) -> Select[Any]:
    """The oldest claimable events with attempts left, which a claim picks its tickets
    among (``_WINDOW`` of them, so a claim costs the same on any backlog): the columns a
    ticket's settling needs, and ``extra`` ones."""
    ib = t.inbox
    return (
        select(*extra, ib.c.connector, ib.c.account, ib.c.ticket, ib.c.received_at)
        .where(can_claim, ib.c.attempts < max_attempts)
        .order_by(ib.c.id)
        .limit(_WINDOW)
    )


def claim(
    store: StateStore,
    worker: str,
    *,
    limit: int = 10,
    lease: timedelta = timedelta(minutes=5),
    max_attempts: int = 5,
    settle: timedelta = timedelta(0),
    settle_max: timedelta = timedelta(seconds=30),
    max_items: int = 1000,
) -> list[InboxItem]:
    """Claim the items of up to ``limit`` tickets for ``worker``, oldest ticket first.

    A ticket's events are one piece of work (the worker re-reads the ticket once), so every
    claimable item of a chosen ticket is claimed together, up to ``max_items`` in all. A
    ticket is chosen once it has *settled*: its newest claimable event is at least
    ``settle`` old, or its oldest is ``settle_max`` old (a ticket that never goes quiet
    still gets processed). Items that name no ticket (stored before schema v7) are claimed
    one by one, at once. Tickets are picked among the oldest 10,000 claimable events, so a
    claim costs the same however long the backlog.
    """
    ib = t.inbox
    now = datetime.now(UTC)
    can_claim = claimable(now)
    # the oldest claimable events only (a long backlog is not grouped whole on every
    # claim); a chosen ticket still brings every claimable event it has, older or newer
    window = _oldest(can_claim, max_attempts, ib.c.id).subquery("oldest")
    # one group per ticket; an item without a ticket is a group of its own
    lone = case((window.c.ticket.is_(None), window.c.id), else_=None)
    first = func.min(window.c.id)
    settled = (
        select(
            window.c.connector,
            window.c.account,
            window.c.ticket,
            lone.label("lone"),
            first.label("first"),
            func.count().label("events"),
            func.sum(func.count()).over(order_by=first).label("running"),
        )
        .group_by(window.c.connector, window.c.account, window.c.ticket, lone)
        .having(
            or_(
                window.c.ticket.is_(None),
                func.max(window.c.received_at) <= now - settle,
                func.min(window.c.received_at) <= now - settle_max,
            )
        )
        .subquery("settled")
    )
    # whole tickets only: the tickets whose events fit in ``max_items`` (at least the
    # first), so that no ticket is cut in two and read twice
    whole = (
        select(settled.c.connector, settled.c.account, settled.c.ticket, settled.c.lone)
        .where(or_(settled.c.running <= max_items, settled.c.running == settled.c.events))
        .order_by(settled.c.first)
    )
    postgres = store.engine.dialect.name == "postgresql"
    if postgres:
        # two workers claiming at the same moment would split a ticket's events between
        # them (row locks are taken one by one) and both read the ticket: a ticket is
        # taken under a transaction-scoped advisory lock, tried in order and skipped when
        # another claim holds it. OFFSET 0 fences the subquery: without it PostgreSQL
        # pushes the lock call down below the ordering and locks every settled ticket
        ordered = whole.offset(0).subquery("ordered")
        key = func.concat_ws(
            "/", ordered.c.connector, ordered.c.account, ordered.c.ticket, ordered.c.lone
        )
        ready = (
            select(ordered.c.connector, ordered.c.account, ordered.c.ticket, ordered.c.lone)
            .where(func.pg_try_advisory_xact_lock(_CLAIM_LOCK, func.hashtext(key)))
            .limit(limit)
            .cte("ready")
            .prefix_with("MATERIALIZED")
        )
    else:
        ready = whole.limit(limit).cte("ready")
    # the chosen tickets' events through the ticket index, and the chosen lone items by
    # id: two joins, not a filter on every backlog row (a filter with IN lists made the
    # claim read the whole backlog by id: 19 of 30 ms at 100,000 events)
    waiting_now = (can_claim, ib.c.attempts < max_attempts)
    of_tickets = (
        select(ib.c.id)
        .join(
            ready,
            and_(
                ib.c.connector == ready.c.connector,
                ib.c.account == ready.c.account,
                ib.c.ticket == ready.c.ticket,
            ),
        )
        .where(*waiting_now)
    )
    lone_items = select(ib.c.id).join(ready, ib.c.id == ready.c.lone).where(*waiting_now)
    members = union_all(of_tickets, lone_items).subquery("members")
    chosen = select(members.c.id).order_by(members.c.id).limit(max_items)
    candidates = select(ib.c.id).where(ib.c.id.in_(chosen), *waiting_now).order_by(ib.c.id)
    values = {
        "status": "claimed",
        "claimed_by": worker,
        "claimed_until": now + lease,
        "attempts": ib.c.attempts + 1,
    }
    with store.engine.begin() as conn:
        if postgres:
            relax_commit(conn)  # a lost claim only hands the item out again
            # a materialized CTE: the locked, limited pick runs once (an IN subquery may be
            # rescanned by the planner and hand out more than ``max_items`` rows)
            picked = (
                candidates.with_for_update(skip_locked=True, of=ib)
                .cte("picked")
                .prefix_with("MATERIALIZED")
            )
            claimed = conn.execute(
                ib.update()
                .where(ib.c.id == picked.c.id, can_claim)
                .values(**values)
                .returning(*_ITEM_COLUMNS)
            ).all()
            return sorted((InboxItem(*row) for row in claimed), key=lambda item: item.id)
        ids = conn.execute(candidates).scalars().all()
        if not ids:
            return []
        conn.execute(ib.update().where(ib.c.id.in_(ids), can_claim).values(**values))
        rows = conn.execute(
            select(*_ITEM_COLUMNS)
            .where(ib.c.id.in_(ids), ib.c.claimed_by == worker, ib.c.status == "claimed")
            .order_by(ib.c.id)
        ).all()
    return [InboxItem(*row) for row in rows]


def next_claim_at(
    store: StateStore,
    *,
    max_attempts: int = 5,
    settle: timedelta = timedelta(0),
    settle_max: timedelta = timedelta(seconds=30),
) -> datetime | None:
    """The earliest moment a :func:`claim` with these settings could find something among
    the items stored now: a waiting ticket settles, or a claim (or a retry's backoff)
    ends; ``now`` when something is claimable; None when nothing waits.

    New events cannot be claimed before they settle, so a worker whose claim found
    nothing can sleep until ``min(next_claim_at, now + settle)`` and miss nothing: during
    a burst (every ticket still receiving events) it polls once per ``settle`` instead of
    every idle interval.
    """
    ib = t.inbox
    now = datetime.now(UTC)
    window = _oldest(claimable(now), max_attempts).cte("oldest")  # read once, used thrice
    per_ticket = (
        select(func.max(window.c.received_at).label("newest"))
        .where(window.c.ticket.is_not(None))
        .group_by(window.c.connector, window.c.account, window.c.ticket)
        .subquery("per_ticket")
    )
    # a ticket settles at min(newest + settle, oldest + settle_max); the earliest over
    # all tickets is min(earliest newest + settle, earliest oldest + settle_max)
    query = select(
        select(func.count()).select_from(window).where(window.c.ticket.is_(None)).scalar_subquery(),
        select(func.min(per_ticket.c.newest)).scalar_subquery(),
        select(func.min(window.c.received_at)).scalar_subquery(),
        select(func.min(ib.c.claimed_until))
        .where(ib.c.status == "claimed", ib.c.claimed_until >= now, ib.c.attempts < max_attempts)
        .scalar_subquery(),
    )
    with store.engine.connect() as conn:
        lone, quietest, oldest, lease_ends = conn.execute(query).one()
    if lone:  # an item stored before schema 7 names no ticket: claimable at once
        return now
    # the columns are UTCDateTime, and min/max keep their type: aware datetimes on both
    moments: list[datetime] = [] if lease_ends is None else [lease_ends]
    if quietest is not None and oldest is not None:
        moments.append(min(quietest + settle, oldest + settle_max))
    return max(now, min(moments)) if moments else None


def waiting(store: StateStore, *, max_attempts: int = 5) -> int:
    """Items a claim could hand out now or once their ticket settles (pending or with an
    expired claim, attempts left); 0 means a claim that found nothing found the inbox empty."""
    ib = t.inbox
    with store.engine.connect() as conn:
        found = conn.execute(
            select(func.count()).where(claimable(datetime.now(UTC)), ib.c.attempts < max_attempts)
        ).scalar_one()
    return int(found)


def complete(store: StateStore, item_id: int, worker: str) -> bool:
    """Mark a claimed item done; False if the claim was lost (expired and re-claimed)."""
    ib = t.inbox
    with store.engine.begin() as conn:
        done = conn.execute(
            ib.update()
            .where(ib.c.id == item_id, ib.c.claimed_by == worker, ib.c.status == "claimed")
            .values(status="done", done_at=datetime.now(UTC), claimed_until=None)
        ).rowcount
    return bool(done)


def complete_many(store: StateStore, item_ids: Sequence[int], worker: str) -> set[int]:
    """Mark claimed items done in one statement; returns the ids whose claim was still held.

    On PostgreSQL the commit does not wait for the disk: if a crash undoes it, the items'
    claims expire and they are processed again with ``verify``, where the durable ledger
    (and the markers on the tickets) drop every action already written.
    """
    ib = t.inbox
    done: set[int] = set()
    now = datetime.now(UTC)
    with store.engine.begin() as conn:
        relax_commit(conn)
        for start in range(0, len(item_ids), _CHUNK):
            rows = conn.execute(
                ib.update()
                .where(
                    ib.c.id.in_(list(item_ids[start : start + _CHUNK])),
                    ib.c.claimed_by == worker,
                    ib.c.status == "claimed",
                )
                .values(status="done", done_at=now, claimed_until=None)
                .returning(ib.c.id)
            ).all()
            done.update(int(row[0]) for row in rows)
    return done


def fail(store: StateStore, item_id: int, worker: str, error: str, *, final: bool = False) -> bool:
    """Release a claimed item for a retry (or park it as ``failed``), keeping the error."""
    ib = t.inbox
    with store.engine.begin() as conn:
        done = conn.execute(
            ib.update()
            .where(ib.c.id == item_id, ib.c.claimed_by == worker, ib.c.status == "claimed")
            .values(
                status="failed" if final else "pending",
                claimed_by=None,
                claimed_until=None,
                last_error=error[:2000],
            )
        ).rowcount
    return bool(done)


def status_counts(store: StateStore) -> dict[str, int]:
    """How many inbox items are in each status."""
    ib = t.inbox
    with store.engine.connect() as conn:
        rows = conn.execute(select(ib.c.status, func.count()).group_by(ib.c.status)).all()
    return {status: int(n) for status, n in rows}
