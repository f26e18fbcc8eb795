"""Replay normalized tickets (the bundled sample) into a :class:`FakeFreshdesk`, in time order.

Everything the ticket file says is put where Freshdesk keeps it: the requester as a contact
(loyalty tier, lifetime value, order count and their other fields as ``custom_fields``,
``language``), their organisation as a company, each agent with an e-mail and
``group_ids``, SLA due times, and the ticket's life (creation, conversations, status
changes, reassignments) applied at the moment it happened. Freshdesk keeps no history of
its own, so ``on_tick(moment)`` is called whenever the replay crosses a multiple of
``tick`` (a cron-like sync can run there and see the ticket change between runs).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from empathy_firewall.models import Agent, Customer, EventType, Priority, Role, Ticket, TicketStatus
from empathy_firewall.testing.fake_server import agent_email, customer_fields, first_state
from empathy_firewall.testing.replay import play
from empathy_firewall_freshdesk.testing.fake import FakeFreshdesk

__all__ = ["FRESHDESK_PRIORITY", "FRESHDESK_STATUS", "replay_into_freshdesk"]

#: Freshdesk's status code for each core status
FRESHDESK_STATUS = {
    TicketStatus.NEW: 2,
    TicketStatus.OPEN: 2,
    TicketStatus.PENDING: 3,
    TicketStatus.ON_HOLD: 3,
    TicketStatus.SOLVED: 4,
    TicketStatus.CLOSED: 5,
}
#: Freshdesk's priority code for each core priority
FRESHDESK_PRIORITY = {Priority.LOW: 1, Priority.NORMAL: 2, Priority.HIGH: 3, Priority.URGENT: 4}


class _Replay:
    def __init__(self, fake: FakeFreshdesk) -> None:
        self.fake = fake
        self.agents: dict[str, int] = {}
        self.groups: dict[str, int] = {}
        self.contacts: dict[str, int] = {}
        self.companies: dict[str, int] = {}
        self.ids: dict[str, int] = {}
        self.backlog: dict[int, tuple[datetime, int]] = {}

    def group(self, name: str | None) -> int | None:
        if not name:
            return None
        if name not in self.groups:
            self.groups[name] = self.fake.add_group(name)
        return self.groups[name]

    def agent(self, agent_id: str, agent: Agent | None = None) -> int:
        if agent_id not in self.agents:
            name = (agent.name if agent is not None else None) or "Agent"
            self.agents[agent_id] = self.fake.add_agent(
                name=name, email=agent_email(agent, agent_id, name)
            )
        aid = self.agents[agent_id]
        if agent is not None:
            record = self.fake.state.agents[aid]
            record["contact"]["name"] = agent.name or record["contact"]["name"]
            record["contact"]["email"] = agent_email(agent)
            ids = [g for g in (self.group(n) for n in agent.groups) if g is not None]
            record["group_ids"] = list(dict.fromkeys([*record["group_ids"], *ids]))
        return aid

    def contact(self, customer: Customer) -> int:
        if customer.id not in self.contacts:
            company = None
            if customer.organization:
                if customer.organization not in self.companies:
                    self.companies[customer.organization] = self.fake.add_company(
                        customer.organization
                    )
                company = self.companies[customer.organization]
            self.contacts[customer.id] = self.fake.add_contact(
                name=customer.name or customer.id,
                email=customer.email,
                language=customer.language or "en",
                company_id=company,
                custom_fields=customer_fields(customer),
            )
        return self.contacts[customer.id]

    def create(self, ticket: Ticket) -> None:
        first_assignee, first_group, opened = first_state(ticket)
        status = opened or ticket.status
        if ticket.assignee is not None:
            self.agent(ticket.assignee.id, ticket.assignee)
        first = ticket.comments[0] if ticket.comments else None
        opening = first is not None and first.author_role is Role.CUSTOMER
        target = (
            ticket.sla.reply_target_minutes
            if ticket.sla is not None and ticket.sla.reply_target_minutes
            else 60.0
        )
        tid = self.fake.add_ticket(
            subject=ticket.subject,
            body=first.text if opening and first is not None else ticket.subject,
            requester_id=self.contact(ticket.requester),
            status=FRESHDESK_STATUS[status],
            priority=FRESHDESK_PRIORITY[ticket.priority],
            tags=ticket.tags,
            responder_id=self.agent(first_assignee) if first_assignee else None,
            group_id=self.group(first_group),
            fr_due_minutes=target,
            # the reply target holds for every wait (Freshdesk's newer SLA engine keeps it
            # in nr_due_by, set when the customer writes again after an answer)
            nr_due_minutes=target,
        )
        record = self.fake.state.tickets[tid]
        record["custom_fields"] = {f"cf_{k}": v for k, v in ticket.custom_fields.items()}
        self.ids[ticket.key] = tid
        if ticket.assignee is not None and ticket.assignee.open_tickets is not None:
            # the figure of the agent's most recently active ticket is nearest to "now"
            aid = self.agent(ticket.assignee.id)
            figure = (ticket.last_activity_at, ticket.assignee.open_tickets)
            self.backlog[aid] = max(self.backlog.get(aid, figure), figure)

    def comment(self, ticket: Ticket, number: int) -> None:
        comment = ticket.comments[number]
        if comment.author_role is Role.SYSTEM:
            # Freshdesk keeps no system messages as conversations: its auto-replies go out
            # as e-mail notifications and "ticket moved" lines live in the activity log,
            # neither of which the conversations API returns (vendor_apis.md §2.4)
            return
        tid = self.ids[ticket.key]
        if comment.author_role is Role.CUSTOMER:
            user = self.fake.state.tickets[tid]["requester_id"]
        else:
            user = self.agent(comment.author_id or "agent")
        self.fake.add_conversation(
            tid,
            comment.text,
            user_id=user,
            incoming=comment.author_role is Role.CUSTOMER,
            private=not comment.public,
        )

    def change(self, ticket: Ticket, number: int) -> None:
        event = ticket.events[number]
        tid = self.ids[ticket.key]
        record = self.fake.state.tickets[tid]
        stats = record["_stats"]
        moment = self.fake.clock.wall().strftime("%Y-%m-%dT%H:%M:%SZ")
        if event.type is EventType.STATUS_CHANGED and event.to_status is not None:
            before = record["status"]
            record["status"] = FRESHDESK_STATUS[event.to_status]
            stats["status_updated_at"] = moment
            if before in (4, 5) and record["status"] not in (4, 5):
                stats["reopened_at"] = moment
            if record["status"] == 4:
                stats["resolved_at"] = moment
            if record["status"] == 5:
                stats["closed_at"] = moment
        elif event.type is EventType.REASSIGNED:
            record["responder_id"] = self.agent(event.to_assignee) if event.to_assignee else None
            record["group_id"] = self.group(event.to_group)
        else:
            return
        self.fake.touch(tid)


def replay_into_freshdesk(
    fake: FakeFreshdesk,
    tickets: Iterable[Ticket],
    *,
    on_tick: Callable[[datetime], None] | None = None,
    tick: timedelta = timedelta(hours=1),
    backlog_figures: bool = False,
) -> dict[str, int]:
    """Replay ``tickets`` into ``fake`` in time order (its clock moves to each moment).

    Returns the fake's ticket id per ticket key. ``on_tick`` is called with the fake's
    time at every multiple of ``tick`` the replay passes (never twice for one moment).
    With ``backlog_figures`` the search total answers each agent's ``open_tickets`` figure
    from the file (else it counts the replayed tickets).
    """
    replay = _Replay(fake)
    play(replay, fake.clock, tickets, on_tick=on_tick, tick=tick)
    if backlog_figures:
        for aid, (_at, figure) in replay.backlog.items():
            fake.open_counts[aid] = figure  # the file's figure as the helpdesk's own count
    return dict(replay.ids)
