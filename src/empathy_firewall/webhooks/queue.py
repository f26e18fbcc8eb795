"""The webhook inbox as the receiver and the workers use it, on top of ``state.inbox``.

:mod:`empathy_firewall.state.inbox` stores, claims, completes and fails items. This module
adds what the webhook service needs around it:

* :class:`StoreInbox`, the receiver's :class:`~empathy_firewall.webhooks.handler.InboxPort`;
* :func:`claim_items`, a claim that rides out SQLite's single-writer lock and also hands
  back items whose last claim expired on their final attempt (the worker parks those);
* :func:`defer`, a retry *later*: the item stays claimed by a ``retry:`` placeholder until
  its backoff ends, and the ordinary claim (expired claims are claimable) picks it up then;
* :func:`park`, :func:`list_items`, :func:`requeue` and :func:`prune` for
  ``empathy-firewall inbox``.

A deferred item shows as ``retrying`` in :func:`list_items`; a parked one as ``failed``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from empathy_firewall.state import inbox as store_inbox
from empathy_firewall.state import schema as t
from empathy_firewall.state.inbox import InboxItem
from empathy_firewall.state.store import StateStore

__all__ = [
    "RETRY_HOLDER",
    "InboxRow",
    "StoreInbox",
    "claim_items",
    "counts",
    "defer",
    "list_items",
    "next_claim_at",
    "park",
    "prune",
    "requeue",
    "waiting_items",
]

#: the ``claimed_by`` prefix of items waiting out a backoff
RETRY_HOLDER = "retry:"
_BUSY_RETRIES = 20


def _busy(exc: OperationalError) -> bool:
    text = str(exc.orig) if exc.orig is not None else str(exc)
    return "locked" in text or "busy" in text


class StoreInbox:
    """The receiver's inbox port on a :class:`StateStore` (idempotent ``put``)."""

    def __init__(self, store: StateStore) -> None:
        self.store = store

    def __repr__(self) -> str:
        return f"StoreInbox({self.store!r})"

    def put(self, connector: str, account: str, dedupe_key: str, payload: str) -> bool:
        """Store the event; False for a redelivery (the key is already there)."""
        for attempt in range(_BUSY_RETRIES):
            try:
                return store_inbox.put(self.store, connector, account, dedupe_key, payload)
            except OperationalError as exc:
                if not _busy(exc) or attempt == _BUSY_RETRIES - 1:
                    raise
                time.sleep(0.005 * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover


def claim_items(
    store: StateStore,
    worker: str,
    *,
    limit: int,
    lease: timedelta,
    max_attempts: int,
    settle: timedelta = timedelta(0),
    settle_max: timedelta = timedelta(seconds=30),
) -> list[InboxItem]:
    """Claim the items of up to ``limit`` settled tickets (:func:`state.inbox.claim
    <empathy_firewall.state.inbox.claim>`); includes items on attempt ``max_attempts + 1``.

    Such an item's claim expired on its last attempt (its worker died mid-item): the caller
    parks it instead of leaving it behind. SQLite's "database is locked" (a writer in
    another process between our read and our update) is retried briefly.
    """
    for attempt in range(_BUSY_RETRIES):
        try:
            return store_inbox.claim(
                store,
                worker,
                limit=limit,
                lease=lease,
                max_attempts=max_attempts + 1,
                settle=settle,
                settle_max=settle_max,
            )
        except OperationalError as exc:
            if not _busy(exc) or attempt == _BUSY_RETRIES - 1:
                raise
            time.sleep(0.01 * (attempt + 1))
    raise AssertionError("unreachable")  # pragma: no cover


def next_claim_at(
    store: StateStore, *, max_attempts: int, settle: timedelta, settle_max: timedelta
) -> datetime | None:
    """When :func:`claim_items` with these settings could next find something among the
    items stored now (:func:`state.inbox.next_claim_at
    <empathy_firewall.state.inbox.next_claim_at>`, counting, as the claim does, the items
    one attempt past ``max_attempts``)."""
    return store_inbox.next_claim_at(
        store, max_attempts=max_attempts + 1, settle=settle, settle_max=settle_max
    )


def waiting_items(store: StateStore, *, max_attempts: int) -> int:
    """The items :func:`claim_items` could hand out now or once their ticket settles
    (counting, as it does, the items one attempt past ``max_attempts``)."""
    return store_inbox.waiting(store, max_attempts=max_attempts + 1)


def defer(
    store: StateStore,
    item_id: int,
    worker: str,
    error: str,
    *,
    delay: timedelta,
    count_attempt: bool = True,
) -> bool:
    """Retry ``item_id`` after ``delay``; False if ``worker`` no longer holds its claim.

    ``count_attempt=False`` gives the attempt back (the item waited for another worker's
    ticket lock; it did not fail).
    """
    ib = t.inbox
    values: dict[str, object] = {
        "claimed_by": RETRY_HOLDER + worker[:190],
        "claimed_until": datetime.now(UTC) + delay,
        "last_error": error[:2000],
    }
    if not count_attempt:
        values["attempts"] = ib.c.attempts - 1
    with store.engine.begin() as conn:
        done = conn.execute(
            ib.update()
            .where(ib.c.id == item_id, ib.c.claimed_by == worker, ib.c.status == "claimed")
            .values(**values)
        ).rowcount
    return bool(done)


def park(store: StateStore, item_id: int, worker: str, error: str) -> bool:
    """Give up on ``item_id``: status ``failed`` with its reason, until ``inbox retry``."""
    return store_inbox.fail(store, item_id, worker, error, final=True)


@dataclass(frozen=True, slots=True)
class InboxRow:
    """One inbox item as ``inbox list`` shows it (no payload: it is not for display)."""

    id: int
    connector: str
    account: str
    dedupe_key: str
    status: str
    attempts: int
    received_at: datetime
    last_error: str | None
    retry_at: datetime | None
    #: the ticket the event is about (None for items stored before schema 7)
    ticket: str | None = None

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready form."""
        return {
            "id": self.id,
            "connector": self.connector,
            "account": self.account,
            "dedupe_key": self.dedupe_key,
            "status": self.status,
            "attempts": self.attempts,
            "received_at": self.received_at.isoformat(),
            "last_error": self.last_error,
            "retry_at": None if self.retry_at is None else self.retry_at.isoformat(),
            "ticket": self.ticket,
        }


def list_items(
    store: StateStore, *, status: str | None = "failed", limit: int = 100
) -> list[InboxRow]:
    """Items in ``status`` (``failed``, ``retrying``, ``pending``, ``claimed``, ``done``;
    None for all but ``done``), oldest first."""
    ib = t.inbox
    query = select(
        ib.c.id,
        ib.c.connector,
        ib.c.account,
        ib.c.dedupe_key,
        ib.c.status,
        ib.c.attempts,
        ib.c.received_at,
        ib.c.last_error,
        ib.c.claimed_by,
        ib.c.claimed_until,
        ib.c.ticket,
    )
    if status == "retrying":
        query = query.where(ib.c.status == "claimed", ib.c.claimed_by.like(RETRY_HOLDER + "%"))
    elif status == "claimed":
        query = query.where(ib.c.status == "claimed", ~ib.c.claimed_by.like(RETRY_HOLDER + "%"))
    elif status is not None:
        query = query.where(ib.c.status == status)
    else:
        query = query.where(ib.c.status != "done")
    with store.engine.connect() as conn:
        rows = conn.execute(query.order_by(ib.c.id).limit(limit)).all()
    out: list[InboxRow] = []
    for row in rows:
        retrying = row[4] == "claimed" and (row[8] or "").startswith(RETRY_HOLDER)
        out.append(
            InboxRow(
                id=row[0],
                connector=row[1],
                account=row[2],
                dedupe_key=row[3],
                status="retrying" if retrying else row[4],
                attempts=row[5],
                received_at=row[6],
                last_error=row[7],
                retry_at=row[9] if retrying else None,
                ticket=row[10],
            )
        )
    return out


def requeue(store: StateStore, ids: Sequence[int] = (), *, all_failed: bool = False) -> int:
    """Put parked (``failed``) items back to ``pending`` with fresh attempts; the count.

    Only failed items move: a pending, claimed or done item is left as it is.
    """
    if not ids and not all_failed:
        return 0
    ib = t.inbox
    stmt = ib.update().where(ib.c.status == "failed")
    if not all_failed:
        stmt = stmt.where(ib.c.id.in_(list(ids)))
    with store.engine.begin() as conn:
        moved = conn.execute(
            stmt.values(status="pending", attempts=0, claimed_by=None, claimed_until=None)
        ).rowcount
    return int(moved)


def counts(store: StateStore) -> dict[str, int]:
    """Items per displayed status (``retrying`` split out of ``claimed``)."""
    ib = t.inbox
    retrying = ib.c.claimed_by.like(RETRY_HOLDER + "%")
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(ib.c.status, retrying, func.count()).group_by(ib.c.status, retrying)
        ).all()
    out: dict[str, int] = {}
    for status, is_retry, n in rows:
        name = "retrying" if status == "claimed" and is_retry else status
        out[name] = out.get(name, 0) + int(n)
    return out


def prune(store: StateStore, *, older_than: timedelta) -> int:
    """Delete ``done`` items finished more than ``older_than`` ago; the count.

    Their dedupe keys go with them, so keep them longer than the helpdesk redelivers
    (Freshdesk postpones webhooks up to 24 hours): a redelivery after the prune would be
    processed again (harmless: the ledger and note markers stop a second write).
    """
    ib = t.inbox
    cutoff = datetime.now(UTC) - older_than
    with store.engine.begin() as conn:
        gone = conn.execute(
            ib.delete().where(ib.c.status == "done", ib.c.done_at < cutoff)
        ).rowcount
    return int(gone)
