"""Group commit: concurrent puts share transactions, dedupe holds within and across
batches, and a failed transaction fails every put in it (nothing acknowledged unstored).

On PostgreSQL a batch is one statement on the writer's own connection (issue 11 item 12);
the tests marked ``postgres`` check its dedupe and its recovery from a dropped link."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from state_support import pg_schema, pg_url

from empathy_firewall.state import StateStore
from empathy_firewall.state import schema as t
from empathy_firewall.state.inbox import status_counts, ticket_of
from empathy_firewall.state.inbox_pg import PgInboxInserter
from empathy_firewall.webhooks.writer import InboxWriter


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    opened = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    yield opened
    opened.close()


def test_concurrent_puts_store_each_key_once_and_answer_each_caller(store: StateStore) -> None:
    writer = InboxWriter(store)
    answers: dict[str, list[bool]] = {}
    lock = threading.Lock()

    def send(n: int) -> None:
        key = f"k{n % 50}"  # every key is put four times, concurrently
        fresh = writer.put("zendesk", "acme", key, "{}")
        with lock:
            answers.setdefault(key, []).append(fresh)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    writer.stop()
    assert status_counts(store) == {"pending": 50}
    assert all(sorted(a) == [False, False, False, True] for a in answers.values())
    assert writer.items == 200
    assert writer.batches < 200  # puts waiting together were committed together


def test_each_stored_event_names_its_ticket(store: StateStore) -> None:
    writer = InboxWriter(store)
    try:
        writer.put("zendesk", "acme", "k1", json.dumps({"ticket": "42", "type": "x"}))
        writer.put("zendesk", "acme", "k2", "{}")
    finally:
        writer.stop()
    with store.engine.connect() as conn:
        rows = dict(conn.execute(select(t.inbox.c.dedupe_key, t.inbox.c.ticket)).all())
    assert rows == {"k1": "42", "k2": None}


def test_the_async_put_awaits_the_commit(store: StateStore) -> None:
    writer = InboxWriter(store)

    async def main() -> list[bool]:
        return list(
            await asyncio.gather(
                *(writer.aput("zendesk", "a", f"k{n % 3}", "{}") for n in range(9))
            )
        )

    results = asyncio.run(main())
    writer.stop()
    assert results.count(True) == 3
    assert status_counts(store) == {"pending": 3}


class _Broken:
    def begin(self) -> Any:
        raise OSError("disk on fire")


class _BrokenStore:
    engine = _Broken()


def test_a_failed_transaction_fails_every_put_in_it() -> None:
    writer = InboxWriter(_BrokenStore())  # type: ignore[arg-type]
    with pytest.raises(OSError, match="disk on fire"):
        writer.put("zendesk", "acme", "k", "{}")

    async def main() -> None:
        await writer.aput("zendesk", "acme", "k", "{}")

    with pytest.raises(OSError, match="disk on fire"):
        asyncio.run(main())
    writer.stop()


class _CountingLoop(asyncio.SelectorEventLoop):
    """An event loop that counts wake-ups from other threads."""

    wakeups = 0

    def call_soon_threadsafe(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        self.wakeups += 1
        return super().call_soon_threadsafe(*args, **kwargs)


def test_puts_of_one_loop_iteration_share_a_batch_and_one_wake_up(store: StateStore) -> None:
    writer = InboxWriter(store)

    async def main() -> list[bool]:
        return list(
            await asyncio.gather(*(writer.aput("zendesk", "a", f"k{n}", "{}") for n in range(20)))
        )

    loop = _CountingLoop()
    try:
        results = loop.run_until_complete(main())
    finally:
        loop.close()
    writer.stop()
    assert results == [True] * 20
    assert writer.batches == 1  # handed over together, committed together
    assert loop.wakeups == 1  # one answer for the batch, not one per put
    assert status_counts(store) == {"pending": 20}


class _SlowEngine:
    def __init__(self, engine: Any, delay: float) -> None:
        self._engine = engine
        self._delay = delay

    def begin(self) -> Any:
        time.sleep(self._delay)
        return self._engine.begin()


class _SlowStore:
    def __init__(self, store: StateStore, delay: float) -> None:
        self.engine = _SlowEngine(store.engine, delay)


def test_an_async_put_past_its_timeout_raises_and_its_row_still_lands(store: StateStore) -> None:
    writer = InboxWriter(_SlowStore(store, 0.6))  # type: ignore[arg-type]

    async def main() -> float:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await writer.aput("zendesk", "acme", "late", "{}", timeout=0.05)
        return time.monotonic() - started

    waited = asyncio.run(main())
    writer.stop()
    assert waited < 0.5  # answered (503) long before the commit finished
    assert status_counts(store) == {"pending": 1}  # a redelivery will be a duplicate


@pytest.mark.postgres
def test_postgres_batches_dedupe_within_and_across_batches() -> None:
    with pg_schema() as schema:
        opened = StateStore(pg_url(), schema=schema)
        writer = InboxWriter(opened)
        try:
            assert writer.put("zendesk", "acme", "old", "{}") is True

            async def main() -> list[bool]:
                keys = ["old", "a", "b", "a", "c", "b", "a"]  # "a" three times in one batch
                return list(
                    await asyncio.gather(*(writer.aput("zendesk", "acme", k, "{}") for k in keys))
                )

            results = asyncio.run(main())
            writer.stop()
            assert results == [False, True, True, False, True, False, False]
            assert status_counts(opened) == {"pending": 4}
        finally:
            writer.stop()
            opened.close()


@pytest.mark.postgres
def test_postgres_batch_is_committed_when_put_returns_and_survives_a_dropped_link() -> None:
    with pg_schema() as schema:
        opened = StateStore(pg_url(), schema=schema)
        inserter = PgInboxInserter(opened.engine)
        now = datetime.now(UTC)
        try:
            assert inserter.insert([("zendesk", "acme", "k1", "{}")], now) == [True]
            # committed: another connection sees it at once
            assert status_counts(opened) == {"pending": 1}
            pid = inserter._connection().info.backend_pid
            with opened.engine.connect() as conn:
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            with pytest.raises(psycopg.OperationalError):
                inserter.insert([("zendesk", "acme", "k2", "{}")], now)
            # the next batch opens a fresh connection; k2 was never acknowledged
            assert inserter.insert(
                [("zendesk", "acme", "k2", "{}"), ("zendesk", "acme", "k1", "{}")], now
            ) == [True, False]
            assert status_counts(opened) == {"pending": 2}
        finally:
            inserter.close()
            opened.close()


_STORABLE_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=40,
)


#: any text, or an event payload naming a ticket (any text, or none)
_PAYLOAD = _STORABLE_TEXT | st.builds(
    lambda ticket: json.dumps({"ticket": ticket, "type": "ticket.updated"}),
    st.none() | _STORABLE_TEXT,
)


@pytest.mark.postgres
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    batch=st.lists(
        st.tuples(st.sampled_from(["zendesk", "freshdesk"]), _STORABLE_TEXT, _PAYLOAD),
        min_size=1,
        max_size=12,
    )
)
def test_postgres_batch_stores_any_text_exactly_and_marks_first_occurrences(
    pg_inserter: tuple[StateStore, PgInboxInserter], batch: list[tuple[str, str, str]]
) -> None:
    """The batch travels as one JSON document: quotes, backslashes, astral characters and
    JSON-looking keys come back byte for byte, only a key's first occurrence is new, and
    each row names the ticket its payload names (the column a claim groups by)."""
    opened, inserter = pg_inserter
    with opened.engine.begin() as conn:
        conn.execute(t.inbox.delete())
    rows = [(c, "acme", key, payload) for c, key, payload in batch]
    fresh = inserter.insert(rows, datetime.now(UTC))
    seen: set[tuple[str, str]] = set()
    expected = []
    for c, key, _payload in batch:
        expected.append((c, key) not in seen)
        seen.add((c, key))
    assert fresh == expected
    with opened.engine.connect() as conn:
        stored = {
            (r.connector, r.dedupe_key): (r.payload, r.ticket)
            for r in conn.execute(
                select(
                    t.inbox.c.connector, t.inbox.c.dedupe_key, t.inbox.c.payload, t.inbox.c.ticket
                )
            )
        }
    firsts: dict[tuple[str, str], tuple[str, str | None]] = {}
    for c, key, payload in batch:
        firsts.setdefault((c, key), (payload, ticket_of(payload)))
    assert stored == firsts


@pytest.fixture(scope="module")
def pg_inserter() -> Iterator[tuple[StateStore, PgInboxInserter]]:
    with pg_schema() as schema:
        opened = StateStore(pg_url(), schema=schema)
        inserter = PgInboxInserter(opened.engine)
        try:
            yield opened, inserter
        finally:
            inserter.close()
            opened.close()
