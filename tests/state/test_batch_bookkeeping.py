"""Batch bookkeeping for the inbox worker (issue 11 item 12): a batch's items are marked
done in one statement, a batch's ticket leases are taken and given back together, and on
PostgreSQL the commits whose loss is harmless do not wait for the disk while leases do."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from empathy_firewall.state import StateStore, acquire_lock, inbox, lock_info
from empathy_firewall.state.lock import acquire_leases, release_leases
from empathy_firewall.state.schema import locks


class Commits:
    """Counts a store's commits, split by whether they waited for the disk."""

    def __init__(self) -> None:
        self.durable = 0
        self.relaxed = 0


@contextmanager
def counting(store: StateStore) -> Iterator[Commits]:
    """Count the COMMITs ``store`` makes while the block runs."""
    seen = Commits()
    relaxed: set[int] = set()

    def on_begin(conn: Any) -> None:
        relaxed.discard(id(conn))

    def on_execute(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "synchronous_commit = off" in statement:
            relaxed.add(id(conn))

    def on_commit(conn: Any) -> None:
        if id(conn) in relaxed:
            seen.relaxed += 1
        else:
            seen.durable += 1

    engine = store.engine
    event.listen(engine, "begin", on_begin)
    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "commit", on_commit)
    try:
        yield seen
    finally:
        event.remove(engine, "begin", on_begin)
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "commit", on_commit)


def _fill(store: StateStore, count: int) -> None:
    for n in range(count):
        inbox.put(store, "zendesk", "acme", f"evt-{n}", "{}")


def test_a_claimed_batch_is_marked_done_in_one_commit(store: StateStore) -> None:
    _fill(store, 12)
    items = inbox.claim(store, "w1", limit=10)
    assert [i.dedupe_key for i in items] == [f"evt-{n}" for n in range(10)]  # oldest first
    assert all(i.attempts == 1 for i in items)
    other = inbox.claim(store, "w2", limit=10)
    assert [i.dedupe_key for i in other] == ["evt-10", "evt-11"]  # never claimed twice
    with counting(store) as commits:
        done = inbox.complete_many(store, [i.id for i in items] + [other[0].id], "w1")
    assert done == {i.id for i in items}  # w2's claim is not w1's to finish
    assert commits.durable + commits.relaxed == 1
    assert inbox.status_counts(store) == {"done": 10, "claimed": 2}


@pytest.mark.postgres
def test_on_postgresql_claims_and_completions_do_not_wait_for_the_disk(
    store: StateStore,
) -> None:
    if store.engine.dialect.name != "postgresql":
        pytest.skip("synchronous_commit is a PostgreSQL setting")
    _fill(store, 5)
    with counting(store) as commits:
        items = inbox.claim(store, "w1", limit=5)
        inbox.complete_many(store, [i.id for i in items], "w1")
    assert len(items) == 5
    assert (commits.durable, commits.relaxed) == (0, 2)
    with store.engine.connect() as conn:  # SET LOCAL ended with its transaction
        assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"


def test_batch_leases_take_free_and_expired_tickets_and_leave_held_ones(
    store: StateStore,
) -> None:
    held = acquire_lock(store, "webhook:z:a:2", ttl=timedelta(minutes=5))
    stale = acquire_lock(store, "webhook:z:a:3", ttl=timedelta(seconds=-1))
    names = ["webhook:z:a:1", "webhook:z:a:2", "webhook:z:a:3", "webhook:z:a:1"]
    with counting(store) as commits:
        taken, busy = acquire_leases(store, names, ttl=timedelta(minutes=5))
    assert sorted(taken) == ["webhook:z:a:1", "webhook:z:a:3"]
    assert busy == ["webhook:z:a:2"]
    if store.engine.dialect.name == "postgresql":
        # the free and the expired in one durable commit (a lease must survive a crash)
        assert (commits.durable, commits.relaxed) == (1, 0)
    for name, lease in taken.items():
        info = lock_info(store, name)
        assert info is not None
        assert (info.holder, info.pid) == (lease.holder, os.getpid())
    with pytest.raises(Exception, match="lost the lock"):
        stale.renew()  # taken over
    with counting(store) as commits:
        release_leases(store, list(taken.values()))
    assert commits.durable + commits.relaxed == 1
    assert lock_info(store, "webhook:z:a:1") is None
    assert lock_info(store, "webhook:z:a:3") is None
    assert lock_info(store, "webhook:z:a:2") is not None  # not ours: untouched
    held.release()


def test_batch_leases_take_over_a_dead_local_holder(store: StateStore) -> None:
    lease = acquire_lock(store, "webhook:z:a:9", ttl=timedelta(hours=1))
    with store.engine.begin() as conn:  # pretend a killed process held it
        conn.execute(locks.update().where(locks.c.name == lease.name).values(pid=2**22 + 7))
    taken, busy = acquire_leases(store, [lease.name])
    assert busy == []
    assert taken[lease.name].holder != lease.holder
    release_leases(store, list(taken.values()))
