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
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime

from empathy_firewall.state import schema as t
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
    reply: _Reply


class InboxWriter:
    """A background thread committing inbox puts in batches (see the module docstring)."""

    def __init__(self, store: StateStore, *, max_batch: int = 256) -> None:
        self.store = store
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[_Put | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0
        self.items = 0
        #: monotonic time the commit in progress started (None when idle)
        self.busy_since: float | None = None

    def __repr__(self) -> str:
        return f"InboxWriter({self.store!r}, batches={self.batches}, items={self.items})"

    def start(self) -> None:
        """Start the writer thread (idempotent; ``put`` starts it on first use)."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="inbox-writer", daemon=True)
                self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Commit what is queued, then stop the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)

    def put(self, connector: str, account: str, dedupe_key: str, payload: str) -> bool:
        """Store the event and wait for the commit; False for a redelivery."""
        done: Future[bool] = Future()

        def reply(fresh: bool | None, error: BaseException | None) -> None:
            if error is not None:
                done.set_exception(error)
            else:
                done.set_result(bool(fresh))

        self.start()
        self._queue.put(_Put(connector, account, dedupe_key, payload, reply))
        return done.result()

    async def aput(self, connector: str, account: str, dedupe_key: str, payload: str) -> bool:
        """:meth:`put` for an event loop: awaits the commit without blocking the loop."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[bool] = loop.create_future()

        def settle(fresh: bool | None, error: BaseException | None) -> None:
            if done.cancelled():
                return
            if error is not None:
                done.set_exception(error)
            else:
                done.set_result(bool(fresh))

        def reply(fresh: bool | None, error: BaseException | None) -> None:
            loop.call_soon_threadsafe(settle, fresh, error)

        self.start()
        self._queue.put(_Put(connector, account, dedupe_key, payload, reply))
        return await done

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stopping = False
            while len(batch) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                batch.append(more)
            self._commit(batch)
            if stopping:
                return

    def stalled_seconds(self) -> float:
        """How long the commit in progress has been waiting (0 when idle)."""
        since = self.busy_since
        return 0.0 if since is None else max(0.0, time.monotonic() - since)

    def _commit(self, batch: list[_Put]) -> None:
        self.busy_since = time.monotonic()
        try:
            self._commit_batch(batch)
        finally:
            self.busy_since = None

    def _commit_batch(self, batch: list[_Put]) -> None:
        now = datetime.now(UTC)
        results: list[bool] = []
        try:
            with self.store.engine.begin() as conn:
                stmt = upsert(conn, t.inbox, ("connector", "account", "dedupe_key"), None)
                stmt = stmt.returning(t.inbox.c.id)
                for item in batch:
                    row = conn.execute(
                        stmt,
                        {
                            "connector": item.connector,
                            "account": item.account,
                            "dedupe_key": item.dedupe_key,
                            "payload": item.payload,
                            "received_at": now,
                            "status": "pending",
                            "attempts": 0,
                        },
                    ).first()
                    results.append(row is not None)
        except Exception as exc:  # nothing in the batch was committed: all fail
            log.error("inbox writer: a batch of %d failed: %s", len(batch), type(exc).__name__)
            for item in batch:
                item.reply(None, exc)
            return
        self.batches += 1
        self.items += len(batch)
        for item, fresh in zip(batch, results, strict=True):
            item.reply(fresh, None)
