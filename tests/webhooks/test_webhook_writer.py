"""Group commit: concurrent puts share transactions, dedupe holds within and across
batches, and a failed transaction fails every put in it (nothing acknowledged unstored).

On PostgreSQL a batch is one statement on the writer's own connection (issue 11 item 12);
the tests marked ``postgres`` check its dedupe and its recovery from a dropped link."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, select, text
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


def assert_stored_once_each(
    store: StateStore, batch: list[tuple[str, str, str]], fresh: list[bool]
) -> None:
    """Only each key's first occurrence in ``batch`` was answered new, and the inbox holds
    that occurrence byte for byte with the ticket its payload names."""
    seen: set[tuple[str, str]] = set()
    expected = []
    for c, key, _payload in batch:
        expected.append((c, key) not in seen)
        seen.add((c, key))
    assert fresh == expected
    with store.engine.connect() as conn:
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
    assert_stored_once_each(opened, batch, fresh)


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


# -- PostgreSQL: puts on the event loop (libpq's asynchronous API) ---------------------


def _writer_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("inbox-writer")]


@pytest.mark.postgres
def test_postgres_async_puts_are_committed_from_the_event_loop_without_writer_threads() -> None:
    """``aput`` on PostgreSQL is sent and answered by the loop itself: no writer thread
    starts, concurrent puts share batches, and each answer comes after the commit."""
    with pg_schema() as schema:
        opened = StateStore(pg_url(), schema=schema)
        writer = InboxWriter(opened)
        before = _writer_threads()
        try:

            async def main() -> tuple[list[bool], dict[str, int]]:
                first = await writer.aput("zendesk", "acme", "k0", "{}")
                # committed when answered: another connection sees it at once
                seen = status_counts(opened)
                keys = [f"k{n % 40}" for n in range(120)]  # each key three times, k0 four
                rest = await asyncio.gather(
                    *(writer.aput("zendesk", "acme", k, "{}") for k in keys)
                )
                return [first, *rest], seen

            results, seen = asyncio.run(main())
            assert seen == {"pending": 1}
            assert _writer_threads() == before
            assert results[0] is True
            assert results[1:].count(True) == 39  # k1..k39 new once each; k0 was stored
            assert status_counts(opened) == {"pending": 40}
        finally:
            writer.stop()
            opened.close()
        assert writer.items == 121
        assert writer.batches < 121  # puts that waited together went out together


@pytest.mark.postgres
def test_postgres_async_put_on_a_dropped_link_fails_and_the_next_one_reconnects() -> None:
    with pg_schema() as schema:
        opened = StateStore(pg_url(), schema=schema)
        writer = InboxWriter(opened)
        try:

            async def main() -> tuple[bool, list[bool | str]]:
                first = await writer.aput("zendesk", "acme", "k1", "{}")
                with opened.engine.connect() as conn:  # the server drops every link
                    conn.execute(
                        text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE pid <> pg_backend_pid() AND query LIKE '%json_to_recordset%'"
                        )
                    )
                await asyncio.sleep(0.2)
                outcomes: list[bool | str] = []
                for _ in range(3):  # a put may find the link dead (503), the next reconnects
                    try:
                        outcomes.append(await writer.aput("zendesk", "acme", "k2", "{}"))
                    except Exception as exc:
                        outcomes.append(type(exc).__name__)
                return first, outcomes

            first, outcomes = asyncio.run(main())
            assert first is True
            assert outcomes[-1] is False  # stored once by then: a redelivery
            assert True in outcomes  # one attempt stored it and said so
            assert status_counts(opened) == {"pending": 2}
        finally:
            writer.stop()
            opened.close()


@pytest.mark.postgres
@pytest.mark.parametrize("link_open", [True, False], ids=["batch-in-flight", "link-opening"])
def test_postgres_async_put_blocked_by_a_lock_times_out_while_the_loop_runs_on(
    link_open: bool,
) -> None:
    """A put stuck behind a lock (its batch in flight, or its link's statement being
    prepared) answers 503 at its timeout; the event loop keeps serving meanwhile (nothing
    blocks it), /readyz's stall figure sees the wait, and the row lands once the lock goes
    (a redelivery is then a duplicate)."""
    with pg_schema() as schema:
        opened = StateStore(pg_url(), schema=schema)
        writer = InboxWriter(opened)
        try:
            locker = opened.engine.connect()
            if not link_open:  # stored by the blocking path: the loop has no link yet
                assert writer.put("zendesk", "acme", "warm", "{}") is True

            async def main() -> tuple[str, int, float]:
                if link_open:  # the loop's link is open (its statement prepared)
                    assert await writer.aput("zendesk", "acme", "warm", "{}") is True
                locker.execute(text(f'LOCK TABLE "{schema}".ef_inbox IN EXCLUSIVE MODE'))
                ticks = 0

                async def ticker() -> None:
                    nonlocal ticks
                    while True:
                        await asyncio.sleep(0.01)
                        ticks += 1

                ticking = asyncio.create_task(ticker())
                try:
                    await writer.aput("zendesk", "acme", "late", "{}", timeout=0.5)
                    outcome = "stored"
                except TimeoutError:
                    outcome = "timeout"
                stalled = writer.stalled_seconds()
                ticking.cancel()
                locker.rollback()  # the lock goes: the batch in flight commits
                await asyncio.sleep(0.3)
                return outcome, ticks, stalled

            outcome, ticks, stalled = asyncio.run(main())
            locker.close()
            assert outcome == "timeout"
            assert ticks >= 20  # the loop ran all along (0.5 s at 10 ms a tick)
            assert stalled >= 0.4
            assert status_counts(opened) == {"pending": 2}
        finally:
            writer.stop()
            opened.close()


def test_postgres_async_put_with_the_server_unreachable_fails_at_once() -> None:
    """No server at the store's address: the put fails at once (503, the helpdesk
    redelivers), not at its timeout, and the connection attempt never blocks the loop."""
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{port}/test")
    writer = InboxWriter(SimpleNamespace(engine=engine, backend="postgresql"))  # type: ignore[arg-type]

    async def main() -> tuple[str, float]:
        started = time.monotonic()
        try:
            await writer.aput("zendesk", "acme", "k", "{}", timeout=5)
        except Exception as exc:
            return type(exc).__name__, time.monotonic() - started
        return "stored", time.monotonic() - started

    try:
        outcome, waited = asyncio.run(main())
    finally:
        writer.stop()
        engine.dispose()
    assert outcome == "OperationalError"
    assert waited < 4  # refused at once, not at the put's timeout


@pytest.fixture(scope="module")
def pg_loop_writer() -> Iterator[tuple[StateStore, InboxWriter, asyncio.AbstractEventLoop]]:
    with pg_schema() as schema:
        opened = StateStore(pg_url(), schema=schema)
        writer = InboxWriter(opened)
        loop = asyncio.new_event_loop()
        try:
            yield opened, writer, loop
        finally:
            loop.run_until_complete(_close_loop(writer))
            loop.close()
            writer.stop()
            opened.close()


async def _close_loop(writer: InboxWriter) -> None:
    writer.close_loop()


@pytest.mark.postgres
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    batch=st.lists(
        st.tuples(st.sampled_from(["zendesk", "freshdesk"]), _STORABLE_TEXT, _PAYLOAD),
        min_size=1,
        max_size=12,
    )
)
def test_postgres_async_puts_store_any_text_exactly_and_answer_first_occurrences(
    pg_loop_writer: tuple[StateStore, InboxWriter, asyncio.AbstractEventLoop],
    batch: list[tuple[str, str, str]],
) -> None:
    """The event loop's path (libpq's own parameters, a prepared statement) stores what
    the thread path stores: any text byte for byte, the ticket each payload names, and
    only a key's first put answered as new, however the puts fall into batches."""
    opened, writer, loop = pg_loop_writer
    with opened.engine.begin() as conn:
        conn.execute(t.inbox.delete())

    async def put_all() -> list[bool]:
        return list(await asyncio.gather(*(writer.aput(c, "acme", key, p) for c, key, p in batch)))

    fresh = loop.run_until_complete(put_all())
    assert_stored_once_each(opened, batch, fresh)


@pytest.mark.postgres
def test_postgres_async_batch_refused_by_the_server_fails_without_quoting_it() -> None:
    """A batch the server refuses fails every put in it (503) with the SQLSTATE only:
    PostgreSQL's message quotes the failing row, which is customer data. The connection
    stays usable for the next batch."""
    with pg_schema() as schema:
        opened = StateStore(pg_url(), schema=schema)
        writer = InboxWriter(opened)
        with opened.engine.begin() as conn:
            conn.execute(
                text(
                    f'ALTER TABLE "{schema}".ef_inbox '
                    "ADD CONSTRAINT no_poison CHECK (payload <> 'poison: Ana Souza')"
                )
            )
        try:

            async def main() -> tuple[str, bool]:
                try:
                    await writer.aput("zendesk", "acme", "bad", "poison: Ana Souza")
                except Exception as exc:
                    refused = f"{type(exc).__name__}: {exc}"
                else:
                    refused = "stored"
                return refused, await writer.aput("zendesk", "acme", "good", "{}")

            refused, stored = asyncio.run(main())
        finally:
            writer.stop()
        assert refused == "RetryableError: inbox batch failed (SQLSTATE 23514)"
        assert stored is True
        assert status_counts(opened) == {"pending": 1}
        opened.close()
