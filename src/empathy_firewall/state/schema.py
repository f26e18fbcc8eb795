"""The state store's tables (SQLAlchemy Core), identical on SQLite and PostgreSQL.

Every time is stored in UTC through :class:`UTCDateTime`, so comparisons work the same on
both backends. Table names start with ``ef_`` so the store can share a database.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

__all__ = [
    "UTCDateTime",
    "bookmarks",
    "customer_tickets",
    "firings",
    "inbox",
    "interactions",
    "ledger",
    "locks",
    "metadata",
    "runs",
    "schema_versions",
    "signal_history",
]


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime in, an aware UTC datetime out, on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Normalize to UTC; SQLite stores it naive (always UTC)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("the state store only stores timezone-aware datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Read back as aware UTC."""
        if value is None:
            return None
        moment: datetime = value
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


metadata = MetaData()

#: applied migrations, one row per version
schema_versions = Table(
    "ef_schema_versions",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("description", String(200), nullable=False),
    Column("applied_at", UTCDateTime, nullable=False),
)

#: the resume point of each (connector, account); ``pending`` is set while a page is applied
bookmarks = Table(
    "ef_bookmarks",
    metadata,
    Column("connector", String(100), primary_key=True),
    Column("account", String(200), primary_key=True),
    Column("value", Text, nullable=True),
    Column("pending", Boolean, nullable=False, default=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

#: every action key applied (or found applied) on a ticket
ledger = Table(
    "ef_ledger",
    metadata,
    Column("ticket_key", String(300), primary_key=True),
    Column("action_key", String(100), primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("run_id", String(64), nullable=True),
    Column("at", UTCDateTime, nullable=False),
)

#: the last firing of each rule per scope (ticket, ``agent:...``, ``customer:...``)
firings = Table(
    "ef_firings",
    metadata,
    Column("scope", String(300), primary_key=True),
    Column("rule_id", String(200), primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("episode", String(200), nullable=True),
)

#: customer memory: the latest tickets of each customer and how they felt
customer_tickets = Table(
    "ef_customer_tickets",
    metadata,
    Column("customer_key", String(300), primary_key=True),
    Column("ticket_key", String(300), primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("sentiment", Float, nullable=False),
    Column("negative", Boolean, nullable=False),
    # added by migration 2 (order-independent memory: only tickets opened earlier count)
    Column("created_at", UTCDateTime, nullable=True),
)

#: agent load windows: opted-in agents' public replies with the weight of what they answered
interactions = Table(
    "ef_interactions",
    metadata,
    Column("agent_key", String(300), primary_key=True),
    Column("comment_key", String(400), primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("weight", Float, nullable=False),
    Index("ef_interactions_at", "at"),
)

#: cached signals per evaluation (a compact JSON summary), for reports and insights
signal_history = Table(
    "ef_signal_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_key", String(300), nullable=False),
    Column("evaluated_at", UTCDateTime, nullable=False),
    Column("run_id", String(64), nullable=True),
    Column("data", Text, nullable=False),
    Index("ef_signal_history_ticket", "ticket_key", "evaluated_at"),
)

#: verified webhooks waiting for a worker; ``dedupe_key`` makes redeliveries no-ops
inbox = Table(
    "ef_inbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("connector", String(100), nullable=False),
    Column("account", String(200), nullable=False),
    Column("dedupe_key", String(300), nullable=False),
    Column("payload", Text, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("status", String(20), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("claimed_by", String(200), nullable=True),
    Column("claimed_until", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("done_at", UTCDateTime, nullable=True),
    #: the ticket the event is about (from the payload); NULL in rows stored before v7
    Column("ticket", String(300), nullable=True),
    UniqueConstraint("connector", "account", "dedupe_key", name="ef_inbox_dedupe"),
    Index("ef_inbox_status", "status", "id"),
    Index("ef_inbox_ticket", "connector", "account", "ticket"),
)

#: run locks as expiring leases, with the holder's host and pid for crash detection
locks = Table(
    "ef_locks",
    metadata,
    Column("name", String(300), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("host", String(200), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("acquired_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

#: one row per sync run: when, how it ended, and its summary (JSON)
runs = Table(
    "ef_runs",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("lock_name", String(300), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("status", String(20), nullable=False),
    Column("summary", Text, nullable=True),
    # the run read to the end of the export (finished, not stopped early): migration 6
    Column("read_to_end", Boolean, nullable=True),
)
