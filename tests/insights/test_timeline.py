"""The per-message timeline: derived from a ticket's history, recorded once by sync."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sync_support import job, seeded_fake, tickets

from empathy_firewall.insights import tables
from empathy_firewall.insights.timeline import disruptions_of, messages_of
from empathy_firewall.models import (
    Agent,
    Comment,
    Customer,
    EventType,
    Role,
    SourceRef,
    Ticket,
    TicketEvent,
    TicketStatus,
)
from empathy_firewall.settings import FirewallSettings
from empathy_firewall.signals.friction import friction_of
from empathy_firewall.state import StateStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _ticket() -> Ticket:
    def c(i: str, role: Role, minutes: float) -> Comment:
        return Comment(
            id=i,
            author_role=role,
            author_id="a1" if role is Role.AGENT else "c1",
            created_at=_at(minutes),
            text=f"text {i}",
        )

    return Ticket(
        source=SourceRef(connector="file", external_id="7"),
        created_at=T0,
        updated_at=_at(3000),
        requester=Customer(id="c1"),
        assignee=Agent(id="a2", open_tickets=40, capacity=20),
        group="billing",
        comments=(
            c("1", Role.CUSTOMER, 0),
            c("2", Role.AGENT, 600),  # 10 h later: the 8 h normal-priority target breached
            c("3", Role.CUSTOMER, 700),
            c("4", Role.AGENT, 760),
            c("5", Role.CUSTOMER, 800),  # unanswered until now (> 24 h: a long wait)
        ),
        events=(
            TicketEvent(
                type=EventType.REASSIGNED,
                at=_at(650),
                from_group="support",
                to_group="billing",
                from_assignee="a1",
                to_assignee="a2",
            ),
            TicketEvent(
                type=EventType.REASSIGNED, at=_at(690), from_assignee="a2", to_assignee="a3"
            ),
            TicketEvent(
                type=EventType.REOPENED,
                at=_at(790),
                from_status=TicketStatus.SOLVED,
                to_status=TicketStatus.OPEN,
            ),
        ),
    )


def test_a_ticket_yields_its_disruptions_at_the_moments_they_happened() -> None:
    ticket = _ticket()
    now = _at(800 + 25 * 60)
    settings = FirewallSettings().friction
    rows = list(disruptions_of(ticket, friction_of(ticket, now, settings), now, settings))
    found = sorted((r.kind, r.at) for r in rows)
    assert found == sorted(
        [
            ("sla_breach", _at(480)),
            ("group_hop", _at(650)),
            ("reassignment", _at(650)),
            ("reassignment", _at(690)),
            ("reopen", _at(790)),
            ("sla_breach", _at(800 + 480)),
            ("long_wait", _at(800 + 24 * 60)),
            ("assignee_overloaded", now),
        ]
    )
    groups = {r.at: r.group for r in rows}
    assert groups[_at(480)] == "support"  # before the hop
    assert groups[_at(790)] == "billing"


def test_messages_carry_role_and_scores_but_never_text() -> None:
    ticket = _ticket()
    scores = {"1": (-0.5, 0.8), "2": (0.2, 0.0)}
    rows = list(messages_of(ticket, scores, "file::"))
    assert [(r.item, r.kind) for r in rows] == [
        ("m:1", "customer"),
        ("m:2", "agent"),
        ("m:3", "customer"),
        ("m:4", "agent"),
        ("m:5", "customer"),
    ]
    assert (rows[0].sentiment, rows[0].frustration) == (-0.5, 0.8)
    assert rows[1].actor == "file::a1"
    assert all("text" not in str(v) for r in rows for v in r.as_row().values())


def _count(store: StateStore) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(tables.timeline)).scalar_one())


def test_sync_records_every_message_once_and_a_second_pass_writes_nothing(
    store: StateStore,
) -> None:
    fake, now = seeded_fake(None)
    first, _ = job(store, fake, now)
    first.run()
    count = _count(store)
    with store.engine.connect() as conn:
        rows = conn.execute(select(tables.timeline)).mappings().all()
    kinds = {r["kind"] for r in rows}
    assert {"customer", "agent", "fired"} <= kinds
    assert kinds & {"sla_breach", "group_hop", "reassignment", "reopen", "long_wait"}
    # one evaluation yields the whole past: every public customer message is there
    public = sum(
        1 for t in tickets() for c in t.comments if c.public and c.author_role is Role.CUSTOMER
    )
    assert sum(1 for r in rows if r["kind"] == "customer") == public
    texts = {c.text for t in tickets() for c in t.comments if len(c.text) > 20}
    assert not any(str(v) in texts for r in rows for v in r.values())
    again, _ = job(store, fake, now + timedelta(minutes=1))
    again.run()
    assert _count(store) == count


def test_an_agent_removing_a_tag_the_firewall_added_is_recorded_as_an_undo(
    store: StateStore,
) -> None:
    fake, now = seeded_fake(None)
    job(store, fake, now)[0].run()
    with store.engine.connect() as conn:
        fired = conn.execute(
            select(tables.timeline.c.ticket_key, tables.timeline.c.actor, tables.timeline.c.detail)
            .where(tables.timeline.c.kind == "fired", tables.timeline.c.detail.like("add_tags:%"))
            .order_by(tables.timeline.c.ticket_key)
        ).first()
    assert fired is not None
    ticket_id = int(fired[0].rsplit(":", 1)[1])
    tag = fired[2].removeprefix("add_tags:").split(",")[0]
    fake.state.tickets[ticket_id]["tags"] = [t for t in fake.tags(ticket_id) if t != tag]
    fake.clock.advance(60)
    fake.touch(ticket_id)  # an agent's change: the next export shows the ticket again
    fake.clock.advance(300)
    job(store, fake, now + timedelta(minutes=6))[0].run()
    with store.engine.connect() as conn:
        undos = conn.execute(
            select(tables.timeline.c.ticket_key, tables.timeline.c.actor).where(
                tables.timeline.c.kind == "undo"
            )
        ).all()
    assert (fired[0], fired[1]) in [tuple(u) for u in undos]


def test_the_webhook_worker_records_the_same_timeline_as_sync(store: StateStore) -> None:
    from sync_support import connector_for

    from empathy_firewall.webhooks.worker import TicketProcessor

    fake, now = seeded_fake(None)
    connector = connector_for(fake)
    ids = [t.source.external_id for t in tickets()][:40]
    fetched = connector.fetch(ids)
    TicketProcessor(store, connector, job(store, fake, now)[0].engine).process(
        fetched, verify=False, now=now
    )
    with store.engine.connect() as conn:
        keys = {
            r[0]
            for r in conn.execute(
                select(tables.timeline.c.ticket_key).where(tables.timeline.c.kind == "customer")
            )
        }
    assert keys == {
        t.key for t in fetched if any(c.author_role is Role.CUSTOMER for c in t.comments)
    }
    count = _count(store)
    TicketProcessor(store, connector, job(store, fake, now)[0].engine).process(
        fetched, verify=False, now=now + timedelta(minutes=1)
    )
    assert _count(store) == count  # a redelivered webhook writes nothing new
