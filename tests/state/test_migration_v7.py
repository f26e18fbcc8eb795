"""Migration 7: inbox items name their ticket (a ticket's events are claimed together).

A store made before it gains the column and its index; the items it already holds name
no ticket and are still handed out, one by one. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect
from state_support import migrations_before, store_place, v1_without

from empathy_firewall.state import inbox, migrations, schema


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_an_older_inbox_gains_the_ticket_column_and_keeps_its_items(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with store_place(backend, tmp_path) as (open_store, where):
        with monkeypatch.context() as patched:
            v1 = v1_without(schema.inbox, "ticket", index="ef_inbox_ticket")
            patched.setattr(migrations, "MIGRATIONS", migrations_before(7, v1))
            old = open_store()
            with old.engine.begin() as conn:
                found = inspect(conn).get_columns("ef_inbox", schema=where)
                assert "ticket" not in {c["name"] for c in found}
                conn.execute(
                    schema.inbox.insert().values(
                        connector="zendesk",
                        account="acme",
                        dedupe_key="legacy",
                        payload='{"ticket":"7","type":"ticket.updated"}',
                        received_at=datetime.now(UTC),
                        status="pending",
                        attempts=0,
                    )
                )
            old.close()
        store = open_store()
        assert store.schema_version() >= 7
        with store.engine.connect() as conn:
            inspector = inspect(conn)
            assert "ticket" in {c["name"] for c in inspector.get_columns("ef_inbox", schema=where)}
            indexes = {i["name"] for i in inspector.get_indexes("ef_inbox", schema=where)}
            assert "ef_inbox_ticket" in indexes
        # the legacy item names no ticket in its row: it is handed out at once
        assert [i.dedupe_key for i in inbox.claim(store, "w1")] == ["legacy"]
        assert inbox.put(store, "zendesk", "acme", "new", '{"ticket":"7"}')
        with store.engine.connect() as conn:
            tickets = dict(
                conn.execute(
                    schema.inbox.select().with_only_columns(
                        schema.inbox.c.dedupe_key, schema.inbox.c.ticket
                    )
                ).all()
            )
        assert tickets == {"legacy": None, "new": "7"}
        store.close()
