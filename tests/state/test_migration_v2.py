"""Migration 2 upgrades a store made before it: remembered tickets gain ``created_at``
(their rows are kept), and the ticket snapshot table appears; on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Column, Connection, inspect
from state_support import pg_schema, pg_url

from empathy_firewall.signals.memory import PastTicket
from empathy_firewall.state import StateStore, migrations, schema

AT = datetime(2026, 11, 1, tzinfo=UTC)


def _v1_without_created_at(conn: Connection) -> None:
    """Migration 1 as it was shipped: ``ef_customer_tickets`` had no ``created_at``."""
    table = schema.customer_tickets
    column: Column[datetime] = table.c.created_at
    table._columns.remove(column)
    try:
        migrations._v1(conn)
    finally:
        table.append_column(column)


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_a_version_1_store_keeps_its_memory_and_gains_created_at(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    @contextmanager
    def place() -> Iterator[str | None]:
        if backend == "sqlite":
            yield None
        else:
            with pg_schema() as name:
                yield name

    def open_store(where: str | None) -> StateStore:
        if backend == "sqlite":
            return StateStore(f"sqlite:///{tmp_path / 'old.db'}")
        return StateStore(pg_url(), schema=where)

    with place() as where:
        with monkeypatch.context() as patched:
            first = migrations.Migration(1, "as shipped", _v1_without_created_at)
            patched.setattr(migrations, "MIGRATIONS", (first,))
            old = open_store(where)
            with old.engine.begin() as conn:
                row = {"customer_key": "c", "ticket_key": "t1", "at": AT, "sentiment": -0.5}
                conn.execute(schema.customer_tickets.insert(), [{**row, "negative": True}])
            old.close()
        store = open_store(where)
        assert store.schema_version() >= 2
        with store.engine.connect() as conn:
            translate = conn.get_execution_options().get("schema_translate_map") or {}
            found = inspect(conn).get_columns("ef_customer_tickets", schema=translate.get(None))
            tables = set(inspect(conn).get_table_names(schema=translate.get(None)))
        assert "created_at" in {c["name"] for c in found}
        assert "ef_ticket_snapshots" in tables
        assert [p.ticket_key for p in store.past_tickets("c")] == ["t1"]
        assert store.past_tickets("c")[0].created_at is None
        store.record_ticket("c", PastTicket("t2", AT, 0.4, False, created_at=AT))
        assert {p.ticket_key: p.created_at for p in store.past_tickets("c")} == {
            "t1": None,
            "t2": AT,
        }
        store.close()
