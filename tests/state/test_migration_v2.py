"""Migration 2 upgrades a store made before it: remembered tickets gain ``created_at``
(their rows are kept), and the ticket snapshot table appears; on both backends."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect
from state_support import migrations_before, store_place, v1_without

from empathy_firewall.signals.memory import PastTicket
from empathy_firewall.state import migrations, schema

AT = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_a_version_1_store_keeps_its_memory_and_gains_created_at(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with store_place(backend, tmp_path) as (open_store, _where):
        with monkeypatch.context() as patched:
            v1 = v1_without(schema.customer_tickets, "created_at")
            patched.setattr(migrations, "MIGRATIONS", migrations_before(2, v1))
            old = open_store()
            with old.engine.begin() as conn:
                row = {"customer_key": "c", "ticket_key": "t1", "at": AT, "sentiment": -0.5}
                conn.execute(schema.customer_tickets.insert(), [{**row, "negative": True}])
            old.close()
        store = open_store()
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
