"""Schema migrations: a small versioned table, applied in order, each in its own transaction.

Why not Alembic: the schema is small and ships inside a library; the runner must work the
same on SQLite and PostgreSQL, from any process, with no migration environment or ini file
to install. Each :class:`Migration` runs in one transaction together with the row that
records it, so a crash mid-migration leaves the previous version intact (PostgreSQL DDL is
transactional; SQLite's is too). Concurrent starters serialize on a lock (an advisory
transaction lock on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), and re-check the version.

Adding a migration: append ``Migration(version=N + 1, ...)`` with explicit DDL; never edit
an applied one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, Table, inspect, select, text

from empathy_firewall.errors import ConfigError
from empathy_firewall.state import agent_tables, rate_tables, schema
from empathy_firewall.state.sql import qualified_name, store_schema

__all__ = ["MIGRATIONS", "Migration", "current_version", "migrate"]

_LOCK_ID = 0x6566_5F6D_6967  # "ef_mig": the advisory lock key on PostgreSQL


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step: its version, what it does, and the function that does it."""

    version: int
    description: str
    apply: Callable[[Connection], None]


def _v1(conn: Connection) -> None:
    tables = [t for t in schema.metadata.sorted_tables if t is not schema.schema_versions]
    schema.metadata.create_all(conn, tables=tables)


def _add_column(conn: Connection, table: Table, column: str, kind: str) -> None:
    """``ALTER TABLE ... ADD COLUMN`` unless the column is there (a store whose v1 was made
    by a build that already had it: v1 creates the tables from the current metadata)."""
    found = inspect(conn).get_columns(table.name, schema=store_schema(conn))
    if column in {c["name"] for c in found}:
        return
    quoted = conn.dialect.identifier_preparer.quote(column)
    conn.execute(text(f"ALTER TABLE {qualified_name(conn, table)} ADD COLUMN {quoted} {kind}"))


def _v2(conn: Connection) -> None:
    from empathy_firewall.state import snapshots

    kind = "TIMESTAMP WITH TIME ZONE" if conn.dialect.name == "postgresql" else "DATETIME"
    _add_column(conn, schema.customer_tickets, "created_at", kind)
    snapshots.metadata.create_all(conn)


def _v3(conn: Connection) -> None:
    rate_tables.metadata.create_all(conn)


def _v4(conn: Connection) -> None:
    agent_tables.metadata.create_all(conn)


def _v5(conn: Connection) -> None:
    from empathy_firewall.insights import tables

    tables.metadata.create_all(conn)


def _v6(conn: Connection) -> None:
    _add_column(conn, schema.runs, "read_to_end", "BOOLEAN")
    r = schema.runs
    # earlier builds said it only in the summary text: read it once, here
    conn.execute(
        r.update()
        .where(
            r.c.status == "finished",
            r.c.read_to_end.is_(None),
            r.c.summary.like('%"stopped_because": null%'),
        )
        .values(read_to_end=True)
    )


def _v7(conn: Connection) -> None:
    _add_column(conn, schema.inbox, "ticket", "VARCHAR(300)")
    for index in schema.inbox.indexes:
        index.create(conn, checkfirst=True)


#: every migration, oldest first
MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "bookmarks, ledger, firings, customer memory, agent load, signals, inbox, locks, runs",
        _v1,
    ),
    Migration(
        2,
        "ticket snapshots (derived history, agent backlog); when remembered tickets opened",
        _v2,
    ),
    Migration(3, "rate gates: one account's Retry-After and API budget, shared", _v3),
    Migration(4, "agent opt-ins, the agent prompt outbox and delivered digests", _v4),
    Migration(5, "the per-message timeline and positive moments (insights)", _v5),
    Migration(6, "runs say whether they read to the end of the export (a typed column)", _v6),
    Migration(7, "inbox items name their ticket: a ticket's events are claimed together", _v7),
)


def current_version(conn: Connection) -> int:
    """The highest applied version (0 for an empty database)."""
    if not inspect(conn).has_table(schema.schema_versions.name, schema=store_schema(conn)):
        return 0
    found = conn.execute(select(schema.schema_versions.c.version)).scalars().all()
    return max(found, default=0)


def _locked(engine: Engine) -> Connection:
    """A connection whose transaction excludes other migrators until it ends."""
    conn = engine.connect().execution_options(ef_immediate=True)  # SQLite: BEGIN IMMEDIATE
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_ID})
    return conn


def _applied(conn: Connection) -> set[int]:
    """Every version recorded as applied."""
    return set(conn.execute(select(schema.schema_versions.c.version)).scalars().all())


def migrate(engine: Engine) -> int:
    """Bring the schema to the newest version; return it.

    Every migration not yet recorded is applied, in version order, even one numbered below
    the highest applied (a store made by a build that had 1, 4 and 5 still gets 2).
    A database newer than this code raises :class:`ConfigError` (upgrade empathy-firewall).
    """
    latest = max(m.version for m in MIGRATIONS)  # entries may be merged out of order
    with _locked(engine) as conn:
        schema.metadata.create_all(conn, tables=[schema.schema_versions])
        version = current_version(conn)
        applied = _applied(conn)
        conn.commit()
    if version > latest:
        raise ConfigError(
            f"the state store has schema version {version}, newer than this empathy-firewall "
            f"knows ({latest}); upgrade empathy-firewall"
        )
    for step in sorted(MIGRATIONS, key=lambda m: m.version):
        if step.version in applied:
            continue
        with _locked(engine) as conn:
            if step.version in _applied(conn):  # another process got there first
                conn.rollback()
                continue
            step.apply(conn)
            conn.execute(
                schema.schema_versions.insert().values(
                    version=step.version,
                    description=step.description,
                    applied_at=datetime.now(UTC),
                )
            )
            conn.commit()
    return latest
