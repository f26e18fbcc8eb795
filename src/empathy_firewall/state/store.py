"""The state store: one class over SQLAlchemy Core for SQLite and PostgreSQL.

It keeps bookmarks per (connector, account), the ledger of applied action keys, the
firewall's history (customer memory, agent load windows, rule firings) and cached signals,
the webhook inbox (:mod:`.inbox`), run locks (:mod:`.lock`) and run records. It implements
:class:`~empathy_firewall.signals.history.History`, so the engine reads it directly; the
sync job reads and writes history a page at a time through :class:`.buffer.PageHistory`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, case, delete, func, select

from empathy_firewall.signals.history import Firing
from empathy_firewall.signals.memory import PastTicket
from empathy_firewall.signals.strain import Interaction
from empathy_firewall.state import schema as t
from empathy_firewall.state.engine import create_store_engine
from empathy_firewall.state.migrations import current_version, migrate
from empathy_firewall.state.snapshots import Snapshot, write_snapshots
from empathy_firewall.state.sql import chunks, upsert

__all__ = ["BookmarkState", "LedgerEntry", "PageRecord", "StateStore", "chunks", "upsert"]


@dataclass(frozen=True, slots=True)
class BookmarkState:
    """A stored resume point; ``pending`` means a run stopped while applying a page."""

    value: str | None
    pending: bool
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One action key done on a ticket: ``applied`` now, or found ``already`` there."""

    ticket_key: str
    action_key: str
    kind: str
    outcome: str


@dataclass(frozen=True, slots=True)
class PageRecord:
    """Everything one page (a sync page, a webhook batch, a first run's observation pass)
    leaves in the store, written by :meth:`StateStore.record_page` in one transaction.

    ``writers`` write the parts kept by other modules (the page's history buffer, its
    timeline, the agent prompt queue) inside that transaction. ``bookmark`` is stored (with
    ``pending`` off) when ``move_bookmark`` is true.
    """

    connector: str
    account: str
    run_id: str | None = None
    ledger: Sequence[LedgerEntry] = ()
    signals: Sequence[tuple[str, datetime, Mapping[str, Any]]] = ()
    snapshots: Sequence[Snapshot] = ()
    writers: Sequence[Callable[[Connection], None]] = ()
    bookmark: str | None = None
    move_bookmark: bool = False


