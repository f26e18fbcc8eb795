"""Run locks as expiring leases in the ``ef_locks`` table, the same on every backend.

Taking a lock is one atomic statement: an INSERT (no row yet), or an UPDATE guarded by
``WHERE expires_at < now OR holder = me`` (a stale lease). A holder renews its lease while
it works; a crashed holder stops renewing, so its lease expires and the next run takes
over. A holder on the same host whose process is gone is recognised at once (its pid no
longer exists), so a ``kill -9`` never blocks the next cron run for a whole lease. Taking
over a dead holder's lease is a compare-and-swap on its holder id, so two starters
cannot both win.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError

from empathy_firewall.errors import LockHeldError
from empathy_firewall.state import schema as t
from empathy_firewall.state.sql import relax_commit
from empathy_firewall.state.store import StateStore

if TYPE_CHECKING:
    from empathy_firewall.actions import Plan

__all__ = [
    "Lease",
    "LockInfo",
    "acquire_leases",
    "acquire_lock",
    "lock_info",
    "pid_alive",
    "release_leases",
    "take_ticket_leases",
    "ticket_lock_name",
]


@dataclass(frozen=True, slots=True)
class LockInfo:
    """Who holds a lock, and until when."""

    name: str
    holder: str
    host: str
    pid: int
    acquired_at: datetime
    expires_at: datetime


def pid_alive(pid: int) -> bool:
    """True if a process with this id exists on this host."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lock_info(store: StateStore, name: str) -> LockInfo | None:
    """The current holder of ``name``, if any row exists (it may have expired)."""
    lk = t.locks
    with store.engine.connect() as conn:
        row = conn.execute(
            select(lk.c.holder, lk.c.host, lk.c.pid, lk.c.acquired_at, lk.c.expires_at).where(
                lk.c.name == name
            )
        ).first()
    return None if row is None else LockInfo(name, row[0], row[1], row[2], row[3], row[4])


class Lease:
    """A held lock. Renew it while working; release it when done (or let it expire)."""

    def __init__(self, store: StateStore, name: str, holder: str, ttl: timedelta) -> None:
        self.store = store
        self.name = name
        self.holder = holder
        self.ttl = ttl

    def renew(self) -> None:
        """Extend the lease; :class:`LockHeldError` if someone took it over meanwhile."""
        lk = t.locks
        with self.store.engine.begin() as conn:
            done = conn.execute(
                lk.update()
                .where(lk.c.name == self.name, lk.c.holder == self.holder)
                .values(expires_at=datetime.now(UTC) + self.ttl)
            ).rowcount
        if not done:
            raise LockHeldError(f"lost the lock {self.name!r} (another run took it over)")

    def release(self) -> None:
        """Give the lock up (a no-op if it was already taken over)."""
        lk = t.locks
        with self.store.engine.begin() as conn:
            conn.execute(lk.delete().where(lk.c.name == self.name, lk.c.holder == self.holder))

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, *_: object) -> None:
        self.release()


def _take(store: StateStore, name: str, holder: str, ttl: timedelta, steal: str | None) -> bool:
    lk = t.locks
    now = datetime.now(UTC)
    values = {
        "holder": holder,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "acquired_at": now,
        "expires_at": now + ttl,
    }
    try:
        with store.engine.begin() as conn:
            conn.execute(lk.insert().values(name=name, **values))
        return True
    except IntegrityError:
        pass
    guard = (lk.c.expires_at < now) | (lk.c.holder == holder)
    if steal is not None:
        guard = guard | (lk.c.holder == steal)
    with store.engine.begin() as conn:
        done = conn.execute(lk.update().where(lk.c.name == name, guard).values(**values)).rowcount
    return bool(done)


