"""Replay normalized tickets (the bundled sample) into a :class:`FakeZendesk`, in time order.

Unlike :func:`~empathy_firewall_zendesk.testing.server.seed_from_tickets`, which loads every
ticket with its whole history at once, this replays the tickets' lives through the fake's
own API at the moment each thing happened (ticket created, comment added, status changed,
reassigned), so the fake records audits as Zendesk would and ``on_tick(moment)`` can run a
cron-like sync whenever the replay crosses a multiple of ``tick``. People are set up as
the seeder does (user fields, organisations, agents' e-mail, memberships and opt-in field).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from empathy_firewall.models import Agent, Customer, EventType, Role, Ticket
from empathy_firewall.testing.fake_server import (
    OPT_IN_FIELD,
    agent_email,
    customer_fields,
    first_state,
    opt_in_value,
)
from empathy_firewall.testing.replay import play
from empathy_firewall_zendesk.testing.fake import FakeZendesk

__all__ = ["People", "replay_into_zendesk"]

_STATUS = {"on_hold": "hold"}


class People:
    """The file's people and groups as Zendesk users, organisations and groups, each made
    once: customers with their fields as ``user_fields``, agents with an e-mail, group
    memberships and their opt-ins in the user field ``OPT_IN_FIELD``."""

    def __init__(self, fake: FakeZendesk) -> None:
        self.fake = fake
        self.users: dict[str, int] = {}
        self.groups: dict[str, int] = {}
        self.orgs: dict[str, int] = {}

    def group(self, name: str | None) -> int | None:
        """The group's id (None for no group)."""
        if not name:
            return None
        if name not in self.groups:
            self.groups[name] = self.fake.add_group(name)
        return self.groups[name]

    def agent(self, agent_id: str, agent: Agent | None = None) -> int:
        """The agent's user id; with ``agent``, their name, e-mail, opt-ins and groups."""
        key = "a:" + agent_id
        if key not in self.users:
            self.users[key] = self.fake.add_user(name="Agent", role="agent")
        uid = self.users[key]
        if agent is not None:
            record = self.fake.state.users[uid]
            record["name"] = agent.name or record["name"]
            record["email"] = agent_email(agent)
            record["user_fields"][OPT_IN_FIELD] = opt_in_value(agent)
            for name in agent.groups:
                gid = self.group(name)
                if gid is not None:
                    self.fake.add_membership(uid, gid)
        return uid

    def customer(self, customer: Customer) -> int:
        """The requester's user id (in their organisation)."""
        key = "c:" + customer.id
        if key not in self.users:
            org = None
            if customer.organization:
                if customer.organization not in self.orgs:
                    self.orgs[customer.organization] = self.fake.add_organization(
                        customer.organization
                    )
                org = self.orgs[customer.organization]
            self.users[key] = self.fake.add_user(
                name=customer.name or customer.id,
                email=customer.email,
                locale=customer.language or "en-US",
                user_fields=customer_fields(customer),
                organization_id=org,
            )
        return self.users[key]

    def person(self, ticket: Ticket, who: str | None) -> int:
        """The user id of ``who`` on ``ticket`` (the requester or an agent; -1: the system)."""
        if who is None:
            return -1
        if who == ticket.requester.id:
            return self.customer(ticket.requester)
        return self.agent(who)


class _Replay(People):
    def __init__(self, fake: FakeZendesk) -> None:
        super().__init__(fake)
        self.ids: dict[str, int] = {}

    def create(self, ticket: Ticket) -> None:
        assignee, group, opened = first_state(ticket)
        status = opened.value if opened is not None else "new"
        if ticket.assignee is not None:
            self.agent(ticket.assignee.id, ticket.assignee)
        first = ticket.comments[0] if ticket.comments else None
        opening = first is not None and first.author_role is Role.CUSTOMER
        tid = self.fake.add_ticket(
            subject=ticket.subject,
            body=first.text if opening and first is not None else ticket.subject,
            requester_id=self.customer(ticket.requester),
            status=_STATUS.get(status, status),
            priority=ticket.priority.value,
            tags=ticket.tags,
            assignee_id=self.agent(assignee) if assignee else None,
            group_id=self.group(group),
            age_seconds=0.0,
        )
        record = self.fake.state.tickets[tid]
        record["via"] = {"channel": ticket.channel.value}
        record["organization_id"] = self.fake.state.users[record["requester_id"]]["organization_id"]
        self.ids[ticket.key] = tid

    def comment(self, ticket: Ticket, number: int) -> None:
        comment = ticket.comments[number]
        if comment.author_role is Role.CUSTOMER:
            author = self.customer(ticket.requester)
        elif comment.author_role is Role.AGENT:
            author = self.agent(comment.author_id or "agent")
        else:
            author = -1
        self.fake.add_comment(
            self.ids[ticket.key], comment.text, author_id=author, public=comment.public
        )

    def change(self, ticket: Ticket, number: int) -> None:
        event = ticket.events[number]
        tid = self.ids[ticket.key]
        author = self.person(ticket, event.actor_id)
        if event.type is EventType.STATUS_CHANGED and event.to_status is not None:
            value = event.to_status.value
            self.fake.change(tid, author_id=author, status=_STATUS.get(value, value))
        elif event.type is EventType.REASSIGNED:
            self.fake.change(
                tid,
                author_id=author,
                assignee_id=self.agent(event.to_assignee) if event.to_assignee else None,
                group_id=self.group(event.to_group),
            )


def replay_into_zendesk(
    fake: FakeZendesk,
    tickets: Iterable[Ticket],
    *,
    on_tick: Callable[[datetime], None] | None = None,
    tick: timedelta = timedelta(hours=1),
) -> dict[str, int]:
    """Replay ``tickets`` into ``fake`` in time order (its clock moves to each moment).

    Returns the fake's ticket id per ticket key. ``on_tick`` is called with the fake's
    time at every multiple of ``tick`` the replay passes.
    """
    replay = _Replay(fake)
    play(replay, fake.clock, tickets, on_tick=on_tick, tick=tick)
    return dict(replay.ids)
