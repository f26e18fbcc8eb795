"""The migration runner applies every migration a store lacks, whatever its number."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, select

from empathy_firewall.state import migrations, schema
from empathy_firewall.state.engine import create_store_engine


def _versions(url: str) -> list[int]:
    engine = create_store_engine(url)
    with engine.connect() as conn:
        found = sorted(conn.execute(select(schema.schema_versions.c.version)).scalars())
    engine.dispose()
    return found


def test_a_store_missing_a_lower_migration_gets_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    every = migrations.MIGRATIONS
    without_2 = tuple(m for m in every if m.version != 2)
    monkeypatch.setattr(migrations, "MIGRATIONS", without_2)
    engine = create_store_engine(url)
    migrations.migrate(engine)  # a build whose branch had no migration 2
    assert 2 not in _versions(url)
    assert not inspect(engine).has_table("ef_ticket_snapshots")

    monkeypatch.setattr(migrations, "MIGRATIONS", every)
    assert migrations.migrate(engine) == max(m.version for m in every)
    assert _versions(url) == sorted(m.version for m in every)
    assert inspect(engine).has_table("ef_ticket_snapshots")
    columns = {c["name"] for c in inspect(engine).get_columns("ef_customer_tickets")}
    assert "created_at" in columns
    migrations.migrate(engine)  # nothing left: a second run changes nothing
    assert _versions(url) == sorted(m.version for m in every)
    engine.dispose()
