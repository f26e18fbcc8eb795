"""Opening a database: URL checks, the SQLite pragmas, PostgreSQL schemas.

One code path for both backends. SQLite runs in WAL mode with a busy timeout, and its
driver's implicit transactions are replaced by explicit ``BEGIN`` (``BEGIN IMMEDIATE``
for connections opened with the ``ef_immediate`` execution option), as SQLAlchemy
recommends, so transactions mean the same thing on both backends.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from empathy_firewall.errors import ConfigError

__all__ = ["create_store_engine", "normalize_url", "sqlite_url"]

_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a SQLite file."""
    return f"sqlite:///{path}"


def normalize_url(url: str) -> str:
    """Check a state URL and pick the psycopg (3) driver for ``postgresql://``.

    Raises :class:`ConfigError` naming ``state.url`` (the password is never echoed).
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            "state.url: expected sqlite:///path/to/state.db or "
            "postgresql+psycopg://user@host/database"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database in (None, ""):
            raise ConfigError("state.url: a SQLite URL needs a file path (sqlite:///state.db)")
        return url
    if backend == "postgresql":
        driver = parsed.get_driver_name()
        if driver not in ("psycopg", "postgresql"):
            raise ConfigError(
                f"state.url: PostgreSQL driver {driver!r} is not supported; use postgresql+psycopg"
            )
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    raise ConfigError(f"state.url: backend {backend!r} is not supported (sqlite or postgresql)")


def _sqlite_events(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: safe against kill -9
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("ef_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def create_store_engine(url: str, *, schema: str | None = None) -> Engine:
    """A SQLAlchemy engine for the store; ``schema`` (PostgreSQL only) holds the tables."""
    url = normalize_url(url)
    sqlite = make_url(url).get_backend_name() == "sqlite"
    if schema is not None:
        if sqlite:
            raise ConfigError("state.schema: only PostgreSQL has schemas; remove it for SQLite")
        if not _SCHEMA.match(schema):
            raise ConfigError("state.schema: expected a lower-case SQL identifier")
    if sqlite:
        path = make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30.0})
        _sqlite_events(engine)
        return engine
    options: dict[str, Any] = {"pool_pre_ping": True}
    try:
        engine = create_engine(url, **options)
    except ImportError:
        raise ConfigError(
            "state.url: PostgreSQL needs the psycopg driver: "
            "pip install 'empathy-firewall[postgres]'"
        ) from None
    if schema is not None:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        engine = engine.execution_options(schema_translate_map={None: schema})
    return engine
