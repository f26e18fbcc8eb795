"""Group commit for the inbox: many concurrent ``put`` calls, one transaction.

Each accepted webhook must be durable before the endpoint answers 202, and a commit is the
expensive part of a put (an fsync on PostgreSQL, the single write lock on SQLite). The
:class:`InboxWriter` thread takes every put waiting in its queue, inserts them all in one
transaction (each still ``ON CONFLICT DO NOTHING`` on its dedupe key, so redeliveries,
even two in the same batch, are stored once) and commits once; then it answers each
caller. Under load a batch holds as many puts as requests arrived during the previous
commit; when idle, a put is committed at once, alone.

If the transaction fails every put in it fails (the endpoint answers 503 and the helpdesk
redelivers): nothing is acknowledged that was not committed.

Callers use :meth:`InboxWriter.put` (blocking, the :class:`InboxPort` protocol) or
:meth:`InboxWriter.aput` (awaitable, for the ASGI app's event loop).

On PostgreSQL two writer threads (``threads``) commit batches side by side, so one batch
is being flushed while the next gathers; each batch is one
``INSERT ... SELECT FROM json_to_recordset ... ON CONFLICT DO NOTHING RETURNING`` statement on the
thread's own autocommit connection (:mod:`empathy_firewall.state.inbox_pg`), which is its
own transaction. ``synchronous_commit`` stays on: the 202 is sent after the WAL flush,
so a PostgreSQL or machine crash cannot lose an acknowledged webhook (Zendesk and
Freshdesk redeliver only what was not answered 2xx). SQLite has one write lock: one
thread, one transaction of single-row upserts.

On PostgreSQL, :meth:`InboxWriter.aput` does not use the threads at all: each event loop
gets a :class:`~empathy_firewall.state.inbox_pg_loop.PgLoopInserter`, which sends the
same statement over libpq's asynchronous API from the loop itself and reads the answer
when the socket is readable (issue 11 item 12: a thread hand-off costs two wake-ups and a
fight for the GIL per batch; on two busy cores that was most of a webhook's wait). The
threads serve :meth:`InboxWriter.put` (blocking callers) and SQLite. Windows' proactor
loop cannot watch a socket: there ``aput`` uses the threads, as on SQLite.

Thread hand-offs are batched (on two busy cores each thread wake-up is a scheduling delay
on the critical path): the puts an event loop makes in one iteration go to the writers as
one bundle, and a batch answers each waiting loop with one callback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from empathy_firewall.state import schema as t
from empathy_firewall.state.inbox import new_row
from empathy_firewall.state.inbox_pg import PgInboxInserter
from empathy_firewall.state.inbox_pg_loop import PgLoopInserter
from empathy_firewall.state.store import StateStore, upsert

__all__ = ["InboxWriter"]

log = logging.getLogger("empathy_firewall.webhooks")

_Reply = Callable[[bool | None, BaseException | None], None]


@dataclass(frozen=True, slots=True)
class _Put:
    connector: str
    account: str
    dedupe_key: str
    payload: str
    #: a blocking caller's callback, or an event loop caller's future
    reply: _Reply | None = None
    future: asyncio.Future[bool] | None = None


def _settle(answers: list[tuple[asyncio.Future[bool], bool]], error: BaseException | None) -> None:
    """On the event loop: answer every waiting ``aput`` of one batch (one wake-up)."""
    for done, fresh in answers:
        if done.done():  # timed out: answered 503 already; the row (if any) stays
            continue
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(fresh)


def _resolve(done: asyncio.Future[bool], fresh: bool | None, error: BaseException | None) -> None:
    """On the event loop: answer one ``aput`` (unless it timed out and was answered 503)."""
    if done.done():
        return
    if error is not None:
        done.set_exception(error)
    else:
        done.set_result(bool(fresh))


def _expire(done: asyncio.Future[bool]) -> None:
    if not done.done():
        done.set_exception(TimeoutError("the inbox commit did not finish in time"))


def _answer(batch: list[_Put], results: list[bool] | None, error: BaseException | None) -> None:
    """Reply to a batch's callers: one hand-off per event loop, not one per put."""
    loops: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[bool], bool]]] = {}
    for index, item in enumerate(batch):
        fresh = bool(results[index]) if results is not None else False
        if item.future is not None:
            loops.setdefault(item.future.get_loop(), []).append((item.future, fresh))
        elif item.reply is not None:
            item.reply(None if results is None else fresh, error)
    for loop, answers in loops.items():
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
            loop.call_soon_threadsafe(_settle, answers, error)


