"""The sample helpdesk (examples/sample_helpdesk.jsonl) replayed into a fake Freshdesk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path

from empathy_firewall.models import Role, Ticket
from empathy_firewall.testing import FakeClock
from empathy_firewall.ticketfile import iter_tickets
from empathy_firewall_freshdesk.parse import PRIORITY_CODES
from empathy_firewall_freshdesk.testing import FRESHDESK_STATUS, FakeFreshdesk

SAMPLE = Path(__file__).resolve().parents[3] / "examples" / "sample_helpdesk.jsonl"


def seeded_fake(count: int) -> tuple[FakeFreshdesk, datetime]:
    """A fake Freshdesk holding ``count`` sample tickets, replayed in time order; the
    clock ends 5 minutes after the latest activity (returned as ``now``)."""
    sample: list[Ticket] = list(islice(iter_tickets(SAMPLE), count))
    start = min(t.created_at for t in sample) - timedelta(minutes=1)
    latest = max(t.last_activity_at for t in sample)
    fake = FakeFreshdesk(clock=FakeClock(start), requests_per_minute=5000, list_per_minute=None)
    agents: dict[str, int] = {}
    events: list[tuple[datetime, int, Ticket, int]] = []
    for order, ticket in enumerate(sample):
        events.append((ticket.created_at, order, ticket, -1))
        events.extend((c.created_at, order, ticket, n) for n, c in enumerate(ticket.comments))
    ids: dict[str, int] = {}
    requesters: dict[str, int] = {}
    for when, _order, ticket, n in sorted(events, key=lambda e: (e[0], e[1], e[3])):
        fake.clock.advance((when - fake.clock.wall()).total_seconds())
        key = ticket.source.external_id
        if n == -1:
            first = ticket.comments[0] if ticket.comments else None
            opening = first is not None and first.author_role is Role.CUSTOMER
            requester = requesters.setdefault(
                ticket.requester.id, fake.add_contact(name=ticket.requester.name or "Customer")
            )
            assignee = None
            if ticket.assignee is not None:
                assignee = agents.setdefault(
                    ticket.assignee.id, fake.add_agent(name=ticket.assignee.name or "Agent")
                )
            ids[key] = fake.add_ticket(
                subject=ticket.subject,
                body=first.text if opening and first is not None else ticket.subject,
                requester_id=requester,
                status=FRESHDESK_STATUS[ticket.status],
                priority=PRIORITY_CODES[ticket.priority],
                tags=ticket.tags,
                responder_id=assignee,
            )
            continue
        if n == 0 and ticket.comments[0].author_role is Role.CUSTOMER:
            continue  # it is the description
        comment = ticket.comments[n]
        tid = ids[key]
        if comment.author_role is Role.CUSTOMER:
            user = fake.ticket(tid)["requester_id"]
        else:
            user = agents.setdefault(comment.author_id or "agent", fake.add_agent(name="Agent"))
        fake.add_conversation(
            tid,
            comment.text,
            user_id=user,
            incoming=comment.author_role is Role.CUSTOMER,
            private=not comment.public,
        )
    now = latest + timedelta(minutes=5)
    fake.clock.advance((now - fake.clock.wall()).total_seconds())
    return fake, now.astimezone(UTC)
