"""The prompt outbox in the state store: queue, claim before sending, mark after.

Delivery is at most one digest per set of prompts: :func:`claim` writes the digest row
(``sending``) and ties the prompts to it in one transaction *before* anything is sent;
:func:`mark_sent` records the channel's reference and erases the prompt texts after.
A crash in between leaves the digest ``sending``: the next run finds it
(:func:`unfinished`) and asks the channel whether it arrived before sending it again.
Replicas never send for the same agent at once: the digest run holds a per-agent lease.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, select

from empathy_firewall.channels.base import Moment
from empathy_firewall.state.agents import digests, prompts
from empathy_firewall.state.store import StateStore, upsert

__all__ = [
    "AgentRef",
    "QueuedPrompt",
    "Unfinished",
    "agents_with_work",
    "claim",
    "drop_stale",
    "latest_contact",
    "mark_sent",
    "moments_of",
    "queue_prompts",
    "queued",
    "release",
    "sent_times",
    "unfinished",
]


@dataclass(frozen=True, slots=True, order=True)
class AgentRef:
    """An agent of one helpdesk account."""

    connector: str
    account: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class QueuedPrompt:
    """An ``agent_prompt`` from a plan, ready for the outbox."""

    agent: AgentRef
    prompt_key: str
    ticket_key: str
    ticket_id: str
    ticket_url: str | None
    feature: str
    rules: tuple[str, ...]
    body: str
    email: str | None
    evaluated_at: datetime
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Unfinished:
    """A digest claimed but not marked sent (a crash, or an uncertain failure)."""

    digest_id: str
    channel: str
    claimed_at: datetime
    moments: tuple[Moment, ...]


def _where(table: object, agent: AgentRef) -> tuple[object, ...]:
    c = table.c  # type: ignore[attr-defined]
    return (
        c.connector == agent.connector,
        c.account == agent.account,
        c.agent_id == agent.agent_id,
    )


def queue_prompts(conn: Connection, items: Iterable[QueuedPrompt]) -> int:
    """Queue prompts (a prompt already queued or sent is left alone); return rows given."""
    rows = [
        {
            "connector": q.agent.connector,
            "account": q.agent.account,
            "agent_id": q.agent.agent_id,
            "prompt_key": q.prompt_key,
            "ticket_key": q.ticket_key,
            "ticket_id": q.ticket_id,
            "ticket_url": q.ticket_url,
            "feature": q.feature,
            "rules": ",".join(q.rules),
            "body": q.body,
            "email": q.email,
            "agent_name": q.name,
            "evaluated_at": q.evaluated_at,
            "status": "queued",
            "digest_id": None,
        }
        for q in items
    ]
    if rows:
        keys = ("connector", "account", "agent_id", "prompt_key")
        conn.execute(upsert(conn, prompts, keys, None), rows)
    return len(rows)


def agents_with_work(store: StateStore) -> list[AgentRef]:
    """Agents with queued prompts or an unfinished digest, sorted."""
    p, d = prompts, digests
    with store.engine.connect() as conn:
        found = {
            AgentRef(*row)
            for row in conn.execute(
                select(p.c.connector, p.c.account, p.c.agent_id)
                .where(p.c.status == "queued")
                .distinct()
            )
        }
        found |= {
            AgentRef(*row)
            for row in conn.execute(
                select(d.c.connector, d.c.account, d.c.agent_id)
                .where(d.c.status == "sending")
                .distinct()
            )
        }
    return sorted(found)


def _moment(row: Sequence[object]) -> Moment:
    pid, ticket_id, url, at, feature, rules, body = row
    return Moment(
        prompt_id=int(pid),  # type: ignore[call-overload]
        ticket_id=str(ticket_id),
        ticket_url=None if url is None else str(url),
        at=at,  # type: ignore[arg-type]
        feature=str(feature),
        rules=tuple(r for r in str(rules).split(",") if r),
        body=str(body),
    )


_MOMENT_COLUMNS = (
    prompts.c.id,
    prompts.c.ticket_id,
    prompts.c.ticket_url,
    prompts.c.evaluated_at,
    prompts.c.feature,
    prompts.c.rules,
    prompts.c.body,
)


def queued(store: StateStore, agent: AgentRef, limit: int | None = None) -> list[Moment]:
    """An agent's queued moments, oldest first (by evaluation time, then ticket)."""
    p = prompts
    query = (
        select(*_MOMENT_COLUMNS)
        .where(*_where(p, agent), p.c.status == "queued")  # type: ignore[arg-type]
        .order_by(p.c.evaluated_at, p.c.ticket_key, p.c.id)
    )
    if limit is not None:
        query = query.limit(limit)
    with store.engine.connect() as conn:
        return [_moment(row) for row in conn.execute(query)]


