"""Insight tests: a fresh store on SQLite and on PostgreSQL (helpers from tests/state)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "state"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sync"))

from state_support import pg_schema, pg_url

from empathy_firewall.state import StateStore


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    """A fresh, migrated store on each backend."""
    if request.param == "sqlite":
        opened = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
        yield opened
        opened.close()
        return
    with pg_schema() as schema:
        opened = StateStore(pg_url(), schema=schema)
        yield opened
        opened.close()
