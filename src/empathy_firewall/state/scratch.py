"""A throwaway copy of a PostgreSQL store, in a schema of its own (``sync --dry-run``).

The rehearsal of a sync (:mod:`empathy_firewall.sync.rehearsal`) runs the real job on a
store it may write to freely. On SQLite that is a copy of the file; on PostgreSQL it is a
schema ``ef_rehearsal_<random>`` in the same database, holding a copy of every ``ef_``
table of the store: the same columns, defaults, constraints and index names, the same
rows, and sequences of its own that continue where the store's stand. The tables are
``UNLOGGED``: a copy writes next to nothing to the WAL (nor to replicas), and a server
crash empties them, which a throwaway copy can afford.

How it stays off the real store:

- the copy is read in one ``REPEATABLE READ`` transaction (a consistent snapshot); it takes
  only ``ACCESS SHARE`` locks, which block nothing but DDL, and no row locks, leases or run
  locks, so webhook workers and a real sync go on while it copies;
- nothing is written outside the new schema: the store's own schema is never created or
  migrated (a store not made yet copies as an empty schema, which the rehearsal migrates),
  and column defaults that drew on the store's sequences draw on copies of them;
- the schema is dropped when the rehearsal ends (:meth:`ScratchSchema.drop`). While it
  lives, a session-level advisory lock (``LOCK_CLASS``, ``hashtext(name)``) held on a
  connection of its own says so; a dry run killed before it could drop its schema lets go
  of that lock with its connection, and the next dry run or real sync run drops every
  ``ef_rehearsal_`` schema whose lock it can take (:func:`sweep`, :func:`sweep_server`).

Why not one transaction rolled back at the end: the job commits through many connections
(pages, leases, the run lock); held in one transaction, its upserts would keep row locks on
the real tables (bookmarks, ledger, firings, locks) for the whole rehearsal and block the
real workers, and ``nextval`` is not rolled back.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from empathy_firewall.errors import ConfigError
from empathy_firewall.state.engine import create_store_engine

__all__ = ["LOCK_CLASS", "PREFIX", "ScratchSchema", "copy_store", "sweep", "sweep_server"]

log = logging.getLogger("empathy_firewall.state")

#: every rehearsal schema's name starts with this
PREFIX = "ef_rehearsal_"
#: the first key of the advisory lock a live rehearsal holds (the second: hashtext(name))
LOCK_CLASS = 0x6566_7265  # "efre"

_LOCK = "SELECT pg_try_advisory_lock(:c, hashtext(:n))"
_UNLOCK = "SELECT pg_advisory_unlock(:c, hashtext(:n))"


def _q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


@dataclass
class ScratchSchema:
    """A rehearsal schema, alive while ``holder`` holds its advisory lock."""

    name: str
    engine: Engine
    holder: Connection
    copied: dict[str, int] = field(default_factory=dict)  # rows per table

    def drop(self) -> None:
        """Drop the schema and everything in it, then let go of its lock (idempotent).

        Close every other connection to the schema first (the rehearsal's store). If the
        server cannot be reached now, the schema is left for the next dry run to drop
        (a warning says so): the dry run's result stands."""
        try:
            if not self.holder.closed:
                self.holder.execute(text(f"DROP SCHEMA IF EXISTS {_q(self.name)} CASCADE"))
                self.holder.execute(text(_UNLOCK), {"c": LOCK_CLASS, "n": self.name})
        except SQLAlchemyError as exc:
            log.warning(
                "dry run: could not drop the rehearsal schema %s (%s); the next dry run drops it",
                self.name,
                type(exc).__name__,
            )
        finally:
            self.holder.close()
            self.engine.dispose()


def sweep(holder: Connection) -> list[str]:
    """Drop every rehearsal schema no live rehearsal holds (left by a killed dry run);
    return their names. ``holder`` is an AUTOCOMMIT connection."""
    names = holder.execute(
        text("SELECT nspname FROM pg_namespace WHERE starts_with(nspname, :p) ORDER BY 1"),
        {"p": PREFIX},
    ).scalars()
    dropped: list[str] = []
    for name in list(names):
        if not holder.execute(text(_LOCK), {"c": LOCK_CLASS, "n": name}).scalar_one():
            continue  # a rehearsal is running in it
        try:
            holder.execute(text(f"DROP SCHEMA IF EXISTS {_q(name)} CASCADE"))
            dropped.append(name)
        except DBAPIError as exc:  # e.g. made by another role: leave it, say so
            log.warning("could not drop the stale rehearsal schema %s (%s)", name, exc.orig)
        finally:
            holder.execute(text(_UNLOCK), {"c": LOCK_CLASS, "n": name})
    if dropped:
        log.info("dropped %d rehearsal schema(s) left by a stopped dry run", len(dropped))
    return dropped


def sweep_server(engine: Engine) -> list[str]:
    """:func:`sweep` on the server of ``engine`` (a real sync run calls it, so a killed
    dry run's copy does not wait for the next dry run to be dropped); nothing on SQLite.

    Housekeeping only: a failure is logged and the run goes on.
    """
    if engine.dialect.name != "postgresql":
        return []
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as holder:
            return sweep(holder)
    except SQLAlchemyError as exc:
        log.warning("could not look for stale rehearsal schemas (%s)", type(exc).__name__)
        return []


def copy_store(url: str, schema: str | None) -> ScratchSchema:
    """Copy the store at ``url`` (its tables in ``schema``, or where the connection's
    ``search_path`` puts them) into a new rehearsal schema; see the module docstring.

    Raises :class:`ConfigError` when the role may not create a schema, and SQLAlchemy's
    errors when the server fails.
    """
    engine = create_store_engine(url)  # no schema: never creates the store's own
    try:
        holder = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    except BaseException:
        engine.dispose()
        raise
    try:
        sweep(holder)
        while True:  # a fresh name, locked before the schema exists
            name = f"{PREFIX}{uuid.uuid4().hex[:16]}"
            if holder.execute(text(_LOCK), {"c": LOCK_CLASS, "n": name}).scalar_one():
                break
        scratch = ScratchSchema(name, engine, holder)
        try:
            with engine.connect() as conn:
                conn.execution_options(isolation_level="REPEATABLE READ")
                with conn.begin():
                    scratch.copied = _copy(conn, schema, name)
        except BaseException:
            scratch.drop()
            raise
    except BaseException:
        holder.close()
        engine.dispose()
        raise
    return scratch


def _copy(conn: Connection, source: str | None, target: str) -> dict[str, int]:
    """Create ``target`` and copy every ``ef_`` table of ``source`` into it (one
    transaction); return the rows copied per table."""
    try:
        conn.execute(text(f"CREATE SCHEMA {_q(target)}"))
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) != "42501":  # insufficient_privilege
            raise
        database = conn.engine.url.database
        raise ConfigError(
            "state.url: sync --dry-run rehearses on a copy of the store in a throwaway "
            f"schema ({PREFIX}...), and this role may not create one: "
            f"GRANT CREATE ON DATABASE {database} TO <the sync role>"
        ) from None
    if source is None:
        source = conn.execute(text("SELECT current_schema()")).scalar()
        if source is None:
            return {}  # nothing on the search_path exists: no store yet
    tables = list(
        conn.execute(
            text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = :s AND c.relkind = 'r' AND starts_with(c.relname, 'ef_') "
                "ORDER BY 1"
            ),
            {"s": source},
        ).scalars()
    )
    copied: dict[str, int] = {}
    for table in tables:
        src, dst = f"{_q(source)}.{_q(table)}", f"{_q(target)}.{_q(table)}"
        conn.execute(
            text(f"CREATE UNLOGGED TABLE {dst} (LIKE {src} INCLUDING ALL EXCLUDING INDEXES)")
        )
        _own_sequences(conn, source, target, table)
        columns = ", ".join(
            _q(c)
            for c in conn.execute(
                text(
                    "SELECT attname FROM pg_attribute WHERE attrelid = CAST(:t AS regclass) "
                    "AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum"
                ),
                {"t": dst},
            ).scalars()
        )
        insert = (
            f"INSERT INTO {dst} ({columns}) "  # noqa: S608 - identifiers we quoted, never input
            f"OVERRIDING SYSTEM VALUE SELECT {columns} FROM {src}"
        )
        copied[table] = conn.execute(text(insert)).rowcount
        _indexes(conn, src, dst)
    return copied


