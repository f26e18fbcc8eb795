"""PostgreSQL helpers for the state and sync tests: reachability and throwaway schemas."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from empathy_firewall.state import StateStore

__all__ = ["pg_schema", "pg_url", "require_postgres", "store"]


def pg_url() -> str:
    """The test server's URL (``EF_TEST_PG_URL`` overrides the local default)."""
    return os.environ.get("EF_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def require_postgres() -> None:
    """Skip the calling test, with the reason, when the server is not reachable.

    Under CI (``CI`` set) the server must be there: the test fails instead of skipping.
    """
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1.0):
            pass
    except OSError as exc:
        reason = f"PostgreSQL not reachable at 127.0.0.1:5432 ({exc.strerror})"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must provide it")
        pytest.skip(reason)


@contextmanager
def pg_schema() -> Iterator[str]:
    """A fresh schema name for one test; the schema is dropped afterwards."""
    require_postgres()
    name = f"ef_test_{uuid.uuid4().hex[:12]}"
    try:
        yield name
    finally:
        engine = create_engine(pg_url())
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    """A fresh, migrated store on each backend (PostgreSQL in a schema of its own).

    Test folders that need it import it into their ``conftest.py``.
    """
    if request.param == "sqlite":
        opened = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
        yield opened
        opened.close()
        return
    with pg_schema() as schema:
        opened = StateStore(pg_url(), schema=schema)
        yield opened
        opened.close()
