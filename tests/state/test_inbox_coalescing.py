"""The inbox hands out a ticket's events together, once the ticket has settled.

A worker re-reads a ticket for its events (a webhook is only a hint), so every claimable
event of a ticket is one piece of work: one claim takes them all, and a ticket that is
still receiving events waits until it is quiet for ``settle`` (or its oldest event has
waited ``settle_max``). Items stored before schema v7 name no ticket and are taken one
by one, at once. Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import event

from empathy_firewall.state import StateStore, inbox
from empathy_firewall.state import schema as t
from empathy_firewall.webhooks.queue import claim_items

SETTLE = timedelta(seconds=2)


def _payload(ticket: str | None) -> str:
    return json.dumps({"type": "ticket.updated", "ticket": ticket})


def _put(store: StateStore, ticket: str | None, key: str, *, age: float = 60.0) -> None:
    """Store an event about ``ticket`` received ``age`` seconds ago."""
    assert inbox.put(store, "zendesk", "acme", key, _payload(ticket))
    with store.engine.begin() as conn:
        conn.execute(
            t.inbox.update()
            .where(t.inbox.c.dedupe_key == key)
            .values(received_at=datetime.now(UTC) - timedelta(seconds=age))
        )


def _tickets(items: list[inbox.InboxItem]) -> list[str | None]:
    return [inbox.ticket_of(item.payload) for item in items]


def test_a_claim_takes_every_event_of_the_oldest_tickets(store: StateStore) -> None:
    for n, ticket in enumerate(["A", "B", "C", "A", "B", "C", "A"]):
        _put(store, ticket, f"e{n}")
    first = inbox.claim(store, "w1", limit=2, settle=SETTLE)
    # tickets A and B (oldest first), with all their events, not the 2 oldest events
    assert sorted(_tickets(first)) == ["A", "A", "A", "B", "B"]
    second = inbox.claim(store, "w2", limit=5, settle=SETTLE)
    assert _tickets(second) == ["C", "C"]
    assert inbox.status_counts(store) == {"claimed": 7}


def test_a_ticket_still_receiving_events_waits_until_it_is_quiet(store: StateStore) -> None:
    _put(store, "A", "old", age=10)
    _put(store, "A", "new", age=0.5)  # A is not quiet yet
    _put(store, "B", "b", age=3)
    claimed = inbox.claim(store, "w1", limit=10, settle=SETTLE)
    assert _tickets(claimed) == ["B"]
    assert inbox.waiting(store) == 2  # A's events: not empty, only settling
    with store.engine.begin() as conn:  # A has been quiet for 2 s now
        conn.execute(
            t.inbox.update()
            .where(t.inbox.c.dedupe_key == "new")
            .values(received_at=datetime.now(UTC) - SETTLE)
        )
    assert sorted(item.dedupe_key for item in inbox.claim(store, "w1", settle=SETTLE)) == [
        "new",
        "old",
    ]
    assert inbox.waiting(store) == 0


def test_a_ticket_that_never_goes_quiet_is_taken_after_settle_max(store: StateStore) -> None:
    _put(store, "A", "first", age=31)
    _put(store, "A", "latest", age=0.1)
    claimed = inbox.claim(store, "w1", settle=SETTLE, settle_max=timedelta(seconds=30))
    assert sorted(item.dedupe_key for item in claimed) == ["first", "latest"]


def test_no_settle_takes_events_at_once(store: StateStore) -> None:
    _put(store, "A", "now", age=0)
    assert [item.dedupe_key for item in inbox.claim(store, "w1")] == ["now"]


def test_events_without_a_ticket_are_taken_one_by_one_at_once(store: StateStore) -> None:
    for key in ("x1", "x2", "x3"):
        _put(store, None, key, age=0)
    with store.engine.connect() as conn:
        assert conn.execute(t.inbox.select().where(t.inbox.c.ticket.is_not(None))).first() is None
    claimed = inbox.claim(store, "w1", limit=2, settle=SETTLE)
    assert [item.dedupe_key for item in claimed] == ["x1", "x2"]


def test_an_expired_claim_comes_back_with_its_ticket(store: StateStore) -> None:
    _put(store, "A", "a1")
    assert len(inbox.claim(store, "dead", lease=timedelta(seconds=-1))) == 1
    _put(store, "A", "a2")
    again = inbox.claim(store, "w2", settle=SETTLE)
    assert sorted(item.dedupe_key for item in again) == ["a1", "a2"]
    assert {item.dedupe_key: item.attempts for item in again} == {"a1": 2, "a2": 1}


def test_max_items_bounds_one_claim_and_the_rest_follows(store: StateStore) -> None:
    for n in range(5):
        _put(store, "A", f"a{n}")
    first = inbox.claim(store, "w1", max_items=3)
    rest = inbox.claim(store, "w1", max_items=3)
    assert [i.dedupe_key for i in first] == ["a0", "a1", "a2"]
    assert [i.dedupe_key for i in rest] == ["a3", "a4"]


@given(
    st.text(max_size=60)
    | st.builds(
        json.dumps,
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.sampled_from(["ticket", "type", "x"]), inner, max_size=3)
            ),
            max_leaves=8,
        ),
    )
)
def test_ticket_of_reads_any_payload_without_raising(payload: str) -> None:
    ticket = inbox.ticket_of(payload)
    assert ticket is None or (isinstance(ticket, str) and 0 < len(ticket) <= 300)
    try:
        data = json.loads(payload)
    except ValueError:
        assert ticket is None
        return
    named = data.get("ticket") if isinstance(data, dict) else None
    assert ticket == (named[:300] if isinstance(named, str) and named else None)


def test_two_workers_claiming_at_once_never_split_a_ticket(store: StateStore) -> None:
    for n in range(5):
        for ticket in range(30):
            _put(store, f"T{ticket}", f"e{n}-{ticket}")
    owners: dict[str, set[str]] = {}
    lock = threading.Lock()
    start = threading.Barrier(2)

    def work(name: str) -> None:
        start.wait()
        while True:
            items = claim_items(
                store, name, limit=4, lease=timedelta(minutes=5), max_attempts=5, settle=SETTLE
            )
            if not items:
                return
            with lock:
                for ticket in _tickets(items):
                    owners.setdefault(str(ticket), set()).add(name)

    threads = [threading.Thread(target=work, args=(name,)) for name in ("w1", "w2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(owners) == 30
    assert all(len(names) == 1 for names in owners.values()), owners
    assert inbox.status_counts(store) == {"claimed": 150}


def test_a_claim_in_flight_leaves_its_tickets_to_it_and_the_next_takes_others(
    store: StateStore,
) -> None:
    """Deterministic form of the race: claim A has locked its tickets and not committed;
    claim B, meanwhile, takes the next tickets whole (without the per-ticket lock it found
    A's tickets ready in its snapshot, could lock none of their rows, and took nothing)."""
    if store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: claims cannot overlap")
    for n in range(3):
        for ticket in range(6):
            _put(store, f"T{ticket}", f"e{n}-{ticket}", age=60 - ticket)
    in_flight, release = threading.Event(), threading.Event()

    def hold(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if threading.current_thread().name == "A" and "FOR UPDATE" in statement:
            in_flight.set()
            release.wait(30)

    claims: dict[str, list[inbox.InboxItem]] = {}
    event.listen(store.engine, "after_cursor_execute", hold)
    try:
        first = threading.Thread(
            target=lambda: claims.setdefault("A", inbox.claim(store, "A", limit=3)), name="A"
        )
        first.start()
        assert in_flight.wait(30)
        claims["B"] = inbox.claim(store, "B", limit=3)
        release.set()
        first.join(30)
    finally:
        release.set()
        event.remove(store.engine, "after_cursor_execute", hold)
    assert sorted(_tickets(claims["A"])) == ["T0"] * 3 + ["T1"] * 3 + ["T2"] * 3
    assert sorted(_tickets(claims["B"])) == ["T3"] * 3 + ["T4"] * 3 + ["T5"] * 3


def test_tickets_are_picked_among_the_oldest_events_and_bring_all_of_theirs(
    store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long backlog is not grouped whole on every claim: tickets come from the oldest
    events (here 3), and each brings its newer events too."""
    monkeypatch.setattr(inbox, "_WINDOW", 3)
    for n, ticket in enumerate(["A", "B", "C", "D", "A", "E"]):
        _put(store, ticket, f"e{n}-{ticket}")
    first = inbox.claim(store, "w1", limit=10)
    assert sorted(_tickets(first)) == ["A", "A", "B", "C"]
    second = inbox.claim(store, "w1", limit=10)
    assert sorted(_tickets(second)) == ["D", "E"]


def test_a_claim_takes_whole_tickets_within_max_items(store: StateStore) -> None:
    for n in range(3):
        for ticket in ("A", "B"):
            _put(store, ticket, f"e{n}-{ticket}")
    # A's three events fit in four; B's would not fit whole, so B waits for the next claim
    # instead of being cut in two (and read twice)
    assert sorted(_tickets(inbox.claim(store, "w1", limit=5, max_items=4))) == ["A"] * 3
    assert sorted(_tickets(inbox.claim(store, "w1", limit=5, max_items=4))) == ["B"] * 3


def _close(moment: datetime | None, expected: datetime, within: float = 1.0) -> bool:
    return moment is not None and abs((moment - expected).total_seconds()) < within


def test_next_claim_at_is_when_the_first_waiting_ticket_settles(store: StateStore) -> None:
    assert inbox.next_claim_at(store, settle=SETTLE) is None  # nothing waits
    now = datetime.now(UTC)
    _put(store, "A", "a1", age=20)
    _put(store, "A", "a2", age=0.5)  # A is quiet in 1.5 s
    _put(store, "B", "b1", age=0.2)  # B in 1.8 s
    assert _close(inbox.next_claim_at(store, settle=SETTLE), now + timedelta(seconds=1.5))
    # a ticket that never goes quiet is due when its oldest event reaches settle_max
    _put(store, "C", "c1", age=29.5)
    _put(store, "C", "c2", age=0)
    assert _close(inbox.next_claim_at(store, settle=SETTLE), now + timedelta(seconds=0.5))
    # a settled ticket (or an item naming no ticket) is claimable now
    _put(store, "D", "d1", age=5)
    assert _close(inbox.next_claim_at(store, settle=SETTLE), now)


def test_next_claim_at_counts_claims_and_backoffs_that_end(store: StateStore) -> None:
    _put(store, "A", "a1", age=60)
    lease = timedelta(seconds=40)
    assert len(inbox.claim(store, "w1", settle=SETTLE, lease=lease)) == 1
    # nothing waits but A's claim, which a dead worker would leave to expire
    assert _close(inbox.next_claim_at(store, settle=SETTLE), datetime.now(UTC) + lease)
    _put(store, None, "lone", age=0)  # stored before schema 7: taken at once
    assert _close(inbox.next_claim_at(store, settle=SETTLE), datetime.now(UTC))


def test_nothing_is_claimable_before_next_claim_at(store: StateStore) -> None:
    """The promise a sleeping worker relies on: a claim made before the moment finds
    nothing (here with the clock of the claim moved just short of it)."""
    for n, (ticket, age) in enumerate([("A", 1.0), ("B", 0.3), ("A", 0.6), ("C", 1.4)]):
        _put(store, ticket, f"e{n}", age=age)
    moment = inbox.next_claim_at(store, settle=SETTLE)
    assert moment is not None
    left = moment - datetime.now(UTC)
    assert timedelta(seconds=0.4) < left < timedelta(seconds=0.7)  # C, quiet for 1.4 s
    # a claim now with ``settle`` shorter by d is the same claim made d later
    margin = timedelta(seconds=0.15)
    assert inbox.claim(store, "w1", settle=SETTLE - left + margin) == []  # 0.15 s early
    assert _tickets(inbox.claim(store, "w1", settle=SETTLE - left - margin)) == ["C"]
