"""Queue and owner changes and reopens, made in a real RT 5, come back as ticket events;
RT counts an agent's active tickets."""

from __future__ import annotations

import time

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
        # RT dates transactions to the second, and changes by one actor in one second are
        # one step (one event when it both hands over and hops); a second apart, they are two
        time.sleep(1.1)
        answer = admin.call("PUT", f"/ticket/{tid}", change)
        assert "changed" in " ".join(answer), answer  # e.g. missing rights: RT says so here
    done = admin.new_ticket(queue, "Solved already.", Owner=second, Status="resolved")
    settle()
    rt = connector(admin.url, queue)
    (ticket,) = [t for p in rt.poll(None) for t in p.tickets if t.source.external_id == tid]
    assert ticket.group == queue
    assert ticket.assignee is not None
    assert ticket.assignee.id == second
    moved = [
        (e.from_assignee, e.to_assignee, e.from_group, e.to_group)
        for e in ticket.events
        if e.type is EventType.REASSIGNED
    ]
    # RT's history does not say the queue a ticket started in; the hop keeps its owner
    assert moved == [(first, second, None, None), (second, second, start, queue)]
    # the backlog RT counts for a cold store: active (new/open/stalled) tickets only
    assert (rt.count_open(first), rt.count_open(second)) == (0, 1), done
    reopened = [e for e in ticket.events if e.type is EventType.REOPENED]
    assert [e.type for e in ticket.events].count(EventType.STATUS_CHANGED) >= 2
    assert [(e.from_status, e.to_status) for e in reopened] == [
        (TicketStatus.SOLVED, TicketStatus.OPEN)
    ]
