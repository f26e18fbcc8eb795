"""The store fixture: every test in tests/state runs on SQLite and on PostgreSQL.

PostgreSQL tests use 127.0.0.1:5432 (database ``test``, trust auth; override with
``EF_TEST_PG_URL``) in a fresh schema per test, dropped afterwards. They skip
with a reason when the server is unreachable; CI provides it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from state_support import pg_schema, pg_url

from empathy_firewall.state import StateStore

__all__ = ["store"]


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
