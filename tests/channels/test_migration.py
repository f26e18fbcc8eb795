"""Migration 4 upgrades a store created before it, on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect
from state_support import pg_schema, pg_url

from empathy_firewall.state import StateStore, migrations


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_an_existing_store_gains_the_agent_tables(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def open_store(schema: str | None) -> StateStore:
        if backend == "sqlite":
            return StateStore(f"sqlite:///{tmp_path / 'old.db'}")
        return StateStore(pg_url(), schema=schema)

    def check(schema: str | None) -> None:
        with monkeypatch.context() as patched:
            patched.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:1])
            old = open_store(schema)
            assert old.version == 1
            old.close()
        store = open_store(schema)
        assert store.version >= 4
        with store.engine.connect() as conn:
            translate = conn.get_execution_options().get("schema_translate_map") or {}
            names = set(inspect(conn).get_table_names(schema=translate.get(None)))
        assert {"ef_agent_opt_ins", "ef_agent_prompts", "ef_agent_digests"} <= names
        store.close()

    if backend == "sqlite":
        check(None)
    else:
        with pg_schema() as schema:
            check(schema)
