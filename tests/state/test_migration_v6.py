"""Migration 6: runs say in a typed column whether they read the export to its end.

Before it, the sync job found a complete run by matching ``"stopped_because": null`` in the
stored summary text; a store made then gains the column, filled from that text once, and
from then on :meth:`StateStore.read_to_end` reads only the column."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect
from state_support import migrations_before, store_place, v1_without

from empathy_firewall.state import StateStore, migrations, schema

AT = datetime(2026, 11, 1, tzinfo=UTC)


def _run(run_id: str, lock: str, status: str, stopped: str | None) -> dict[str, object]:
    summary = json.dumps({"status": status, "stopped_because": stopped}, sort_keys=True)
    return {
        "run_id": run_id,
        "lock_name": lock,
        "started_at": AT,
        "finished_at": AT,
        "status": status,
        "summary": summary,
    }


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_old_runs_gain_the_column_from_their_summary_text(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with store_place(backend, tmp_path) as (open_store, _where):
        with monkeypatch.context() as patched:
            v1 = v1_without(schema.runs, "read_to_end")
            patched.setattr(migrations, "MIGRATIONS", migrations_before(6, v1))
            old = open_store()
            with old.engine.begin() as conn:
                conn.execute(
                    schema.runs.insert(),
                    [
                        _run("a", "sync:zendesk:acme", "finished", None),
                        _run("b", "sync:freshdesk:acme", "finished", "--max-tickets 5 reached"),
                        _run("c", "sync:file:x", "failed", None),
                    ],
                )
            old.close()
        store = open_store()
        assert store.schema_version() >= 6
        with store.engine.connect() as conn:
            translate = conn.get_execution_options().get("schema_translate_map") or {}
            found = inspect(conn).get_columns("ef_runs", schema=translate.get(None))
        assert "read_to_end" in {c["name"] for c in found}
        assert store.read_to_end("sync:zendesk:acme")
        assert not store.read_to_end("sync:freshdesk:acme")  # stopped early
        assert not store.read_to_end("sync:file:x")  # failed
        store.close()


def test_only_the_column_says_a_run_read_to_the_end(tmp_path: Path) -> None:
    with StateStore(f"sqlite:///{tmp_path / 's.db'}") as store:
        # the summary text says nothing stopped it, but the run itself said it did not
        # read to the end: the text is no longer consulted
        store.start_run("r1", "sync:file:x")
        store.finish_run("r1", "finished", {"stopped_because": None}, read_to_end=False)
        assert not store.read_to_end("sync:file:x")
        store.start_run("r2", "sync:file:x")
        store.finish_run("r2", "finished", {"stopped_because": "signal"}, read_to_end=True)
        assert store.read_to_end("sync:file:x")
        assert not store.read_to_end("sync:file:y")
