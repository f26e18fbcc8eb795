"""Issue 10 item 1 (core): history derived from snapshot differences, for every connector
without a history API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fidelity_support import NOW, reconnect
from sync_support import ENGINE

from empathy_firewall.models import Agent, Customer, EventType, SourceRef, Ticket, TicketStatus
from empathy_firewall.signals.derived import derive_events, with_events
from empathy_firewall.state import StateStore
from empathy_firewall.state.snapshots import load_snapshots
from empathy_firewall.sync import SyncJob, SyncOptions
from empathy_firewall.testing.clock import FakeClock
from empathy_firewall_freshdesk.testing import FakeFreshdesk

AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _ticket(**fields: object) -> Ticket:
    data: dict[str, object] = {
        "source": SourceRef(connector="x", external_id="1"),
        "created_at": AT - timedelta(days=1),
        "updated_at": AT,
        "requester": Customer(id="c1"),
        "assignee": Agent(id="a2"),
        "group": "billing",
        **fields,
    }
    return Ticket.model_validate(data)


def test_an_owner_and_group_change_is_a_reassignment_and_a_group_hop() -> None:
    (event,) = derive_events("open", "normal", "a1", "sales", _ticket())
    assert event.type is EventType.REASSIGNED
    assert (event.from_assignee, event.to_assignee) == ("a1", "a2")
    assert (event.from_group, event.to_group) == ("sales", "billing")
    assert event.at == AT


def test_a_first_assignment_is_not_a_reassignment() -> None:
    assert derive_events("open", "normal", None, None, _ticket()) == ()
    # unassigned inside the group -> an agent of it: a first take, not a handoff
    assert derive_events("open", "normal", None, "billing", _ticket()) == ()


def test_solved_to_open_is_a_reopen_and_other_changes_are_status_and_priority() -> None:
    reopened = derive_events("solved", "normal", "a2", "billing", _ticket())
    # one rule everywhere: a reopen is also a status change (as Zendesk audits and RT say)
    assert [e.type for e in reopened] == [EventType.STATUS_CHANGED, EventType.REOPENED]
    assert all(e.from_status is TicketStatus.SOLVED for e in reopened)
    changed = derive_events(
        "open", "low", "a2", "billing", _ticket(status=TicketStatus.PENDING, priority="high")
    )
    assert [e.type for e in changed] == [EventType.STATUS_CHANGED, EventType.PRIORITY_CHANGED]
    assert changed[1].detail == "low -> high"


def test_nothing_changed_derives_nothing_and_events_are_not_repeated() -> None:
    ticket = _ticket()
    assert derive_events("open", "normal", "a2", "billing", ticket) == ()
    events = derive_events("open", "normal", "a1", "sales", ticket)
    once = with_events(ticket, events)
    assert with_events(once, events) is once
    assert once.events == events


def _signals(store: StateStore, key: str) -> dict[str, object]:
    return store.signal_history(key)[-1][1]


def test_a_freshdesk_ticket_moved_between_teams_and_reopened_shows_it_next_sync(
    tmp_path: Path,
) -> None:
    fake = FakeFreshdesk(clock=FakeClock(NOW), requests_per_minute=100_000, list_per_minute=None)
    sales, billing, tech = (fake.add_group(n) for n in ("sales", "billing", "technical"))
    first, second = fake.add_agent(name="Ann"), fake.add_agent(name="Bo")
    tid = fake.add_ticket(
        body="My invoice is wrong", responder_id=first, group_id=sales, age_seconds=3600
    )
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    key = f"freshdesk:{reconnect(fake).config.account}:{tid}"  # type: ignore[attr-defined]

    def sync() -> None:
        fake.clock.advance(120)
        SyncJob(store, reconnect(fake), ENGINE, options=SyncOptions(now=fake.clock.wall())).run()

    sync()
    assert _signals(store, key)["group_hops"] == 0  # history starts at the first sync
    record = fake.state.tickets[tid]
    record.update(group_id=billing, responder_id=second)
    fake.touch(tid)
    sync()
    assert _signals(store, key)["group_hops"] == 1
    assert _signals(store, key)["reassignments"] == 1
    record.update(group_id=tech, status=4)
    fake.touch(tid)
    sync()
    record.update(status=2)
    fake.touch(tid)
    sync()
    latest = _signals(store, key)
    assert (latest["group_hops"], latest["reassignments"], latest["reopens"]) == (2, 2, 1)
    with store.engine.connect() as conn:
        (snap,) = load_snapshots(conn, "freshdesk", key.split(":")[1], [str(tid)]).values()
    kinds = [e.type for e in snap.events]
    assert kinds.count(EventType.REASSIGNED) == 2
    assert EventType.REOPENED in kinds
    assert EventType.STATUS_CHANGED in kinds  # open -> resolved


def test_the_file_source_delivers_its_own_history_and_nothing_is_derived() -> None:
    from empathy_firewall.connectors.file import FileConnector

    assert FileConnector.capabilities.history
