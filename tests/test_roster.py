"""The roster a page's routing suggestions may name: helpdesk directory first, then the page's
assignees, with open tickets from the backlog, and the same whatever order the page came in."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from empathy_firewall.models import Agent, Channel, Customer, SourceRef, Ticket, TicketStatus
from empathy_firewall.signals.backlog import Backlog
from empathy_firewall.signals.roster import roster_of

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _ticket(number: int, agent: Agent | None, minutes: int) -> Ticket:
    return Ticket(
        source=SourceRef(connector="file", account="t", external_id=str(number)),
        subject="s",
        status=TicketStatus.OPEN,
        channel=Channel.EMAIL,
        requester=Customer(id="c1"),
        assignee=agent,
        created_at=T0,
        updated_at=T0 + timedelta(minutes=minutes),
    )


def test_the_directory_wins_and_the_backlog_sets_open_tickets() -> None:
    seen = Agent(id="a1", name="old name", open_tickets=3)
    listed = Agent(id="a1", name="Lucía Fernández", groups=("billing",), email="l@example.com")
    page = [_ticket(1, seen, 0), _ticket(2, Agent(id="a2", name="Maya"), 5)]
    roster = roster_of([listed], page, Backlog(agents={"a1": 22}))
    assert roster["a1"].name == "Lucía Fernández"
    assert roster["a1"].groups == ("billing",)
    assert roster["a1"].open_tickets == 22
    assert roster["a2"].name == "Maya"
    assert roster["a2"].open_tickets is None  # unknown stays unknown


def test_without_a_backlog_the_agent_record_counts() -> None:
    page = [_ticket(1, Agent(id="a1", open_tickets=46, capacity=30), 0)]
    assert roster_of((), page)["a1"].open_tickets == 46


@given(
    st.lists(
        st.tuples(st.sampled_from(["a1", "a2", "a3"]), st.text(max_size=5), st.integers(0, 50)),
        min_size=1,
        max_size=12,
    ),
    st.randoms(),
)
def test_the_roster_does_not_depend_on_page_order(
    rows: list[tuple[str, str, int]], rnd: random.Random
) -> None:
    page = [_ticket(i, Agent(id=a, name=n or None), m) for i, (a, n, m) in enumerate(rows)]
    shuffled = list(page)
    rnd.shuffle(shuffled)
    assert roster_of((), page) == roster_of((), shuffled)