class StateStore:
    """Everything the firewall remembers, in one SQL database (see the module docstring).

    ``url`` is ``sqlite:///path`` or ``postgresql+psycopg://...``; ``schema`` (PostgreSQL)
    keeps the tables in their own schema. The schema is migrated on open.
    ``max_tickets`` bounds customer memory per customer; ``keep_hours`` bounds agent
    interaction windows (at least the strain window). ``migrate_schema=False`` opens
    without changing anything (``check``); :attr:`version` then says where it stands.
    """

    def __init__(
        self,
        url: str,
        *,
        schema: str | None = None,
        max_tickets: int = 20,
        keep_hours: float = 72.0,
        engine: Engine | None = None,
        migrate_schema: bool = True,
    ) -> None:
        self.url = url
        self.engine = engine or create_store_engine(url, schema=schema)
        self.max_tickets = max_tickets
        self.keep = timedelta(hours=keep_hours)
        self.version = migrate(self.engine) if migrate_schema else self.schema_version()

    def __repr__(self) -> str:
        return f"StateStore({self.engine.url.render_as_string(hide_password=True)!r})"

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def close(self) -> None:
        """Release every pooled connection; on SQLite, fold the WAL back into the file.

        A checkpoint (``TRUNCATE``) then a switch to ``journal_mode=DELETE`` leave just
        the database file (no ``-wal``/``-shm`` beside it) when this was the last
        connection; if another process still has it open, the switch is skipped (it sets
        WAL again on its next connection anyway).
        """
        self.engine.dispose()
        if self.engine.dialect.name != "sqlite":
            return
        path = self.engine.url.database
        if not path or path == ":memory:" or not Path(path).exists():
            return
        import sqlite3

        try:
            conn = sqlite3.connect(path, timeout=0.5)
        except sqlite3.Error:
            return
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("PRAGMA journal_mode=DELETE")
        except sqlite3.Error:
            pass  # still in use elsewhere: leave WAL mode as it is
        finally:
            conn.close()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def schema_version(self) -> int:
        """The applied schema version."""
        with self.engine.connect() as conn:
            return current_version(conn)

    # -- bookmarks ---------------------------------------------------------------------

    def bookmark(self, connector: str, account: str) -> BookmarkState | None:
        """The stored resume point of a connector account, if any."""
        b = t.bookmarks
        with self.engine.connect() as conn:
            row = conn.execute(
                select(b.c.value, b.c.pending, b.c.updated_at).where(
                    b.c.connector == connector, b.c.account == account
                )
            ).first()
        return None if row is None else BookmarkState(row[0], bool(row[1]), row[2])

    def save_bookmark(
        self,
        connector: str,
        account: str,
        value: str | None,
        *,
        pending: bool = False,
        conn: Connection | None = None,
    ) -> None:
        """Store the resume point (inside ``conn``'s transaction when given)."""
        if conn is None:
            with self.engine.begin() as own:
                self.save_bookmark(connector, account, value, pending=pending, conn=own)
            return
        conn.execute(
            upsert(conn, t.bookmarks, ("connector", "account"), ("value", "pending", "updated_at")),
            {
                "connector": connector,
                "account": account,
                "value": value,
                "pending": pending,
                "updated_at": datetime.now(UTC),
            },
        )

    def mark_pending(self, connector: str, account: str) -> None:
        """Say, durably, that a page is being applied (the next run verifies first)."""
        b = t.bookmarks
        with self.engine.begin() as conn:
            done = conn.execute(
                b.update()
                .where(b.c.connector == connector, b.c.account == account)
                .values(pending=True, updated_at=datetime.now(UTC))
            ).rowcount
            if not done:
                self.save_bookmark(connector, account, None, pending=True, conn=conn)

    def reset_bookmark(self, connector: str, account: str) -> bool:
        """Forget a resume point (the next run starts from the configured start)."""
        b = t.bookmarks
        with self.engine.begin() as conn:
            gone = conn.execute(
                delete(b).where(b.c.connector == connector, b.c.account == account)
            ).rowcount
        return bool(gone)

    # -- a page ------------------------------------------------------------------------

    def record_page(self, page: PageRecord) -> None:
        """Record a page in ONE transaction: snapshots, ledger, signals, what ``writers``
        keep (history, timeline, queued prompts) and, last, the bookmark. The only place a
        page's results are written: a crash leaves all of it or none."""
        with self.engine.begin() as conn:
            write_snapshots(conn, page.connector, page.account, page.snapshots)
            self.record_ledger(page.ledger, run_id=page.run_id, conn=conn)
            self.record_signals(page.signals, run_id=page.run_id, conn=conn)
            for write in page.writers:
                write(conn)
            if page.move_bookmark:
                self.save_bookmark(
                    page.connector, page.account, page.bookmark, pending=False, conn=conn
                )

    # -- ledger ------------------------------------------------------------------------

    def applied_keys(self, ticket_keys: Iterable[str]) -> dict[str, set[str]]:
        """Ledger keys per ticket, for the tickets asked about."""
        keys = sorted(set(ticket_keys))
        out: dict[str, set[str]] = {}
        lg = t.ledger
        with self.engine.connect() as conn:
            for part in chunks(keys):
                rows = conn.execute(
                    select(lg.c.ticket_key, lg.c.action_key).where(lg.c.ticket_key.in_(part))
                )
                for ticket_key, action_key in rows:
                    out.setdefault(ticket_key, set()).add(action_key)
        return out

    def record_ledger(
        self,
        entries: Iterable[LedgerEntry],
        *,
        run_id: str | None = None,
        conn: Connection | None = None,
    ) -> None:
        """Add done action keys; a key already in the ledger is left as it is."""
        now = datetime.now(UTC)
        rows = [
            {
                "ticket_key": e.ticket_key,
                "action_key": e.action_key,
                "kind": e.kind,
                "outcome": e.outcome,
                "run_id": run_id,
                "at": now,
            }
            for e in entries
        ]
        if not rows:
            return
        if conn is None:
            with self.engine.begin() as own:
                own.execute(upsert(own, t.ledger, ("ticket_key", "action_key"), None), rows)
            return
        conn.execute(upsert(conn, t.ledger, ("ticket_key", "action_key"), None), rows)

    def ledger_count(self) -> int:
        """How many action keys the ledger holds."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(t.ledger)).scalar_one())

    # -- signals -----------------------------------------------------------------------

    def record_signals(
        self,
        rows: Iterable[tuple[str, datetime, Mapping[str, Any]]],
        *,
        run_id: str | None = None,
        conn: Connection | None = None,
    ) -> None:
        """Append signal summaries ``(ticket_key, evaluated_at, data)``."""
        values = [
            {
                "ticket_key": key,
                "evaluated_at": at,
                "run_id": run_id,
                "data": json.dumps(data, sort_keys=True, separators=(",", ":")),
            }
            for key, at, data in rows
        ]
        if not values:
            return
        if conn is None:
            with self.engine.begin() as own:
                own.execute(t.signal_history.insert(), values)
            return
        conn.execute(t.signal_history.insert(), values)

    def signal_history(self, ticket_key: str) -> list[tuple[datetime, dict[str, Any]]]:
        """The cached signal summaries of a ticket, oldest first."""
        s = t.signal_history
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(s.c.evaluated_at, s.c.data)
                .where(s.c.ticket_key == ticket_key)
                .order_by(s.c.evaluated_at, s.c.id)
            ).all()
        return [(at, json.loads(data)) for at, data in rows]

    # -- History (direct reads) --------------------------------------------------------

    def past_tickets(self, customer_key: str) -> Sequence[PastTicket]:
        """Remembered tickets of a customer, oldest first."""
        with self.engine.connect() as conn:
            found = self.load_past_tickets(conn, [customer_key])
        return tuple(found.get(customer_key, ()))

    def interactions(self, agent_key: str, since: datetime) -> Sequence[Interaction]:
        """An agent's interactions at or after ``since``, oldest first."""
        with self.engine.connect() as conn:
            found = self.load_interactions(conn, [agent_key], since)
        return tuple(found.get(agent_key, ()))

    def last_firing(self, ticket_key: str, rule_id: str) -> Firing | None:
        """When ``rule_id`` last acted in this scope."""
        with self.engine.connect() as conn:
            found = self.load_firings(conn, [ticket_key])
        return found.get((ticket_key, rule_id))

    def current_assignees(self, ticket_keys: Iterable[str]) -> Mapping[str, str | None]:
        """Nothing: the store's snapshots are per helpdesk account, which a bare key does not
        name (:class:`~empathy_firewall.state.PageHistory` reads them for a page)."""
        return {}

    def agents_with_headroom(
        self, since: datetime, until: datetime, below: float, exclude: str | None
    ) -> Sequence[str]:
        """Known agents whose load in ``[since, until]`` is below ``below``, sorted."""
        with self.engine.connect() as conn:
            loads = self.load_agent_loads(conn, since, until)
        return tuple(a for a in sorted(loads) if a != exclude and loads[a] < below)

    # -- History (direct writes) -------------------------------------------------------

    def record_ticket(self, customer_key: str, past: PastTicket) -> None:
        """Remember (or update) one ticket of a customer; keep the latest ``max_tickets``."""
        with self.engine.begin() as conn:
            self.write_past_tickets(conn, [(customer_key, past)])
            self.prune_customers(conn, [customer_key])

    def record_interactions(self, agent_key: str, items: Iterable[Interaction]) -> None:
        """Add an agent's interactions (already recorded ones are ignored)."""
        with self.engine.begin() as conn:
            self.write_interactions(conn, [(agent_key, i) for i in items])

    def record_firing(self, ticket_key: str, firing: Firing) -> None:
        """Remember that a rule acted in a scope."""
        with self.engine.begin() as conn:
            self.write_firings(conn, [(ticket_key, firing)])

    # -- batch primitives (used by PageHistory and the sync job) -----------------------

    def load_past_tickets(
        self, conn: Connection, customer_keys: Iterable[str]
    ) -> dict[str, list[PastTicket]]:
        """Remembered tickets per customer, oldest first."""
        c = t.customer_tickets
        out: dict[str, list[PastTicket]] = {}
        for part in chunks(sorted(set(customer_keys))):
            rows = conn.execute(
                select(
                    c.c.customer_key,
                    c.c.ticket_key,
                    c.c.at,
                    c.c.sentiment,
                    c.c.negative,
                    c.c.created_at,
                )
                .where(c.c.customer_key.in_(part))
                .order_by(c.c.at, c.c.ticket_key)
            )
            for ckey, tkey, at, sentiment, negative, opened in rows:
                past = PastTicket(tkey, at, sentiment, bool(negative), created_at=opened)
                out.setdefault(ckey, []).append(past)
        return out

    def load_interactions(
        self, conn: Connection, agent_keys: Iterable[str], since: datetime
    ) -> dict[str, list[Interaction]]:
        """Interactions per agent at or after ``since``, oldest first."""
        i = t.interactions
        out: dict[str, list[Interaction]] = {}
        for part in chunks(sorted(set(agent_keys))):
            rows = conn.execute(
                select(i.c.agent_key, i.c.comment_key, i.c.at, i.c.weight)
                .where(i.c.agent_key.in_(part), i.c.at >= since)
                .order_by(i.c.at, i.c.comment_key)
            )
            for akey, ckey, at, weight in rows:
                out.setdefault(akey, []).append(Interaction(ckey, at, weight))
        return out

    def load_firings(
        self, conn: Connection, scopes: Iterable[str]
    ) -> dict[tuple[str, str], Firing]:
        """Last firings per (scope, rule) for these scopes."""
        f = t.firings
        out: dict[tuple[str, str], Firing] = {}
        for part in chunks(sorted(set(scopes))):
            rows = conn.execute(
                select(f.c.scope, f.c.rule_id, f.c.at, f.c.episode).where(f.c.scope.in_(part))
            )
            for scope, rule_id, at, episode in rows:
                out[(scope, rule_id)] = Firing(rule_id, at, episode)
        return out

    def load_agent_loads(
        self, conn: Connection, since: datetime, until: datetime
    ) -> dict[str, float]:
        """Every known agent's load (sum of weights) in ``[since, until]``."""
        i = t.interactions
        inside = case((and_(i.c.at >= since, i.c.at <= until), i.c.weight), else_=0.0)
        rows = conn.execute(select(i.c.agent_key, func.sum(inside)).group_by(i.c.agent_key))
        return {agent: float(load or 0.0) for agent, load in rows}

    def write_past_tickets(self, conn: Connection, items: Iterable[tuple[str, PastTicket]]) -> None:
        """Upsert customer tickets."""
        rows = [
            {
                "customer_key": ckey,
                "ticket_key": p.ticket_key,
                "at": p.at,
                "sentiment": p.sentiment,
                "negative": p.negative,
                "created_at": p.created_at,
            }
            for ckey, p in items
        ]
        if rows:
            stmt = upsert(
                conn,
                t.customer_tickets,
                ("customer_key", "ticket_key"),
                ("at", "sentiment", "negative", "created_at"),
            )
            conn.execute(stmt, rows)

    def prune_customers(self, conn: Connection, customer_keys: Iterable[str]) -> None:
        """Keep only the latest ``max_tickets`` tickets of each customer."""
        c = t.customer_tickets
        doomed: list[dict[str, str]] = []
        for ckey, past in self.load_past_tickets(conn, customer_keys).items():
            extra = len(past) - self.max_tickets
            doomed.extend({"c": ckey, "k": p.ticket_key} for p in past[: max(0, extra)])
        if doomed:
            conn.execute(
                delete(c).where(
                    c.c.customer_key == bindparam("c"), c.c.ticket_key == bindparam("k")
                ),
                doomed,
            )

    def forget_past_tickets(self, conn: Connection, pairs: Iterable[tuple[str, str]]) -> None:
        """Delete remembered tickets given as ``(customer_key, ticket_key)``."""
        c = t.customer_tickets
        doomed = [{"c": ckey, "k": tkey} for ckey, tkey in pairs]
        if doomed:
            conn.execute(
                delete(c).where(
                    c.c.customer_key == bindparam("c"), c.c.ticket_key == bindparam("k")
                ),
                doomed,
            )

    def write_interactions(
        self, conn: Connection, items: Iterable[tuple[str, Interaction]]
    ) -> None:
        """Insert interactions, ignoring ones already stored."""
        rows = [
            {"agent_key": akey, "comment_key": i.comment_key, "at": i.at, "weight": i.weight}
            for akey, i in items
        ]
        if rows:
            conn.execute(upsert(conn, t.interactions, ("agent_key", "comment_key"), None), rows)

    def prune_interactions(self, conn: Connection, now: datetime) -> None:
        """Forget interactions older than ``keep_hours`` before ``now``."""
        i = t.interactions
        conn.execute(delete(i).where(i.c.at < now - self.keep))

    def write_firings(self, conn: Connection, items: Iterable[tuple[str, Firing]]) -> None:
        """Upsert last firings."""
        rows = [
            {"scope": scope, "rule_id": f.rule_id, "at": f.at, "episode": f.episode}
            for scope, f in items
        ]
        if rows:
            conn.execute(upsert(conn, t.firings, ("scope", "rule_id"), ("at", "episode")), rows)

    # -- runs --------------------------------------------------------------------------

    def start_run(self, run_id: str, lock_name: str) -> None:
        """Record that a run started."""
        with self.engine.begin() as conn:
            conn.execute(
                t.runs.insert().values(
                    run_id=run_id,
                    lock_name=lock_name,
                    started_at=datetime.now(UTC),
                    status="running",
                )
            )

    def finish_run(
        self,
        run_id: str,
        status: str,
        summary: Mapping[str, Any],
        *,
        read_to_end: bool = False,
    ) -> None:
        """Record how a run ended, with its summary; ``read_to_end`` when it read the
        export to its end (not stopped early by a signal or ``--max-tickets``)."""
        r = t.runs
        with self.engine.begin() as conn:
            conn.execute(
                r.update()
                .where(r.c.run_id == run_id)
                .values(
                    finished_at=datetime.now(UTC),
                    status=status,
                    summary=json.dumps(summary, sort_keys=True),
                    read_to_end=read_to_end,
                )
            )

    def read_to_end(self, lock_name: str) -> bool:
        """Whether a finished run under ``lock_name`` ever read the export to its end."""
        r = t.runs
        with self.engine.connect() as conn:
            found = conn.execute(
                select(r.c.run_id)
                .where(
                    r.c.lock_name == lock_name,
                    r.c.status == "finished",
                    r.c.read_to_end.is_(True),
                )
                .limit(1)
            ).first()
        return found is not None

    def recent_runs(self, limit: int = 10) -> list[dict[str, Any]]:
        """The latest runs, newest first (``running`` with no end: it crashed or runs now)."""
        r = t.runs
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(r.c.run_id, r.c.started_at, r.c.finished_at, r.c.status, r.c.summary)
                .order_by(r.c.started_at.desc())
                .limit(limit)
            ).all()
        return [
            {
                "run_id": row[0],
                "started_at": row[1],
                "finished_at": row[2],
                "status": row[3],
                "summary": json.loads(row[4]) if row[4] else None,
            }
            for row in rows
        ]
