"""The table of migration 3: rate gates shared by every process on one helpdesk account.

Definitions only; :mod:`empathy_firewall.state.rates` holds the logic.
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table

from empathy_firewall.state.schema import UTCDateTime

__all__ = ["metadata", "rate_gates"]

#: the tables of migration 3 (kept apart from version 1's metadata)
metadata = MetaData()

rate_gates = Table(
    "ef_rate_gates",
    metadata,
    Column("key", String(300), primary_key=True),
    Column("not_before", UTCDateTime(), nullable=True),
    Column("window_start", UTCDateTime(), nullable=True),
    Column("used", Integer, nullable=False, default=0),
)
