"""Seed a :class:`FakeZendesk` from normalized tickets (the bundled sample), two ways.

:func:`seed_from_tickets` loads every ticket with its whole history at once (audits
written directly). :func:`replay_into_zendesk` replays the tickets' lives through the
fake's own API at the moment each thing happened (ticket created, comment added, status
changed, reassigned), so the fake records audits as Zendesk would and ``on_tick(moment)``
can run a cron-like sync whenever the replay crosses a multiple of ``tick``. Both set up
people alike (:class:`People`: user fields, organisations, agents' e-mail, memberships and
opt-in field).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

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

__all__ = ["People", "replay_into_zendesk", "seed_from_tickets"]

_STATUS = {"on_hold": "hold"}


def _history(ticket: Ticket) -> tuple[str | None, str | None, str]:
    """The ticket's first assignee, first group and first status (before any change)."""
    assignee, group, status = first_state(ticket)
    first = status.value if status is not None else "new"
    return assignee, group, _STATUS.get(first, first)


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
        assignee, group, status = _history(ticket)
        if ticket.assignee is not None:
            self.agent(ticket.assignee.id, ticket.assignee)
        first = ticket.comments[0] if ticket.comments else None
        opening = first is not None and first.author_role is Role.CUSTOMER
        tid = self.fake.add_ticket(
            subject=ticket.subject,
            body=first.text if opening and first is not None else ticket.subject,
            requester_id=self.customer(ticket.requester),
            status=status,
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


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def seed_from_tickets(
    fake: FakeZendesk,
    tickets: Iterable[Ticket],
    shift: timedelta,
    *,
    backlog_figures: bool = False,
) -> int:
    """Load normalized tickets into ``fake`` (times moved by ``shift``); returns the count.

    Everything the file says is put where Zendesk keeps it: the requester's loyalty tier,
    lifetime value, order count and fields as ``user_fields`` (language as ``locale``),
    their organisation as an organisation, each agent with an e-mail, group memberships
    and their opt-ins in the user field :data:`OPT_IN_FIELD`, and the ticket's history
    (creation, comments, reassignments, status changes) as audits; metric sets carry the
    reopen and station counts. With ``backlog_figures`` the search count answers each
    agent's ``open_tickets`` figure from the file (else it counts the seeded tickets; the
    bundled sample's figures are counted from its own open tickets, so both agree there).
    """
    people = People(fake)
    backlog: dict[int, tuple[datetime, int]] = {}

    count = 0
    for ticket in tickets:
        requester = people.customer(ticket.requester)
        assignee = None
        if ticket.assignee is not None:
            assignee = people.agent(ticket.assignee.id, ticket.assignee)

        first_assignee, first_group, first_status = _history(ticket)
        tid = fake.add_ticket(
            subject=ticket.subject,
            body=".",
            requester_id=requester,
            status=_STATUS.get(ticket.status.value, ticket.status.value),
            priority=ticket.priority.value,
            tags=ticket.tags,
            assignee_id=assignee,
            group_id=people.group(ticket.group),
        )
        record = fake.state.tickets[tid]
        created = ticket.created_at + shift
        updated = ticket.last_activity_at + shift
        record["created_at"] = _iso(created)
        record["updated_at"] = _iso(updated)
        record["generated_timestamp"] = int(updated.timestamp())
        record["via"] = {"channel": ticket.channel.value}
        record["organization_id"] = fake.state.users[requester]["organization_id"]
        if ticket.sla is not None and ticket.sla.breach_at is not None:
            record["_slas"] = {
                "policy_metrics": [
                    {
                        "breach_at": _iso(ticket.sla.breach_at + shift),
                        "stage": "active",
                        "metric": ticket.sla.policy or "first_reply_time",
                        **(
                            {"minutes": int(ticket.sla.reply_target_minutes)}
                            if ticket.sla.reply_target_minutes
                            else {}
                        ),
                    }
                ]
            }
        metrics = fake.state.metrics[tid]
        if ticket.metrics is not None:
            if ticket.metrics.reopens is not None:
                metrics["reopens"] = ticket.metrics.reopens
            if ticket.metrics.reassignments is not None:
                metrics["assignee_stations"] = ticket.metrics.reassignments + 1
            if ticket.metrics.group_hops is not None:
                metrics["group_stations"] = ticket.metrics.group_hops + 1
        if ticket.assignee is not None and ticket.assignee.open_tickets is not None:
            # the file's backlog figure is the whole account's: what the sample does not
            # hold is open elsewhere; the agent's most recently active ticket has the
            # figure nearest to "now"
            stamp = (ticket.last_activity_at, ticket.assignee.open_tickets)
            backlog[assignee or 0] = max(backlog.get(assignee or 0, stamp), stamp)
        fake.state.comments[tid] = []
        fake.state.audits[tid] = []
        # the ticket's life as audits, in time order
        timeline: list[tuple[datetime, int, int, list[dict[str, Any]], str]] = []
        creates = [
            {"type": "Create", "field_name": name, "value": value}
            for name, value in (
                ("subject", ticket.subject),
                ("status", first_status),
                ("priority", ticket.priority.value),
                ("group_id", people.group(first_group)),
                (
                    "assignee_id",
                    people.agent(first_assignee) if first_assignee is not None else None,
                ),
            )
            if value is not None
        ]
        timeline.append((ticket.created_at, 0, requester, creates, ticket.channel.value))
        for number, comment in enumerate(ticket.comments, start=1):
            if comment.author_role is Role.CUSTOMER:
                author = requester
            elif comment.author_role is Role.AGENT:
                author = people.agent(comment.author_id or "agent")
            else:
                author = -1  # a system message
            stored: dict[str, Any] = {
                "id": tid * 1000 + number,
                "type": "Comment",
                "author_id": author,
                "body": comment.text,
                "plain_body": comment.text,
                "public": comment.public,
                "created_at": _iso(comment.created_at + shift),
                "via": {"channel": comment.channel.value if comment.channel else "web"},
            }
            fake.state.comments[tid].append(stored)
            timeline.append(
                (
                    comment.created_at,
                    1,
                    author,
                    [fake._comment_event(stored)],
                    comment.channel.value,
                )
            )
        for event in ticket.events:
            changes: list[dict[str, Any]] = []
            if event.type is EventType.STATUS_CHANGED and event.to_status is not None:
                before = event.from_status.value if event.from_status is not None else None
                changes.append(
                    {
                        "type": "Change",
                        "field_name": "status",
                        "previous_value": _STATUS.get(before or "", before),
                        "value": _STATUS.get(event.to_status.value, event.to_status.value),
                    }
                )
            elif event.type is EventType.REASSIGNED:
                if event.from_assignee != event.to_assignee:
                    changes.append(
                        {
                            "type": "Change",
                            "field_name": "assignee_id",
                            "previous_value": people.agent(event.from_assignee)
                            if event.from_assignee
                            else None,
                            "value": people.agent(event.to_assignee) if event.to_assignee else None,
                        }
                    )
                if event.from_group != event.to_group:
                    changes.append(
                        {
                            "type": "Change",
                            "field_name": "group_id",
                            "previous_value": people.group(event.from_group),
                            "value": people.group(event.to_group),
                        }
                    )
            if changes:
                author = people.person(ticket, event.actor_id)
                timeline.append((event.at, 2, author, changes, "web"))
        for at, _order, author, events, channel in sorted(timeline, key=lambda t: (t[0], t[1])):
            fake.add_audit(tid, events, author_id=author, at=at + shift, channel=channel)
        count += 1
    if backlog_figures:
        for uid, (_at, figure) in backlog.items():
            fake.open_counts[uid] = figure  # the file's figure as the helpdesk's own count
    return count