def _own_sequences(conn: Connection, source: str, target: str, table: str) -> None:
    """Give the copy of ``table`` sequences of its own, continuing where the store's stand:
    defaults that call ``nextval`` on a sequence outside ``target`` and identity columns."""
    dst = f"{_q(target)}.{_q(table)}"
    found = conn.execute(
        text(
            "SELECT a.attname, s.relname, quote_ident(sn.nspname) || '.' || quote_ident(s.relname) "
            "FROM pg_attrdef d "
            "JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum "
            "JOIN pg_depend dep ON dep.classid = 'pg_attrdef'::regclass AND dep.objid = d.oid "
            "AND dep.refclassid = 'pg_class'::regclass "
            "JOIN pg_class s ON s.oid = dep.refobjid AND s.relkind = 'S' "
            "JOIN pg_namespace sn ON sn.oid = s.relnamespace "
            "WHERE d.adrelid = CAST(:t AS regclass) AND sn.nspname <> :target"
        ),
        {"t": dst, "target": target},
    ).all()
    for column, seq_name, seq in found:
        mine = f"{_q(target)}.{_q(seq_name)}"
        conn.execute(text(f"CREATE SEQUENCE {mine} OWNED BY {dst}.{_q(column)}"))
        _continue(conn, seq, mine)
        literal = mine.replace("'", "''")
        conn.execute(
            text(f"ALTER TABLE {dst} ALTER COLUMN {_q(column)} SET DEFAULT nextval('{literal}')")
        )
    identities = conn.execute(
        text(
            "SELECT attname FROM pg_attribute WHERE attrelid = CAST(:t AS regclass) "
            "AND attidentity <> '' AND NOT attisdropped"
        ),
        {"t": dst},
    ).scalars()
    src = f"{_q(source)}.{_q(table)}"
    for column in list(identities):
        seqs = conn.execute(
            text("SELECT pg_get_serial_sequence(:s, :c), pg_get_serial_sequence(:d, :c)"),
            {"s": src, "d": dst, "c": column},
        ).one()
        if seqs[0] and seqs[1]:
            _continue(conn, seqs[0], seqs[1])


