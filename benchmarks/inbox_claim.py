"""Benchmark: what one worker claim costs when the inbox holds a large backlog.

Run from the repository root::

    python benchmarks/inbox_claim.py                        # 100,000 events, SQLite and PostgreSQL
    python benchmarks/inbox_claim.py --events 20000 --tickets 1000 --no-postgres

A worker claims *tickets* (every waiting event of up to ``batch`` settled tickets, see
docs/webhooks.md); the claim groups the claimable events by ticket, so its cost grows
with the backlog. After a long helpdesk outage the inbox can hold many thousands of
events. The store is filled with ``--events`` pending events spread over ``--tickets``
tickets, all settled, and then, side by side in one run, ``--claims`` claims of each
kind are timed, alternating:

* ``per ticket``: :func:`empathy_firewall.state.inbox.claim` with ``limit=25`` tickets;
* ``per event``: the claim before schema 7, the 50 oldest claimable events
  (``ORDER BY id LIMIT 50 FOR UPDATE SKIP LOCKED``), for comparison.

Each claim is committed and then put back, so every claim sees the same backlog.

Printed per backend: the median and worst milliseconds per claim, the events and the
tickets one claim hands out, and events per millisecond. PostgreSQL at 127.0.0.1:5432,
database ``test`` (``--pg-url``), in a throwaway schema that is dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select, text

from empathy_firewall.state import StateStore, inbox
from empathy_firewall.state import schema as t

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def fill(store: StateStore, events: int, tickets: int) -> None:
    """``events`` pending events, round-robin over ``tickets`` tickets, all a minute old."""
    received = datetime.now(UTC) - timedelta(minutes=1)
    rows = [
        {
            "connector": "zendesk",
            "account": "acme",
            "dedupe_key": f"e{n}",
            "payload": json.dumps({"ticket": str(n % tickets), "type": "ticket.updated"}),
            "ticket": str(n % tickets),
            "received_at": received,
            "status": "pending",
            "attempts": 0,
        }
        for n in range(events)
    ]
    with store.engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            conn.execute(t.inbox.insert(), rows[start : start + 5000])
        if conn.dialect.name == "postgresql":
            conn.execute(text("ANALYZE " + _table(conn)))


def _table(conn: Connection) -> str:
    translate = conn.get_execution_options().get("schema_translate_map") or {}
    schema = translate.get(None)
    return f'"{schema}".ef_inbox' if schema else "ef_inbox"


def per_event_claim(conn: Connection) -> list[Any]:
    """The claim before schema 7: the 50 oldest claimable events, locked and updated."""
    ib = t.inbox
    picked = (
        select(ib.c.id)
        .where(inbox.claimable(datetime.now(UTC)), ib.c.attempts < 5)
        .order_by(ib.c.id)
        .limit(50)
        .with_for_update(skip_locked=True)
        .cte("picked")
        .prefix_with("MATERIALIZED")
    )
    return list(
        conn.execute(
            ib.update()
            .where(ib.c.id == picked.c.id)
            .values(status="claimed", claimed_by="bench", attempts=ib.c.attempts + 1)
            .returning(ib.c.id, ib.c.ticket)
        ).all()
    )


def _undo(store: StateStore) -> None:
    """Put the benchmark's claim back (``inbox.claim`` commits its own transaction)."""
    with store.engine.begin() as conn:
        conn.execute(
            t.inbox.update()
            .where(t.inbox.c.claimed_by == "bench")
            .values(status="pending", claimed_by=None, claimed_until=None, attempts=0)
        )


def per_ticket(store: StateStore) -> list[tuple[int, str | None]]:
    """The claim since schema 7: every event of the 25 oldest settled tickets."""
    items = inbox.claim(store, "bench", limit=25)
    return [(item.id, inbox.ticket_of(item.payload)) for item in items]


def per_event(store: StateStore) -> list[tuple[int, str | None]]:
    with store.engine.begin() as conn:
        return [(row[0], row[1]) for row in per_event_claim(conn)]


def run(store: StateStore, claims: int) -> dict[str, dict[str, float]]:
    """Both claims, alternating; each is undone before the next, so the backlog stays."""
    kinds: dict[str, Callable[[StateStore], list[tuple[int, str | None]]]] = {
        "per ticket": per_ticket,
        "per event": per_event,
    }
    times: dict[str, list[float]] = {name: [] for name in kinds}
    sizes: dict[str, list[tuple[int, int]]] = {name: [] for name in kinds}
    for _ in range(claims):
        for name, claim in kinds.items():
            started = time.perf_counter()
            rows = claim(store)
            times[name].append(time.perf_counter() - started)
            sizes[name].append((len(rows), len({ticket for _id, ticket in rows})))
            _undo(store)
    return {
        name: {
            "median_ms": 1000 * statistics.median(times[name]),
            "max_ms": 1000 * max(times[name]),
            "events": statistics.mean(n for n, _ in sizes[name]),
            "tickets": statistics.mean(k for _, k in sizes[name]),
        }
        for name in kinds
    }


def report(backend: str, results: dict[str, dict[str, float]]) -> None:
    for name, r in results.items():
        rate = r["events"] / r["median_ms"] if r["median_ms"] else 0.0
        print(
            f"{backend:<11} {name:<10}: median {r['median_ms']:.1f} ms, worst {r['max_ms']:.1f} ms"
            f" per claim; {r['events']:.0f} events of {r['tickets']:.0f} tickets per claim"
            f" ({rate:.1f} events/ms)",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--tickets", type=int, default=5_000)
    parser.add_argument("--claims", type=int, default=15)
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    print(f"backlog: {args.events} pending events on {args.tickets} tickets", flush=True)
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            store = StateStore(f"sqlite:///{Path(tmp) / 'claim.db'}")
            fill(store, args.events, args.tickets)
            report("SQLite", run(store, args.claims))
            store.close()
    if not args.no_postgres:
        schema = f"ef_bench_{uuid.uuid4().hex[:8]}"
        store = StateStore(args.pg_url, schema=schema)
        try:
            fill(store, args.events, args.tickets)
            report("PostgreSQL", run(store, args.claims))
        finally:
            with store.engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            store.close()


if __name__ == "__main__":
    main()