def acquire_lock(store: StateStore, name: str, *, ttl: timedelta = timedelta(minutes=10)) -> Lease:
    """Take lock ``name`` or raise :class:`LockHeldError` naming the holder at once."""
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    if _take(store, name, holder, ttl, None):
        return Lease(store, name, holder, ttl)
    info = lock_info(store, name)
    if info is not None and info.host == socket.gethostname() and not pid_alive(info.pid):
        if _take(store, name, holder, ttl, info.holder):
            return Lease(store, name, holder, ttl)
        info = lock_info(store, name)
    if info is None:  # released between our attempts
        if _take(store, name, holder, ttl, None):
            return Lease(store, name, holder, ttl)
        info = lock_info(store, name)
    where = ""
    if info is not None:
        where = f" (pid {info.pid} on {info.host}, lease until {info.expires_at:%H:%M:%S} UTC)"
    raise LockHeldError(
        f"another run holds the lock {name!r}{where}; this run exits without changes"
    )


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def acquire_leases(
    store: StateStore, names: Sequence[str], *, ttl: timedelta = timedelta(minutes=10)
) -> tuple[dict[str, Lease], list[str]]:
    """Take several locks: ``({name: lease} taken, [names another holder keeps])``.

    On PostgreSQL the free and expired ones are taken in one statement (one durable
    commit: a lease must survive a server crash, or a worker still writing to a ticket
    could meet another one there); the rest go through :func:`acquire_lock`, which also
    takes over a dead local holder's lease (a live holder's is only read: no commit). Elsewhere
    each goes through :func:`acquire_lock`.
    """
    taken: dict[str, Lease] = {}
    rest = list(dict.fromkeys(names))
    batched = bool(rest) and store.engine.dialect.name == "postgresql"
    if batched:
        holder = _holder()
        now = datetime.now(UTC)
        values = [
            {
                "name": name,
                "holder": holder,
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "acquired_at": now,
                "expires_at": now + ttl,
            }
            for name in sorted(rest)  # one order: concurrent batches never deadlock
        ]
        lk = t.locks
        stmt = postgresql.insert(lk).values(values)
        taking = stmt.on_conflict_do_update(
            index_elements=[lk.c.name],
            set_={
                c: stmt.excluded[c] for c in ("holder", "host", "pid", "acquired_at", "expires_at")
            },
            where=lk.c.expires_at < now,
        ).returning(lk.c.name)
        with store.engine.begin() as conn:
            won = {row[0] for row in conn.execute(taking)}
        taken = {name: Lease(store, name, holder, ttl) for name in rest if name in won}
        rest = [name for name in rest if name not in won]
    busy: list[str] = []
    for name in rest:
        info = lock_info(store, name) if batched else None
        if (
            info is not None
            and info.expires_at > datetime.now(UTC)
            and not (info.host == socket.gethostname() and not pid_alive(info.pid))
        ):
            busy.append(name)  # a live holder: a read, not a write that changes nothing
            continue
        try:
            taken[name] = acquire_lock(store, name, ttl=ttl)
        except LockHeldError:
            busy.append(name)
    return taken, busy


def release_leases(store: StateStore, leases: Sequence[Lease]) -> None:
    """Give several locks up in one statement.

    On PostgreSQL the commit does not wait for the disk: a release undone by a server
    crash leaves the lease to expire after its TTL (a delay for that ticket, never a
    second writer), and the next durable commit on the server makes it stick anyway.
    """
    if not leases:
        return
    lk = t.locks
    with store.engine.begin() as conn:
        relax_commit(conn)
        # holder ids are unique per acquisition, so a (holder, name) pair from two
        # different leases of this list only ever matches one of our own rows
        conn.execute(
            lk.delete().where(
                lk.c.holder.in_(sorted({lease.holder for lease in leases})),
                lk.c.name.in_(sorted({lease.name for lease in leases})),
            )
        )


def ticket_lock_name(connector: str, account: str, ticket_id: str) -> str:
    """The per-ticket lease every writer takes (webhook workers and ``sync``)."""
    return f"webhook:{connector}:{account}:{ticket_id}"


def take_ticket_leases(
    store: StateStore,
    connector: str,
    account: str,
    plans: Sequence[Plan],
    *,
    ttl: timedelta = timedelta(minutes=5),
) -> tuple[list[Plan], list[Lease], list[Plan]]:
    """Lease each plan's ticket: ``(plans leased, their leases, plans whose ticket is busy)``.

    Two writers never apply to one ticket at once: a ticket a webhook worker holds is left
    to it (it re-reads the ticket, so it decides from the same data).
    """
    ready: list[Plan] = []
    leases: list[Lease] = []
    busy: list[Plan] = []
    for plan in plans:
        name = ticket_lock_name(connector, account, plan.ticket.external_id)
        try:
            leases.append(acquire_lock(store, name, ttl=ttl))
        except LockHeldError:
            busy.append(plan)
            continue
        ready.append(plan)
    return ready, leases, busy
