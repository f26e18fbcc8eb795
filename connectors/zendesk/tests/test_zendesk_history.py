"""History from ticket audits, customers from user/organisation fields, agents from
group memberships: pure parsing and through the fake Zendesk."""

from __future__ import annotations

from typing import Any

from zendesk_fixtures import connect

from empathy_firewall.models import EventType, Role, TicketStatus
from empathy_firewall.optins import apply_stored_opt_ins
from empathy_firewall_zendesk.parse import ParseContext, parse_audits
from empathy_firewall_zendesk.testing import FakeZendesk

CTX = ParseContext(
    groups={"10": {"id": 10, "name": "billing"}, "20": {"id": 20, "name": "returns"}},
    users={"5": {"id": 5, "role": "agent"}, "6": {"id": 6, "role": "agent"}},
)


def audit(at: str, author: int, *events: dict[str, Any]) -> dict[str, Any]:
    return {"id": hash(at) & 0xFFFF, "created_at": at, "author_id": author, "events": events}


def change(name: str, before: object, after: object) -> dict[str, Any]:
    return {"type": "Change", "field_name": name, "previous_value": before, "value": after}


def test_audits_give_reassignments_reopens_and_priority_changes() -> None:
    audits = [
        audit(
            "2026-01-01T10:00:00Z",
            1,
            {"type": "Comment", "id": 1, "body": "Help", "public": True},
            {"type": "Create", "field_name": "status", "value": "new"},
            {"type": "Create", "field_name": "group_id", "value": 10},
        ),
        # first assignment inside the same group: not a reassignment
        audit("2026-01-01T10:05:00Z", 5, change("assignee_id", None, 5)),
        audit(
            "2026-01-01T11:00:00Z",
            5,
            change("assignee_id", 5, 6),
            change("group_id", 10, 20),
            change("priority", "normal", "high"),
        ),
        audit("2026-01-01T12:00:00Z", 6, change("status", "open", "solved")),
        audit(
            "2026-01-02T09:00:00Z",
            1,
            {"type": "Comment", "id": 2, "body": "Still broken", "public": True},
            change("status", "solved", "open"),
        ),
    ]
    comments, events = parse_audits(reversed(audits), requester_id="1", ctx=CTX)
    assert [c.author_role for c in comments] == [Role.CUSTOMER, Role.CUSTOMER]
    assert comments[1].created_at.isoformat() == "2026-01-02T09:00:00+00:00"
    (moved,) = [e for e in events if e.type is EventType.REASSIGNED]
    assert (moved.from_assignee, moved.to_assignee, moved.from_group, moved.to_group) == (
        "5",
        "6",
        "billing",
        "returns",
    )
    assert moved.actor_id == "5"
    (created,) = [e for e in events if e.type is EventType.CREATED]
    assert created.to_group == "billing"
    assert [e.type for e in events].count(EventType.REOPENED) == 1
    statuses = [(e.from_status, e.to_status) for e in events if e.type is EventType.STATUS_CHANGED]
    assert (TicketStatus.SOLVED, TicketStatus.OPEN) in statuses
    (priority,) = [e for e in events if e.type is EventType.PRIORITY_CHANGED]
    assert priority.detail == "normal -> high"


def test_unknown_and_malformed_audits_are_ignored() -> None:
    comments, events = parse_audits(
        [None, {"created_at": "nope"}, audit("2026-01-01T10:00:00Z", 1, {"type": "Change"})],
        requester_id="1",
        ctx=CTX,
    )
    assert comments == ()
    assert events == ()


def test_fake_zendesk_people_reach_the_ticket() -> None:
    fake = FakeZendesk()
    org = fake.add_organization("Acme", {"tier": "Gold", "lifetime_value": 900})
    customer = fake.add_user(
        name="Ana",
        locale="pt-BR",
        user_fields={"order_count": 4, "loyalty_tier": None},
        organization_id=org,
    )
    agent = fake.add_user(
        name="Sam", role="agent", email="sam@corp.test", user_fields={"ef_opt": "recognition"}
    )
    billing, returns = fake.add_group("billing"), fake.add_group("returns")
    fake.add_membership(agent, billing)
    fake.add_membership(agent, returns)
    tid = fake.add_ticket(requester_id=customer, assignee_id=agent, group_id=billing)
    fake.change(tid, author_id=agent, group_id=returns)
    fake.clock.advance(120)  # the export leaves out the latest minute
    connector = connect(fake, agent_opt_in_field="ef_opt", initial_lookback_minutes=600)
    (page,) = list(connector.poll(None))
    (ticket,) = page.tickets
    person = ticket.requester
    assert (person.loyalty_tier, person.lifetime_value, person.order_count) == ("Gold", 900, 4)
    assert (person.language, person.organization) == ("pt-BR", "Acme")
    assert ticket.assignee is not None
    assert ticket.assignee.email == "sam@corp.test"
    assert ticket.assignee.groups == ("billing", "returns")
    assert ticket.assignee.opt_in.recognition
    assert not ticket.assignee.opt_in.strain_tracking
    (hop,) = [e for e in ticket.events if e.type is EventType.REASSIGNED]
    assert (hop.from_group, hop.to_group) == ("billing", "returns")
    (listed,) = connector.list_agents()
    assert (listed.name, listed.email, listed.groups) == (
        "Sam",
        "sam@corp.test",
        ("billing", "returns"),
    )
    fake.unseen_open[agent] = 6
    assert connector.count_open_by_assignee([str(agent), "not-an-id"]) == {str(agent): 7}
    assert fake.count("/search/count") == 1
    assert connector.count_open(str(agent)) == 7  # the core's cold-store hook


def test_a_stored_opt_out_wins_over_the_agent_field() -> None:
    """The agent's user field says "all"; a stored opt-out of recognition still wins on the
    next evaluation, while the field's other opt-ins stay."""
    fake = FakeZendesk()
    agent = fake.add_user(name="Sam", role="agent", user_fields={"ef_opt": "all"})
    tid = fake.add_ticket(body="Thank you so much, you were wonderful!", assignee_id=agent)
    fake.add_comment(tid, "Glad I could help.", author_id=agent)
    fake.add_comment(
        tid,
        "Thanks a lot, great job, really appreciated!",
        author_id=fake.ticket(tid)["requester_id"],
    )
    fake.clock.advance(120)
    connector = connect(fake, agent_opt_in_field="ef_opt", initial_lookback_minutes=600)
    (ticket,) = next(iter(connector.poll(None))).tickets
    assert ticket.assignee is not None
    assert ticket.assignee.opt_in.recognition
    stored = {str(agent): {"recognition": False}}
    merged = apply_stored_opt_ins(ticket, stored)
    assert merged.assignee is not None
    assert not merged.assignee.opt_in.recognition
    assert merged.assignee.opt_in.strain_tracking


def test_agents_are_listed_once_per_cache_period() -> None:
    fake = FakeZendesk()
    fake.add_membership(fake.add_user(name="Sam", role="agent"), fake.add_group("billing"))
    connector = connect(fake, agents_cache_seconds=600)
    connector.list_agents()
    connector.list_agents()
    assert fake.count("/group_memberships") == 1
    fake.clock.advance(601)  # a long-lived serve process reads them again
    connector.list_agents()
    assert fake.count("/group_memberships") == 2