def _continue(conn: Connection, source: str, copy: str) -> None:
    """Set the sequence ``copy`` where the sequence ``source`` stands (both quoted names);
    reading a sequence does not advance it."""
    read = f"SELECT last_value, is_called FROM {source}"  # noqa: S608 - a catalog name
    last, called = conn.execute(text(read)).one()
    conn.execute(
        text("SELECT setval(CAST(:s AS regclass), :v, :c)"), {"s": copy, "v": last, "c": called}
    )


def _indexes(conn: Connection, src: str, dst: str) -> None:
    """Recreate the store table's constraints and indexes on the copy, under their names."""
    rows = conn.execute(
        text(
            "SELECT c.conname, pg_get_constraintdef(c.oid), pg_get_indexdef(i.indexrelid) "
            "FROM pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid "
            "AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x') "
            "WHERE i.indrelid = CAST(:t AS regclass) ORDER BY i.indexrelid"
        ),
        {"t": src},
    ).all()
    qualified = conn.execute(
        text(
            "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = CAST(:t AS regclass)"
        ),
        {"t": src},
    ).scalar_one()
    for constraint, definition, index in rows:
        if constraint is not None:
            conn.execute(text(f"ALTER TABLE {dst} ADD CONSTRAINT {_q(constraint)} {definition}"))
            continue
        on = f" ON {qualified} USING "
        if index.count(on) != 1:
            raise RuntimeError(f"cannot copy the index {index!r}")
        conn.execute(text(index.replace(on, f" ON {dst} USING ")))