def moments_of(conn: Connection, digest_id: str) -> tuple[Moment, ...]:
    """The moments a digest was claimed with, in digest order."""
    p = prompts
    rows = conn.execute(
        select(*_MOMENT_COLUMNS)
        .where(p.c.digest_id == digest_id)
        .order_by(p.c.evaluated_at, p.c.ticket_key, p.c.id)
    )
    return tuple(_moment(row) for row in rows)


def latest_contact(store: StateStore, agent: AgentRef) -> tuple[str | None, str | None]:
    """The newest e-mail address and name the helpdesk gave for this agent."""
    p = prompts
    with store.engine.connect() as conn:
        email = conn.execute(
            select(p.c.email)
            .where(*_where(p, agent), p.c.email.is_not(None))  # type: ignore[arg-type]
            .order_by(p.c.evaluated_at.desc(), p.c.id.desc())
            .limit(1)
        ).scalar()
        name = conn.execute(
            select(p.c.agent_name)
            .where(*_where(p, agent), p.c.agent_name.is_not(None))  # type: ignore[arg-type]
            .order_by(p.c.evaluated_at.desc(), p.c.id.desc())
            .limit(1)
        ).scalar()
    return (None if email is None else str(email)), (None if name is None else str(name))


def drop_stale(store: StateStore, agent: AgentRef, before: datetime) -> int:
    """Delete queued moments evaluated before ``before`` (too late to be kind)."""
    p = prompts
    with store.engine.begin() as conn:
        done = conn.execute(
            delete(p).where(
                *_where(p, agent),  # type: ignore[arg-type]
                p.c.status == "queued",
                p.c.evaluated_at < before,
            )
        )
    return int(done.rowcount or 0)


def sent_times(store: StateStore, agent: AgentRef, since: datetime) -> list[datetime]:
    """When this agent's digests went out since ``since``."""
    d = digests
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(d.c.sent_at).where(
                *_where(d, agent),  # type: ignore[arg-type]
                d.c.status == "sent",
                d.c.sent_at >= since,
            )
        )
        return [at for (at,) in rows]


def unfinished(store: StateStore, agent: AgentRef) -> Unfinished | None:
    """This agent's digest left ``sending`` by an earlier run, if any."""
    d = digests
    with store.engine.connect() as conn:
        row = conn.execute(
            select(d.c.digest_id, d.c.channel, d.c.claimed_at)
            .where(*_where(d, agent), d.c.status == "sending")  # type: ignore[arg-type]
            .order_by(d.c.claimed_at)
            .limit(1)
        ).first()
        if row is None:
            return None
        return Unfinished(row[0], row[1], row[2], moments_of(conn, row[0]))


def claim(
    store: StateStore,
    agent: AgentRef,
    digest_id: str,
    channel: str,
    moments: Sequence[Moment],
    now: datetime,
) -> bool:
    """Record the digest as ``sending`` and tie its prompts to it, before sending.

    Returns False (and changes nothing) when one of the prompts is no longer queued: the
    agent opted out, or another process got there first.
    """
    p = prompts
    ids = [m.prompt_id for m in moments]
    try:
        with store.engine.begin() as conn:
            taken = conn.execute(
                p.update()
                .where(p.c.id.in_(ids), p.c.status == "queued")
                .values(status="claimed", digest_id=digest_id)
            ).rowcount
            if taken != len(ids):
                raise _Lost
            _insert_digest(conn, agent, digest_id, channel, len(ids), now)
    except _Lost:
        return False
    return True


class _Lost(Exception):
    """A prompt of the claim was no longer queued (rolls the claim back)."""


def _insert_digest(
    conn: Connection, agent: AgentRef, digest_id: str, channel: str, count: int, now: datetime
) -> None:
    conn.execute(
        digests.insert().values(
            digest_id=digest_id,
            connector=agent.connector,
            account=agent.account,
            agent_id=agent.agent_id,
            channel=channel,
            status="sending",
            moments=count,
            claimed_at=now,
        )
    )


def mark_sent(store: StateStore, digest_id: str, reference: str | None, now: datetime) -> None:
    """Record delivery; erase the delivered prompts' texts (the agent has them now)."""
    p, d = prompts, digests
    with store.engine.begin() as conn:
        conn.execute(
            d.update()
            .where(d.c.digest_id == digest_id)
            .values(status="sent", sent_at=now, reference=reference)
        )
        conn.execute(p.update().where(p.c.digest_id == digest_id).values(status="sent", body=""))


def release(store: StateStore, digest_id: str) -> None:
    """Undo a claim the channel knows was not delivered: its prompts are queued again."""
    p, d = prompts, digests
    with store.engine.begin() as conn:
        conn.execute(
            p.update().where(p.c.digest_id == digest_id).values(status="queued", digest_id=None)
        )
        conn.execute(delete(d).where(d.c.digest_id == digest_id))
