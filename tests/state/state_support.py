"""PostgreSQL helpers for the state and sync tests: reachability and throwaway schemas."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Connection, Table, create_engine, text

from empathy_firewall.state import StateStore, migrations
from empathy_firewall.state.migrations import Migration

__all__ = [
    "migrations_before",
    "pg_schema",
    "pg_url",
    "require_postgres",
    "store",
    "store_place",
    "v1_without",
]


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


@contextmanager
def store_place(
    backend: str, folder: Path
) -> Iterator[tuple[Callable[[], StateStore], str | None]]:
    """Where one store lives across several openings (a migration test opens it as an older
    build made it, then as this one): a function that opens it, and its PostgreSQL schema
    (None on SQLite). The schema is dropped afterwards."""
    if backend == "sqlite":
        yield (lambda: StateStore(f"sqlite:///{folder / 'old.db'}")), None
        return
    with pg_schema() as name:
        yield (lambda: StateStore(pg_url(), schema=name)), name


def v1_without(
    table: Table, column: str, *, index: str | None = None
) -> Callable[[Connection], None]:
    """Migration 1 as a build before ``column`` (and ``index``) made it: the current v1,
    run with them taken out of the metadata, which gets them back afterwards."""

    def apply(conn: Connection) -> None:
        taken = table.c[column]
        taken_index = next(i for i in table.indexes if i.name == index) if index else None
        table._columns.remove(taken)
        if taken_index is not None:
            table.indexes.discard(taken_index)
        try:
            migrations._v1(conn)
        finally:
            table.append_column(taken)
            if taken_index is not None:
                table.indexes.add(taken_index)

    return apply


def migrations_before(version: int, first: Callable[[Connection], None]) -> tuple[Migration, ...]:
    """The migrations a build before ``version`` had, its migration 1 being ``first``."""
    older = tuple(m for m in migrations.MIGRATIONS if 1 < m.version < version)
    return (Migration(1, "as shipped", first), *older)
