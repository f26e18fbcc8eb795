"""Ticket snapshots: what the firewall last saw of each ticket (migration 2).

One row per (connector, account, external id): status, priority, assignee, group and the
helpdesk's ``updated_at`` as of the last sync or webhook that read the ticket. Two jobs
use it:

* derived history (:mod:`empathy_firewall.signals.derived`): where a connector has no
  history API, the difference between the stored snapshot and the ticket read now becomes
  :class:`~empathy_firewall.models.TicketEvent` values, kept in ``events`` (JSON) so later
  evaluations see them too;
* agent backlog (:mod:`empathy_firewall.signals.backlog`): open tickets per assignee and
  per group are counted over the snapshots.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, Connection, Index, MetaData, String, Table, Text, func, select

from empathy_firewall.models import Ticket, TicketEvent
from empathy_firewall.state.schema import UTCDateTime
from empathy_firewall.state.sql import chunks, upsert

__all__ = [
    "OPEN_STATUSES",
    "Snapshot",
    "count_open",
    "load_snapshots",
    "metadata",
    "snapshot_of",
    "snapshots",
    "write_snapshots",
]

metadata = MetaData()

#: statuses that count towards an agent's backlog
OPEN_STATUSES = ("new", "open", "pending", "on_hold")

snapshots = Table(
    "ef_ticket_snapshots",
    metadata,
    Column("connector", String(100), primary_key=True),
    Column("account", String(200), primary_key=True),
    Column("external_id", String(200), primary_key=True),
    Column("status", String(20), nullable=False),
    Column("priority", String(20), nullable=False),
    Column("assignee", String(200), nullable=True),
    Column("group_name", String(200), nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("events", Text, nullable=False, default="[]"),
    Column("fingerprint", String(64), nullable=True),
    Index("ef_ticket_snapshots_assignee", "connector", "account", "assignee", "status"),
)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The state of one ticket as last seen, and the events derived for it so far."""

    external_id: str
    status: str
    priority: str
    assignee: str | None
    group: str | None
    updated_at: datetime
    events: tuple[TicketEvent, ...] = ()
    fingerprint: str | None = None
    """What the helpdesk held when the ticket was last fully handled (see
    :func:`empathy_firewall.sync.dedupe.fingerprint`); None when it must be evaluated again."""


def load_snapshots(
    conn: Connection, connector: str, account: str, external_ids: Iterable[str]
) -> dict[str, Snapshot]:
    """The stored snapshots of these tickets (missing ones are left out)."""
    s = snapshots.c
    out: dict[str, Snapshot] = {}
    for part in chunks(sorted(set(external_ids))):
        rows = conn.execute(
            select(
                s.external_id,
                s.status,
                s.priority,
                s.assignee,
                s.group_name,
                s.updated_at,
                s.events,
                s.fingerprint,
            ).where(s.connector == connector, s.account == account, s.external_id.in_(part))
        )
        for eid, status, priority, assignee, group, updated, events, digest in rows:
            parsed = tuple(TicketEvent.model_validate(e) for e in json.loads(events or "[]"))
            out[eid] = Snapshot(eid, status, priority, assignee, group, updated, parsed, digest)
    return out


def write_snapshots(
    conn: Connection, connector: str, account: str, items: Iterable[Snapshot]
) -> None:
    """Upsert snapshots (with their derived events)."""
    rows = [
        {
            "connector": connector,
            "account": account,
            "external_id": snap.external_id,
            "status": snap.status,
            "priority": snap.priority,
            "assignee": snap.assignee,
            "group_name": snap.group,
            "updated_at": snap.updated_at,
            "events": json.dumps([e.model_dump(mode="json") for e in snap.events]),
            "fingerprint": snap.fingerprint,
        }
        for snap in items
    ]
    if rows:
        stmt = upsert(
            conn,
            snapshots,
            ("connector", "account", "external_id"),
            ("status", "priority", "assignee", "group_name", "updated_at", "events", "fingerprint"),
        )
        conn.execute(stmt, rows)


def count_open(
    conn: Connection, connector: str, account: str, *, by: str = "assignee"
) -> Mapping[str, int]:
    """Open tickets per assignee (``by="assignee"``) or per group (``by="group"``)."""
    s = snapshots.c
    column = s.assignee if by == "assignee" else s.group_name
    rows = conn.execute(
        select(column, func.count())
        .where(
            s.connector == connector,
            s.account == account,
            s.status.in_(OPEN_STATUSES),
            column.is_not(None),
        )
        .group_by(column)
    )
    return {str(key): int(n) for key, n in rows}


def snapshot_of(
    ticket: Ticket, events: tuple[TicketEvent, ...] = (), fingerprint: str | None = None
) -> Snapshot:
    """The snapshot to store for ``ticket`` as read now."""
    return Snapshot(
        external_id=ticket.source.external_id,
        status=ticket.status.value,
        priority=ticket.priority.value,
        assignee=ticket.assignee.id if ticket.assignee is not None else None,
        group=ticket.group,
        updated_at=ticket.updated_at,
        events=events,
        fingerprint=fingerprint,
    )
