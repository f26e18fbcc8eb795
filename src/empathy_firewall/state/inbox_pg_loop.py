"""Inbox puts on the endpoint's event loop, through libpq's asynchronous API.

:class:`PgLoopInserter` is the PostgreSQL path of :meth:`InboxWriter.aput
<empathy_firewall.webhooks.writer.InboxWriter.aput>`. It keeps a few non-blocking
connections (``psycopg.pq``, the documented libpq wrapper of the driver we already use)
and, on the event loop itself, sends each batch with ``PQsendQueryPrepared`` and reads the
answer when the socket is readable (``loop.add_reader``). Nothing crosses a thread: the
writer-thread path costs two thread wake-ups and a fight for the GIL per batch, which on
two busy cores was most of a webhook's wait (issue 11 item 12; measured in docs/webhooks.md).

The statement is :func:`~empathy_firewall.state.inbox_pg.inbox_put_sql`, prepared once
per connection: one ``INSERT ... SELECT FROM json_to_recordset ... ON CONFLICT DO
NOTHING RETURNING`` per batch in autocommit, so the answer comes after the commit and its
WAL flush (``synchronous_commit`` stays on: an acknowledged webhook survives a crash).

Puts wait in one queue per loop. Whenever a connection is idle, everything waiting (up to
``max_batch``) goes out on it as one batch: under load a batch holds what arrived while
the others were in flight; when idle, a put is sent at once, alone. A batch that fails
fails every put in it (the endpoint answers 503, the helpdesk redelivers; a row that was
committed all the same makes the redelivery a recognised duplicate). A broken connection
is dropped; connections are (re)opened in the loop's default executor, never on the loop,
so an unreachable server never blocks the endpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from empathy_firewall.errors import RetryableError
from empathy_firewall.state.inbox_pg import (
    Row,
    autocommit_connection,
    batch_params,
    fresh_rows,
    inbox_put_sql,
    table_name,
)

if TYPE_CHECKING:
    import psycopg

__all__ = ["PgLoopInserter"]

log = logging.getLogger("empathy_firewall.webhooks")

_STATEMENT = b"ef_inbox_put"
#: answer each put of a batch: True (new), False (a redelivery), or the batch's error
Settle = Callable[[list[bool] | None, BaseException | None], None]


class _Link:
    """One non-blocking connection and the batch in flight on it."""

    def __init__(self, owner: PgLoopInserter, conn: psycopg.Connection[Any]) -> None:
        self.owner = owner
        self.conn = conn
        self.pg = conn.pgconn
        self.fd = self.pg.socket
        self.rows: Sequence[Row] = ()
        self.first: dict[tuple[str, str, str], int] = {}
        self.settle: Settle | None = None
        self.sent_at = 0.0
        owner.loop.add_reader(self.fd, self._readable)

    @property
    def idle(self) -> bool:
        return self.settle is None

    def send(self, rows: Sequence[Row], settle: Settle) -> None:
        params, self.first = batch_params(rows, datetime.now(UTC))
        self.rows, self.settle, self.sent_at = rows, settle, time.monotonic()
        values = [params["now"].isoformat().encode(), params["rows"].encode()]
        try:
            self.pg.send_query_prepared(_STATEMENT, values)
            if self.pg.flush() == 1:  # a large batch: the rest when the socket takes it
                self.owner.loop.add_writer(self.fd, self._writable)
        except Exception as exc:  # the link is broken: nothing of the batch was sent
            self._fail(exc)

    def _writable(self) -> None:
        try:
            if self.pg.flush() == 0:
                self.owner.loop.remove_writer(self.fd)
        except Exception as exc:
            self._fail(exc)

    def _readable(self) -> None:
        try:
            self.pg.consume_input()
            if self.pg.is_busy():
                return
            result = self.pg.get_result()
            while self.pg.get_result() is not None:  # libpq: read until the end marker
                pass
        except Exception as exc:
            self._fail(exc)
            return
        if self.settle is None:  # nothing in flight: a notice, or the server closing
            if self.pg.status != _ok_status():
                self.owner.drop(self)
            return
        settle, self.settle = self.settle, None
        if result is not None and result.status == _tuples_ok():
            inserted = {
                (
                    _text(result.get_value(i, 0)),
                    _text(result.get_value(i, 1)),
                    _text(result.get_value(i, 2)),
                )
                for i in range(result.ntuples)
            }
            settle(fresh_rows(self.rows, self.first, inserted), None)
        else:
            # the SQLSTATE only: a server message may quote the batch (customer data)
            settle(None, RetryableError(f"inbox batch failed (SQLSTATE {_sqlstate(result)})"))
            if self.pg.status != _ok_status():
                self.owner.drop(self)
        self.owner.dispatch()

    def _fail(self, exc: BaseException) -> None:
        settle, self.settle = self.settle, None
        self.owner.drop(self)
        if settle is not None:
            settle(None, exc)
        self.owner.dispatch()

    def close(self) -> None:
        loop = self.owner.loop
        with contextlib.suppress(Exception):  # the loop is closed, or the fd already gone
            loop.remove_reader(self.fd)
            loop.remove_writer(self.fd)
        with contextlib.suppress(Exception):  # already broken: nothing to release
            self.conn.close()


def _sqlstate(result: Any) -> str:
    from psycopg import pq

    code = None if result is None else result.error_field(pq.DiagnosticField.SQLSTATE)
    return "none" if code is None else bytes(code).decode("ascii", "replace")


def _text(value: bytes | None) -> str:
    return "" if value is None else value.decode("utf-8")


def _tuples_ok() -> int:
    from psycopg import pq

    return int(pq.ExecStatus.TUPLES_OK)


def _ok_status() -> int:
    from psycopg import pq

    return int(pq.ConnStatus.OK)


class PgLoopInserter:
    """Batches of inbox rows on ``loop`` over up to ``connections`` links (see the module
    docstring). Every method runs on ``loop``'s thread."""

    def __init__(
        self,
        engine: Engine,
        loop: asyncio.AbstractEventLoop,
        *,
        connections: int = 2,
        max_batch: int = 256,
    ) -> None:
        self.engine = engine
        self.loop = loop
        self.connections = connections
        self.max_batch = max_batch
        self.sql = inbox_put_sql(table_name(engine), now="$1::timestamptz", rows="$2")
        self.links: list[_Link] = []
        self.waiting: list[tuple[Row, Callable[[bool | None, BaseException | None], None]]] = []
        self.batches = 0
        self.items = 0
        self._opening = False
        self._scheduled = False
        self._waiting_since = 0.0
        self._closed = False

    def __repr__(self) -> str:
        return f"PgLoopInserter(links={len(self.links)}, waiting={len(self.waiting)})"

    def submit(self, row: Row, answer: Callable[[bool | None, BaseException | None], None]) -> None:
        """Queue ``row``; ``answer(fresh, None)`` once committed, ``answer(None, error)``
        if its batch failed. Batches leave at the end of this loop iteration."""
        if not self.waiting:
            self._waiting_since = time.monotonic()
        self.waiting.append((row, answer))
        if not self._scheduled:
            self._scheduled = True
            self.loop.call_soon(self.dispatch)

    def dispatch(self) -> None:
        """Send what is waiting on every idle link; open a link if one is missing."""
        self._scheduled = False
        if self._closed:
            return
        for link in self.links:
            if not self.waiting:
                return
            if link.idle:
                self._send(link)
        if self.waiting and len(self.links) < self.connections and not self._opening:
            self._open()

    def _send(self, link: _Link) -> None:
        taken, self.waiting = self.waiting[: self.max_batch], self.waiting[self.max_batch :]
        if self.waiting:  # the rest waits from now on (at most one batch's time too short)
            self._waiting_since = time.monotonic()
        answers = [answer for _row, answer in taken]

        def settle(results: list[bool] | None, error: BaseException | None) -> None:
            for index, answer in enumerate(answers):
                answer(None if results is None else results[index], error)

        self.batches += 1
        self.items += len(taken)
        link.send([row for row, _answer in taken], settle)

    def _open(self) -> None:
        self._opening = True
        opening = self.loop.run_in_executor(None, self._connect)
        opening.add_done_callback(self._opened)

    def _connect(self) -> psycopg.Connection[Any]:
        """In the executor: a new autocommit connection with the statement prepared."""
        from psycopg import pq

        conn = autocommit_connection(self.engine)
        try:
            prepared = conn.pgconn.prepare(_STATEMENT, self.sql.encode())
            if prepared.status != pq.ExecStatus.COMMAND_OK:
                raise RetryableError(
                    f"inbox statement not prepared (SQLSTATE {_sqlstate(prepared)})"
                )
            conn.pgconn.nonblocking = 1
        except BaseException:
            conn.close()
            raise
        return conn

    def _opened(self, opening: asyncio.Future[psycopg.Connection[Any]]) -> None:
        self._opening = False
        if opening.cancelled():
            return
        error = opening.exception()
        if error is not None:  # the server is unreachable: what waits fails now (503)
            log.error("inbox writer: cannot connect to the state store: %s", type(error).__name__)
            waiting, self.waiting = self.waiting, []
            for _row, answer in waiting:
                answer(None, error)
            return
        conn = opening.result()
        if self._closed:
            conn.close()
            return
        self.links.append(_Link(self, conn))
        self.dispatch()

    def drop(self, link: _Link) -> None:
        """Forget a broken link (the next dispatch opens another)."""
        if link in self.links:
            self.links.remove(link)
        link.close()

    def stalled_seconds(self) -> float:
        """How long the oldest unanswered put has been waiting: in a batch in flight, or
        queued (no link free, or the first one still opening); 0 when none is."""
        started = [link.sent_at for link in self.links if not link.idle]
        if self.waiting:
            started.append(self._waiting_since)
        return max(0.0, time.monotonic() - min(started)) if started else 0.0

    def close(self) -> None:
        """Close the links; what still waits fails (call it once no request is in flight)."""
        self._closed = True
        for link in list(self.links):
            self.drop(link)
        waiting, self.waiting = self.waiting, []
        for _row, answer in waiting:
            answer(None, RetryableError("the inbox writer stopped"))
