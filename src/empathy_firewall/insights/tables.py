"""The insight tables (state migration version 5): a per-message timeline and moments.

``ef_timeline`` holds one row per customer or agent message (time, author role, sentiment,
frustration; never the text), per disruption moment (SLA breach, group hop, reassignment,
reopen, overload, long wait), per action the firewall took (``fired``) and per action an
agent undid (``undo``). The key ``(ticket_key, item)`` makes recording idempotent: a ticket
read again writes nothing new. ``ef_moments`` keeps short quotes of clearly positive
customer messages, for the report's "moments to celebrate" (switch off with
``[report] keep_quotes = false``).
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, MetaData, String, Table

from empathy_firewall.state.schema import UTCDateTime

__all__ = ["DISRUPTIONS", "MESSAGE_KINDS", "metadata", "moments", "timeline"]

#: the disruption kinds the timeline records and the estimator analyses
DISRUPTIONS = (
    "sla_breach",
    "group_hop",
    "reassignment",
    "reopen",
    "assignee_overloaded",
    "long_wait",
)
#: the message kinds (author roles)
MESSAGE_KINDS = ("customer", "agent")

metadata = MetaData()

timeline = Table(
    "ef_timeline",
    metadata,
    Column("ticket_key", String(300), primary_key=True),
    Column("item", String(300), primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("channel", String(40), nullable=False),
    Column("grp", String(200), nullable=True),
    Column("ticket_created", UTCDateTime, nullable=False),
    Column("sentiment", Float, nullable=True),
    Column("frustration", Float, nullable=True),
    Column("actor", String(300), nullable=True),
    Column("detail", String(300), nullable=True),
    Index("ef_timeline_at", "at"),
    Index("ef_timeline_kind_at", "kind", "at"),
)

moments = Table(
    "ef_moments",
    metadata,
    Column("ticket_key", String(300), primary_key=True),
    Column("comment_id", String(200), primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("grp", String(200), nullable=True),
    Column("channel", String(40), nullable=False),
    Column("sentiment", Float, nullable=False),
    Column("quote", String(400), nullable=False),
    Column("url", String(600), nullable=True),
    Index("ef_moments_at", "at"),
)
