"""Issue 10 item 2: agent backlog and capacity known at evaluation time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fidelity_support import NOW, reconnect
from sync_support import ENGINE

from empathy_firewall.models import Agent, Customer, SourceRef, Ticket, TicketStatus
from empathy_firewall.settings import FirewallSettings, FrictionSettings
from empathy_firewall.signals.backlog import Backlog, page_backlog
from empathy_firewall.signals.friction import capacity_of, friction_of
from empathy_firewall.state import StateStore
from empathy_firewall.sync import SyncJob, SyncOptions
from empathy_firewall.testing.clock import FakeClock
from empathy_firewall_freshdesk.testing import FakeFreshdesk

AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _ticket(
    n: int = 1, agent: str | None = "a1", group: str | None = "billing", **kw: Any
) -> Ticket:
    return Ticket(
        source=SourceRef(connector="x", external_id=str(n)),
        created_at=AT - timedelta(hours=n),
        updated_at=AT,
        requester=Customer(id="c1"),
        assignee=Agent(id=agent) if agent else None,
        group=group,
        **kw,
    )


def test_capacity_comes_from_the_agent_record_then_agent_then_group_then_default() -> None:
    settings = FrictionSettings(
        default_capacity=25, capacity_per_agent={"a1": 5}, capacity_per_group={"billing": 9}
    )
    assert capacity_of(_ticket(), settings) == 5
    assert capacity_of(_ticket(agent="a2"), settings) == 9
    assert capacity_of(_ticket(agent="a2", group="sales"), settings) == 25
    own = _ticket().model_copy(update={"assignee": Agent(id="a1", capacity=3)})
    assert capacity_of(own, settings) == 3


def test_the_store_backlog_makes_an_assignee_overloaded() -> None:
    settings = FrictionSettings(capacity_per_agent={"a1": 4})
    quiet = friction_of(_ticket(), AT, settings)
    assert (quiet.assignee_backlog, quiet.assignee_overloaded) == (None, False)
    busy = friction_of(_ticket(), AT, settings, Backlog({"a1": 4}, {"billing": 11}))
    assert (busy.assignee_backlog, busy.assignee_capacity) == (4, 4)
    assert busy.assignee_overloaded
    assert busy.group_backlog == 11
    record = _ticket().model_copy(update={"assignee": Agent(id="a1", open_tickets=1)})
    assert not friction_of(record, AT, settings, Backlog({"a1": 4})).assignee_overloaded


def test_the_page_counts_as_it_reads_now_whatever_its_order() -> None:
    stored = [("a1", "billing", True), ("a1", "billing", True)]  # tickets 1, 2 as stored
    page = [
        _ticket(1, agent="a2", group="sales"),  # moved to a2 / sales
        _ticket(2, status=TicketStatus.SOLVED),  # solved since
        _ticket(3),  # new to the store
    ]
    counts = page_backlog({"a1": 5, "a2": 1}, {"billing": 5}, stored, page)
    assert counts.agents == {"a1": 4, "a2": 2}
    assert counts.groups == {"billing": 4, "sales": 1}
    assert page_backlog({"a1": 5, "a2": 1}, {"billing": 5}, stored, page[::-1]) == counts
    helpdesk = page_backlog({}, {}, [], page, {"a1": 30})
    assert helpdesk.for_agent("a1") == 30
    assert helpdesk.for_agent("nobody") == 0


def _fake(open_tickets: int) -> tuple[FakeFreshdesk, int]:
    fake = FakeFreshdesk(clock=FakeClock(NOW), requests_per_minute=100_000, list_per_minute=None)
    agent = fake.add_agent(name="Ann")
    for n in range(open_tickets):
        fake.add_ticket(body=f"Order {n} is late", responder_id=agent, age_seconds=600 + n)
    return fake, agent


def _sync(store: StateStore, fake: FakeFreshdesk, settings: FirewallSettings, **kw: Any) -> Any:
    fake.clock.advance(120)
    connector = reconnect(fake)
    for name, value in kw.items():
        setattr(connector, name, value)
    job = SyncJob(store, connector, ENGINE, settings, SyncOptions(now=fake.clock.wall()))
    job.run()
    return connector


def _latest(store: StateStore, fake: FakeFreshdesk, connector: Any) -> list[dict[str, Any]]:
    account = connector.config.account
    return [store.signal_history(f"freshdesk:{account}:{tid}")[-1][1] for tid in fake.state.tickets]


def test_a_sync_knows_each_assignees_open_tickets_and_capacity(tmp_path: Path) -> None:
    fake, agent = _fake(6)
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    settings = FirewallSettings.model_validate(
        {"friction": {"capacity_per_agent": {str(agent): 5}}}
    )
    connector = _sync(store, fake, settings)
    rows = _latest(store, fake, connector)
    # the first run does not count from the store (what it has read so far depends on the
    # page it is on): it asks the helpdesk, whose filter count (Freshdesk search) knows all 6
    assert {r["assignee_backlog"] for r in rows} == {6}
    for tid in fake.state.tickets:  # every customer writes again
        requester = fake.state.tickets[tid]["requester_id"]
        fake.add_conversation(tid, "Hello?", user_id=requester, incoming=True)
    connector = _sync(store, fake, settings)
    rows = _latest(store, fake, connector)
    assert {r["assignee_backlog"] for r in rows} == {6}
    assert all(r["assignee_overloaded"] for r in rows)
    # one ticket is solved in the helpdesk: the next sync counts 5, still at capacity
    first = next(iter(fake.state.tickets))
    fake.state.tickets[first]["status"] = 4
    fake.touch(first)
    connector = _sync(store, fake, settings)
    account = connector.config.account
    other = list(fake.state.tickets)[1]
    requester = fake.state.tickets[other]["requester_id"]
    fake.add_conversation(other, "Any news?", user_id=requester, incoming=True)
    _sync(store, fake, settings)
    assert store.signal_history(f"freshdesk:{account}:{other}")[-1][1]["assignee_backlog"] == 5


@pytest.mark.parametrize("answer", [40, None])
def test_until_a_first_sync_finished_the_connector_is_asked_once_per_assignee(
    tmp_path: Path, answer: int | None
) -> None:
    fake, agent = _fake(3)
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    asked: list[str] = []

    def count_open(assignee_id: str) -> int | None:
        asked.append(assignee_id)
        return answer

    connector = _sync(store, fake, FirewallSettings(), count_open=count_open)
    assert asked == [str(agent)]
    backlog = {r["assignee_backlog"] for r in _latest(store, fake, connector)}
    assert backlog == {answer}  # None: unknown until a sync has read everything once
    fake.touch(next(iter(fake.state.tickets)))
    _sync(store, fake, FirewallSettings(), count_open=count_open)
    assert asked == [str(agent)]  # after a finished sync the store counts its snapshots
