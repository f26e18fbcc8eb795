"""Agent-private state: stored opt-ins, the prompt outbox and delivered digests.

These tables are created by migration 4 and live in their own :class:`MetaData`, so the
first migration (which creates :data:`empathy_firewall.state.schema.metadata`) never
changes. Nothing here is read by a manager view: the report reads only aggregates of the
signal history.

* ``ef_agent_opt_ins``: one row per (connector, account, agent, feature) the agent chose;
  no row means "as the helpdesk says".
* ``ef_agent_prompts``: each ``agent_prompt`` a plan produced, queued until a digest
  delivers it. ``status`` is ``queued``, ``claimed`` (in a digest being sent) or ``sent``;
  the body is erased once it is sent.
* ``ef_agent_digests``: each digest, claimed before it is sent (``sending``) and marked
  ``sent`` after, with the channel's own reference to the message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    Connection,
    delete,
    select,
)

from empathy_firewall.state.agent_tables import digests, metadata, opt_ins, prompts
from empathy_firewall.state.store import StateStore, chunks, upsert

__all__ = [
    "StoredChoice",
    "digests",
    "forget_strain",
    "list_choices",
    "metadata",
    "opt_ins",
    "prompts",
    "set_choices",
    "stored_choices",
]


@dataclass(frozen=True, slots=True)
class StoredChoice:
    """One stored opt-in choice."""

    agent_id: str
    feature: str
    enabled: bool
    via: str
    at: datetime


def stored_choices(
    store: StateStore, connector: str, account: str, agent_ids: Iterable[str]
) -> dict[str, dict[str, bool]]:
    """Stored choices per agent id (feature -> enabled), for the agents asked about."""
    o = opt_ins
    out: dict[str, dict[str, bool]] = {}
    ids = sorted(set(agent_ids))
    if not ids:
        return out
    with store.engine.connect() as conn:
        for part in chunks(ids):
            rows = conn.execute(
                select(o.c.agent_id, o.c.feature, o.c.enabled).where(
                    o.c.connector == connector, o.c.account == account, o.c.agent_id.in_(part)
                )
            )
            for agent_id, feature, enabled in rows:
                out.setdefault(agent_id, {})[feature] = bool(enabled)
    return out


def list_choices(store: StateStore, connector: str, account: str) -> list[StoredChoice]:
    """Every stored choice of one helpdesk account, by agent and feature."""
    o = opt_ins
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(o.c.agent_id, o.c.feature, o.c.enabled, o.c.via, o.c.at)
            .where(o.c.connector == connector, o.c.account == account)
            .order_by(o.c.agent_id, o.c.feature)
        ).all()
    return [StoredChoice(a, f, bool(e), v, at) for a, f, e, v, at in rows]


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def forget_strain(conn: Connection, connector: str, agent_id: str) -> int:
    """Delete an agent's strain history (load windows) on this connector; return rows gone.

    Interactions are keyed ``connector:account:agent_id`` with the account the tickets
    carried, so every account of the connector is cleared: a privacy choice errs wide.
    """
    from empathy_firewall.state.schema import interactions

    pattern = f"{_like_escape(connector)}:%:{_like_escape(agent_id)}"
    done = conn.execute(
        delete(interactions).where(interactions.c.agent_key.like(pattern, escape="\\"))
    )
    return int(done.rowcount or 0)


def set_choices(
    store: StateStore,
    connector: str,
    account: str,
    agent_id: str,
    choices: Mapping[str, bool],
    *,
    via: str,
    now: datetime | None = None,
) -> int:
    """Store an agent's choices in one transaction; return the strain rows deleted.

    Opting out of ``strain`` deletes the agent's strain history; opting out of
    ``breaks`` or ``recognition`` deletes that agent's undelivered prompts of the feature
    (including those of a digest a crash left unfinished).
    """
    at = now or datetime.now(UTC)
    rows = [
        {
            "connector": connector,
            "account": account,
            "agent_id": agent_id,
            "feature": feature,
            "enabled": enabled,
            "via": via,
            "at": at,
        }
        for feature, enabled in sorted(choices.items())
    ]
    if not rows:
        return 0
    deleted = 0
    keys = ("connector", "account", "agent_id", "feature")
    with store.engine.begin() as conn:
        conn.execute(upsert(conn, opt_ins, keys, ("enabled", "via", "at")), rows)
        if choices.get("strain") is False:
            deleted = forget_strain(conn, connector, agent_id)
        dropped = [f for f in ("breaks", "recognition") if choices.get(f) is False]
        if dropped:
            _drop_undelivered(conn, connector, account, agent_id, dropped)
    return deleted


def _drop_undelivered(
    conn: Connection, connector: str, account: str, agent_id: str, features: list[str]
) -> None:
    """Delete the agent's undelivered moments of ``features``: queued ones, and ones claimed
    by a digest a crash left unfinished (which is then dropped if nothing is left in it),
    so an opted-out agent is never sent them, not even as a retry."""
    p, d = prompts, digests
    mine = (p.c.connector == connector, p.c.account == account, p.c.agent_id == agent_id)
    conn.execute(
        delete(p).where(*mine, p.c.feature.in_(features), p.c.status.in_(("queued", "claimed")))
    )
    left = select(p.c.id).where(p.c.digest_id == d.c.digest_id).exists()
    conn.execute(
        delete(d).where(
            d.c.connector == connector,
            d.c.account == account,
            d.c.agent_id == agent_id,
            d.c.status == "sending",
            ~left,
        )
    )
