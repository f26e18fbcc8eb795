"""The agent-private tables that migration 4 creates (definitions only, no queries).

They live in their own :class:`MetaData`, so the first migration (which creates
:data:`empathy_firewall.state.schema.metadata`) never changes; :mod:`empathy_firewall.state.agents`
holds the queries. See that module for what each table keeps.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from empathy_firewall.state.schema import UTCDateTime

__all__ = ["digests", "metadata", "opt_ins", "prompts"]

metadata = MetaData()

opt_ins = Table(
    "ef_agent_opt_ins",
    metadata,
    Column("connector", String(100), primary_key=True),
    Column("account", String(200), primary_key=True),
    Column("agent_id", String(200), primary_key=True),
    Column("feature", String(20), primary_key=True),
    Column("enabled", Boolean, nullable=False),
    Column("via", String(20), nullable=False),
    Column("at", UTCDateTime, nullable=False),
)

prompts = Table(
    "ef_agent_prompts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("connector", String(100), nullable=False),
    Column("account", String(200), nullable=False),
    Column("agent_id", String(200), nullable=False),
    Column("prompt_key", String(100), nullable=False),
    Column("ticket_key", String(300), nullable=False),
    Column("ticket_id", String(200), nullable=False),
    Column("ticket_url", String(500), nullable=True),
    Column("feature", String(20), nullable=False),
    Column("rules", String(500), nullable=False),
    Column("body", Text, nullable=False),
    Column("email", String(320), nullable=True),
    Column("agent_name", String(200), nullable=True),
    Column("evaluated_at", UTCDateTime, nullable=False),
    Column("status", String(20), nullable=False),
    Column("digest_id", String(64), nullable=True),
    UniqueConstraint("connector", "account", "agent_id", "prompt_key", name="ef_agent_prompt_once"),
    Index("ef_agent_prompts_status", "status", "connector", "account", "agent_id"),
)

digests = Table(
    "ef_agent_digests",
    metadata,
    Column("digest_id", String(64), primary_key=True),
    Column("connector", String(100), nullable=False),
    Column("account", String(200), nullable=False),
    Column("agent_id", String(200), nullable=False),
    Column("channel", String(40), nullable=False),
    Column("status", String(20), nullable=False),
    Column("moments", Integer, nullable=False),
    Column("claimed_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime, nullable=True),
    Column("reference", String(300), nullable=True),
    Index("ef_agent_digests_agent", "connector", "account", "agent_id", "status"),
)
