"""Small SQL helpers every state table module shares (no store, no migrations here).

They sit below :mod:`empathy_firewall.state.store` and the table modules, so a module that
defines tables for a migration can use them without importing the store.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

__all__ = ["chunks", "qualified_name", "relax_commit", "store_schema", "upsert"]

_CHUNK = 1000


def chunks(items: Sequence[str], size: int = _CHUNK) -> Iterator[Sequence[str]]:
    """Slices of at most ``size`` items (keeps IN lists within every backend's limits)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def upsert(
    conn: Connection, table: Any, keys: Sequence[str], update: Sequence[str] | None
) -> Insert:
    """An INSERT that updates ``update`` columns (or does nothing) on a key conflict."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table)
    if not update:
        return stmt.on_conflict_do_nothing(index_elements=list(keys))
    return stmt.on_conflict_do_update(
        index_elements=list(keys), set_={c: stmt.excluded[c] for c in update}
    )


def relax_commit(conn: Connection) -> None:
    """Let this transaction's COMMIT return before its WAL reaches the disk (PostgreSQL).

    ``SET LOCAL synchronous_commit = off``: the commit is atomic and visible at once, but a
    server crash within about 0.6 s (three ``wal_writer_delay``) may undo it; any later
    durable commit on the server flushes it too (the WAL is one sequence). Only for
    bookkeeping whose loss is provably harmless (docs/webhooks.md, "Which commits wait for
    the disk"); a no-op on SQLite.
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL synchronous_commit = off")


def store_schema(bind: Connection | Engine) -> str | None:
    """The schema the store's tables live in (the bind's ``schema_translate_map``; the
    engine sets it for a store opened with a schema), or None for the default one."""
    translate = bind.get_execution_options().get("schema_translate_map") or {}
    schema: str | None = translate.get(None)
    return schema


def qualified_name(bind: Connection | Engine, table: Table) -> str:
    """``table``'s name quoted by the dialect and qualified with :func:`store_schema`, for
    the few statements written as text (the schema name was checked against a strict
    identifier pattern when the engine was made)."""
    quote = bind.dialect.identifier_preparer
    name = quote.quote(table.name)
    schema = store_schema(bind)
    return f"{quote.quote_schema(schema)}.{name}" if schema else name
