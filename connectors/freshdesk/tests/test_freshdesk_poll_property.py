"""Property: whatever the timing of changes and write-backs, polling never loses a change."""

from __future__ import annotations

from freshdesk_fixtures import connect
from freshdesk_plans import plan
from hypothesis import example, given, settings
from hypothesis import strategies as st

from empathy_firewall.actions import InternalNote
from empathy_firewall.connectors import Bookmark
from empathy_firewall_freshdesk import FreshdeskConnector
from empathy_firewall_freshdesk.testing import FakeFreshdesk

step = st.tuples(
    st.sampled_from(["create", "touch", "tick", "sync"]),
    st.integers(min_value=0, max_value=40),
)


def sync(
    connector: FreshdeskConnector,
    bookmark: Bookmark | None,
    fake: FakeFreshdesk,
    seen: dict[str, set[str]],
    write_back: bool,
) -> Bookmark | None:
    for page in connector.poll(bookmark):
        for ticket in page.tickets:
            seen.setdefault(ticket.source.external_id, set()).add(
                ticket.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
            )
        if write_back and page.tickets:
            first = page.tickets[0].source.external_id
            connector.apply([plan(first, InternalNote(body="n"))])
        bookmark = page.bookmark
    return bookmark


@settings(max_examples=30)
@given(st.lists(step, min_size=1, max_size=30), st.booleans())
# a crowd of tickets changed in one second spans pages, and our write-back after the first
# page used to shift the next page past two of them
@example([("create", 0)] * 9 + [("tick", 2), ("create", 0), ("tick", 2), ("sync", 0)], True)
def test_every_last_change_is_handed_out(steps: list[tuple[str, int]], write_back: bool) -> None:
    fake = FakeFreshdesk()
    connector = connect(fake, per_page=3, settle_seconds=2)
    seen: dict[str, set[str]] = {}
    bookmark: Bookmark | None = None
    tickets: list[int] = []
    for action, n in steps:
        if action == "create":
            tickets.append(fake.add_ticket())
        elif action == "touch" and tickets:
            fake.touch(tickets[n % len(tickets)])
        elif action == "tick":
            fake.clock.advance(n % 4)
        else:
            bookmark = sync(connector, bookmark, fake, seen, write_back)
    fake.clock.advance(10)
    sync(connector, bookmark, fake, seen, False)
    for tid in tickets:
        assert fake.ticket(tid)["updated_at"] in seen.get(str(tid), set()), tid
