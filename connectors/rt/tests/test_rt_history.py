"""Queue and owner changes and reopens, made in a real RT 5, come back as ticket events."""

from __future__ import annotations

from rt_server import RtAdmin, connector, require_rt, settle

from empathy_firewall.models import EventType, TicketStatus


def test_reassignments_group_hops_and_reopens_from_the_history() -> None:
    admin = RtAdmin(require_rt())
    admin.ensure_tags_field()
    first, second = admin.new_agent(), admin.new_agent()
    start, queue = admin.new_queue(), admin.new_queue()
    tid = admin.new_ticket(start, "The app crashes on login.", Owner=first)
    steps = [{"Owner": second}, {"Queue": queue}, {"Status": "resolved"}, {"Status": "open"}]
    for change in steps:
        answer = admin.call("PUT", f"/ticket/{tid}", change)
        assert "changed" in " ".join(answer), answer  # e.g. missing rights: RT says so here
    settle()
    (ticket,) = [t for p in connector(admin.url, queue).poll(None) for t in p.tickets]
    assert ticket.group == queue
    assert ticket.assignee is not None
    assert ticket.assignee.id == second
    moved = [
        (e.from_assignee, e.to_assignee, e.from_group, e.to_group)
        for e in ticket.events
        if e.type is EventType.REASSIGNED
    ]
    assert moved == [(first, second, None, None), (None, None, start, queue)]
    reopened = [e for e in ticket.events if e.type is EventType.REOPENED]
    assert [(e.from_status, e.to_status) for e in reopened] == [
        (TicketStatus.SOLVED, TicketStatus.OPEN)
    ]
