"""Channel tests share the PostgreSQL helpers of tests/state and the support module here."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "state"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from collections.abc import Iterator

import pytest
from state_support import pg_schema, pg_url

from empathy_firewall.state import StateStore


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    """A fresh, migrated store on each backend (PostgreSQL in its own schema)."""
    if request.param == "sqlite":
        opened = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
        yield opened
        opened.close()
        return
    with pg_schema() as schema:
        opened = StateStore(pg_url(), schema=schema)
        yield opened
        opened.close()


@pytest.fixture
def lite(tmp_path: Path) -> Iterator[StateStore]:
    """A SQLite store only (tests about a channel, not about the backends)."""
    opened = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    yield opened
    opened.close()
