"""The one rule set for history events (signals/transitions.py), property-based: whatever
the steps, the events count what the rules say, nothing comes from nothing, and the order
a helpdesk lists a step's fields in does not matter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from empathy_firewall.models import (
    Agent,
    Customer,
    EventType,
    Priority,
    SourceRef,
    Ticket,
    TicketEvent,
    TicketStatus,
)
from empathy_firewall.signals.derived import derive_events
from empathy_firewall.signals.transitions import (
    DONE,
    FieldChange,
    TicketState,
    TrackedField,
    replay,
    state_of,
    transition,
)

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
AGENTS = st.one_of(st.none(), st.sampled_from(["a1", "a2", "a3"]))
GROUPS = st.one_of(st.none(), st.sampled_from(["billing", "returns", "tech"]))
states = st.builds(
    TicketState,
    status=st.sampled_from(list(TicketStatus)),
    priority=st.sampled_from(list(Priority)),
    assignee=AGENTS,
    group=GROUPS,
)
chains = st.lists(states, min_size=1, max_size=12)


def _kinds(events: tuple[TicketEvent, ...], kind: EventType) -> list[TicketEvent]:
    return [e for e in events if e.type is kind]


def _changes(before: TicketState, after: TicketState, at: datetime) -> list[FieldChange]:
    """What a helpdesk's history would report for one step: the fields that changed."""
    return [
        FieldChange(field=f, before=before.get(f), after=after.get(f), at=at, actor="x")
        for f in TrackedField
        if before.get(f) != after.get(f)
    ]


@given(states)
def test_nothing_changed_gives_no_event(state: TicketState) -> None:
    assert transition(state, state, T0) == ()
    assert replay([]) == ()


@given(chains)
@settings(max_examples=200)
def test_a_chain_counts_exactly_the_handoffs_hops_reopens_and_changes(
    chain: list[TicketState],
) -> None:
    events = tuple(
        e
        for i, (a, b) in enumerate(pairwise(chain))
        for e in transition(a, b, T0 + timedelta(minutes=i))
    )
    pairs = list(pairwise(chain))
    moved = _kinds(events, EventType.REASSIGNED)
    # a handoff: away from an agent (to another or to nobody); a first take is none
    handoffs = sum(1 for a, b in pairs if a.assignee is not None and b.assignee != a.assignee)
    assert sum(1 for e in moved if e.from_assignee and e.from_assignee != e.to_assignee) == (
        handoffs
    )
    assert not any(e.from_assignee is None and e.from_group == e.to_group for e in moved)
    # agent -> agent changes are reassignments, each exactly once
    agent_to_agent = sum(
        1 for a, b in pairs if None not in (a.assignee, b.assignee) and a.assignee != b.assignee
    )
    assert sum(1 for e in moved if None not in (e.from_assignee, e.to_assignee)) >= agent_to_agent
    hops = sum(1 for a, b in pairs if None not in (a.group, b.group) and a.group != b.group)
    assert sum(1 for e in moved if e.from_group and e.to_group and e.from_group != e.to_group) == (
        hops
    )
    assert len(moved) == sum(
        1
        for a, b in pairs
        if (a.assignee is not None and b.assignee != a.assignee)
        or (None not in (a.group, b.group) and a.group != b.group)
    )
    reopens = sum(1 for a, b in pairs if a.status in DONE and b.status not in DONE)
    assert len(_kinds(events, EventType.REOPENED)) == reopens
    assert len(_kinds(events, EventType.STATUS_CHANGED)) == sum(
        1 for a, b in pairs if a.status != b.status
    )
    assert len(_kinds(events, EventType.PRIORITY_CHANGED)) == sum(
        1 for a, b in pairs if a.priority != b.priority
    )
    # every reopen is also a status change of the same step, with the same from/to
    for reopen in _kinds(events, EventType.REOPENED):
        assert any(
            e.type is EventType.STATUS_CHANGED
            and (e.at, e.from_status, e.to_status)
            == (reopen.at, reopen.from_status, reopen.to_status)
            for e in events
        )


@given(chains, st.randoms(use_true_random=False))
@settings(max_examples=150)
def test_replaying_reported_changes_gives_the_steps_events_in_any_field_order(
    chain: list[TicketState], shuffler: object
) -> None:
    """A history that reports each step's changed fields, in any order, gives the events of
    the steps; so does the snapshot derivation between two reads of the same states."""
    expected: list[TicketEvent] = []
    reported: list[FieldChange] = []
    for i, (a, b) in enumerate(pairwise(chain)):
        at = T0 + timedelta(minutes=i + 1)
        expected += transition(a, b, at, "x")
        step = _changes(a, b, at)
        shuffler.shuffle(step)  # type: ignore[attr-defined]
        reported += step
    assert replay(reported, start=chain[0]) == tuple(expected)
    # the snapshot derivation (no actor: a snapshot does not say who) agrees
    derived: list[TicketEvent] = []
    for i, (a, b) in enumerate(pairwise(chain)):
        assert a.status is not None
        assert a.priority is not None
        derived += derive_events(
            a.status.value, a.priority.value, a.assignee, a.group, _ticket(b, i + 1)
        )
    assert tuple(derived) == tuple(e.model_copy(update={"actor_id": None}) for e in expected)


def _ticket(state: TicketState, minutes: int) -> Ticket:
    assert state.status is not None
    assert state.priority is not None
    ticket = Ticket(
        source=SourceRef(connector="x", external_id="1"),
        created_at=T0 - timedelta(days=1),
        updated_at=T0 + timedelta(minutes=minutes),
        requester=Customer(id="c"),
        status=state.status,
        priority=state.priority,
        assignee=Agent(id=state.assignee) if state.assignee else None,
        group=state.group,
    )
    assert state_of(ticket) == state
    return ticket


def test_a_step_moving_agent_and_group_is_one_reassignment_and_a_first_take_none() -> None:
    before = TicketState(TicketStatus.OPEN, Priority.NORMAL, "a1", "billing")
    (event,) = transition(before, TicketState(TicketStatus.OPEN, Priority.NORMAL, "a2", "tech"), T0)
    assert (event.from_assignee, event.to_assignee, event.from_group, event.to_group) == (
        "a1",
        "a2",
        "billing",
        "tech",
    )
    unassigned = TicketState(TicketStatus.OPEN, Priority.NORMAL, None, "billing")
    assert transition(unassigned, before, T0) == ()  # first take inside the group
    (hop,) = transition(
        unassigned, TicketState(TicketStatus.OPEN, Priority.NORMAL, "a2", "tech"), T0
    )
    assert (hop.from_group, hop.to_group) == ("billing", "tech")  # a hop even unassigned


def test_unknown_values_and_a_field_twice_in_one_second() -> None:
    """A start the history does not give makes no event; a field changed twice in one
    second (RT dates to the second) is two steps, so resolve-then-reopen is a reopen."""
    first = FieldChange(TrackedField.STATUS, None, "open", T0, "x")
    assert replay([first]) == ()
    resolved = FieldChange(TrackedField.STATUS, "open", "solved", T0, "x")
    reopened = FieldChange(TrackedField.STATUS, "solved", "open", T0, "x")
    kinds = [e.type for e in replay([resolved, reopened])]
    assert kinds == [EventType.STATUS_CHANGED, EventType.STATUS_CHANGED, EventType.REOPENED]
    odd = FieldChange(TrackedField.PRIORITY, "weird", "high", T0, "x")
    assert replay([odd]) == ()  # no known priority before: nothing to compare