class InboxWriter:
    """A background thread committing inbox puts in batches (see the module docstring)."""

    def __init__(
        self, store: StateStore, *, max_batch: int = 256, threads: int | None = None
    ) -> None:
        self.store = store
        self.max_batch = max_batch
        #: writer threads: concurrent commits on PostgreSQL, one on SQLite
        backend = getattr(store, "backend", "sqlite")
        self.threads = threads if threads is not None else (2 if backend == "postgresql" else 1)
        #: PostgreSQL: one statement per batch on a dedicated connection per thread
        self._fast = backend == "postgresql"
        #: bundles of puts (one per blocking put, one per event loop iteration)
        self._queue: queue.SimpleQueue[list[_Put] | None] = queue.SimpleQueue()
        #: per event loop: the puts of this iteration, handed over together
        self._waiting: dict[asyncio.AbstractEventLoop, list[_Put]] = {}
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self.batches = 0
        self.items = 0
        #: monotonic start time of each writer thread's commit in progress
        self._busy: dict[int, float] = {}
        #: PostgreSQL ``aput``: one inserter per event loop, driven by that loop
        self._on_loop: dict[asyncio.AbstractEventLoop, PgLoopInserter] = {}
        self._loop_puts = self._fast and sys.platform != "win32"

    def __repr__(self) -> str:
        return f"InboxWriter({self.store!r}, batches={self.batches}, items={self.items})"

    def start(self) -> None:
        """Start the writer threads (idempotent; ``put`` starts them on first use)."""
        with self._lock:
            if self._threads and all(t.is_alive() for t in self._threads):
                return
            self._threads = [t for t in self._threads if t.is_alive()]
            for n in range(len(self._threads), self.threads):
                thread = threading.Thread(target=self._run, name=f"inbox-writer-{n}", daemon=True)
                thread.start()
                self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        """Commit what is queued, then stop the threads (and close the PostgreSQL
        connections of event loops that did not :meth:`close_loop`)."""
        for loop, inserter in list(self._on_loop.items()):
            self._on_loop.pop(loop, None)
            self.batches += inserter.batches
            self.items += inserter.items
            if loop.is_closed() or not loop.is_running():
                inserter.close()
            else:  # its loop runs in another thread: close it there
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(inserter.close)
        with self._lock:
            threads, self._threads = self._threads, []
        for _ in threads:
            self._queue.put(None)
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def put(self, connector: str, account: str, dedupe_key: str, payload: str) -> bool:
        """Store the event and wait for the commit; False for a redelivery."""
        done: Future[bool] = Future()

        def reply(fresh: bool | None, error: BaseException | None) -> None:
            if error is not None:
                done.set_exception(error)
            else:
                done.set_result(bool(fresh))

        self.start()
        self._queue.put([_Put(connector, account, dedupe_key, payload, reply=reply)])
        return done.result()

    async def aput(
        self,
        connector: str,
        account: str,
        dedupe_key: str,
        payload: str,
        *,
        timeout: float | None = None,
    ) -> bool:
        """:meth:`put` for an event loop: awaits the commit without blocking the loop.

        After ``timeout`` seconds without a commit it raises :class:`TimeoutError` (the
        put may still be committed later: a redelivery is then a duplicate). A timer on
        the future, not ``asyncio.wait_for``, which costs a task per request.
        """
        loop = asyncio.get_running_loop()
        done: asyncio.Future[bool] = loop.create_future()
        if timeout is not None:
            timer = loop.call_later(timeout, _expire, done)
            done.add_done_callback(lambda _: timer.cancel())
        if self._loop_puts:
            self._inserter(loop).submit(
                (connector, account, dedupe_key, payload), partial(_resolve, done)
            )
            return await done
        item = _Put(connector, account, dedupe_key, payload, future=done)
        waiting = self._waiting.get(loop)
        if waiting is None:  # the first put of this loop iteration: hand over at its end
            self._waiting[loop] = [item]
            loop.call_soon(self._hand_over, loop)
        else:
            waiting.append(item)
        return await done

    def _inserter(self, loop: asyncio.AbstractEventLoop) -> PgLoopInserter:
        inserter = self._on_loop.get(loop)
        if inserter is None:
            inserter = PgLoopInserter(
                self.store.engine, loop, connections=self.threads, max_batch=self.max_batch
            )
            self._on_loop[loop] = inserter
        return inserter

    def close_loop(self) -> None:
        """On an event loop that is shutting down: close its PostgreSQL connections
        (``stop`` then stops the threads). Call it once no request is in flight."""
        inserter = self._on_loop.pop(asyncio.get_running_loop(), None)
        if inserter is not None:
            self.batches += inserter.batches
            self.items += inserter.items
            inserter.close()

    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> None:
        """Queue this loop iteration's puts as one bundle (one writer wake-up)."""
        bundle = self._waiting.pop(loop, None)
        if bundle:
            self.start()
            self._queue.put(bundle)

    def _run(self) -> None:
        inserter = PgInboxInserter(self.store.engine) if self._fast else None
        try:
            self._loop(inserter)
        finally:
            if inserter is not None:
                inserter.close()

    def _loop(self, inserter: PgInboxInserter | None) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = list(first)
            stopping = False
            while len(batch) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                batch.extend(more)
            self._commit(batch, inserter)
            if stopping:
                return

    def stalled_seconds(self) -> float:
        """How long the oldest commit in progress has been waiting (0 when idle)."""
        inserters: list[PgLoopInserter] = []
        for _ in range(3):  # read from /readyz's thread: a loop may register meanwhile
            try:
                inserters = list(self._on_loop.values())
                break
            except RuntimeError:
                continue
        waits = [inserter.stalled_seconds() for inserter in inserters]
        started = list(self._busy.values())
        if started:
            waits.append(time.monotonic() - min(started))
        return max([0.0, *waits])

    def _commit(self, batch: list[_Put], inserter: PgInboxInserter | None) -> None:
        me = threading.get_ident()
        self._busy[me] = time.monotonic()
        try:
            if inserter is None:
                results = self._commit_batch(batch)
            else:
                rows = [(p.connector, p.account, p.dedupe_key, p.payload) for p in batch]
                results = inserter.insert(rows, datetime.now(UTC))
        except Exception as exc:  # nothing in the batch was committed: all fail
            log.error("inbox writer: a batch of %d failed: %s", len(batch), type(exc).__name__)
            _answer(batch, None, exc)
            return
        finally:
            self._busy.pop(me, None)
        self.batches += 1
        self.items += len(batch)
        _answer(batch, results, None)

    def _commit_batch(self, batch: list[_Put]) -> list[bool]:
        """The portable path (SQLite): one transaction of single-row upserts."""
        now = datetime.now(UTC)
        # one order for every writer thread, so concurrent batches never wait on each other
        # in a cycle; each statement is the same (cached) single-row upsert
        order = sorted(
            range(len(batch)),
            key=lambda i: (batch[i].connector, batch[i].account, batch[i].dedupe_key, i),
        )
        stored: dict[int, bool] = {}
        with self.store.engine.begin() as conn:
            stmt = upsert(conn, t.inbox, ("connector", "account", "dedupe_key"), None)
            stmt = stmt.returning(t.inbox.c.id)
            for index in order:
                item = batch[index]
                row = conn.execute(
                    stmt,
                    new_row(item.connector, item.account, item.dedupe_key, item.payload, now),
                ).first()
                stored[index] = row is not None
        return [stored[i] for i in range(len(batch))]
