"""Run the fake Zendesk as a real local HTTP server, seeded from a normalized ticket file.

::

    python -m empathy_firewall_zendesk.testing.server --seed examples/sample_helpdesk.jsonl \\
        --port 8765

It prints one line, ``fake-zendesk http://127.0.0.1:PORT now=ISO``, then serves until
killed. The sample's timestamps are shifted so its latest activity is five minutes before
the server started; the helpdesk's wall clock then stands still (tickets the firewall
touches are not exported again within the run), while its request clock runs in real time
(bulk jobs complete, rate limits apply). Credentials are the fake's fixed ones:
``ZENDESK_EMAIL=admin@example.com`` and ``ZENDESK_API_TOKEN=fake-api-token``.

Two extra endpoints help tests: ``GET /_fake/snapshot`` (tickets' tags, status and
comments) and ``GET /_fake/stats`` (requests received). For tests and demos only.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from http.server import HTTPServer
from pathlib import Path
from typing import Any

from empathy_firewall.models import EventType, Role, Ticket
from empathy_firewall.testing.fake_server import (
    ServerClock,
    attach,
    first_state,
    http_server,
    run_until_killed,
    shift_to,
)
from empathy_firewall.ticketfile import iter_tickets
from empathy_firewall_zendesk.testing.fake import FakeZendesk
from empathy_firewall_zendesk.testing.seed import People

__all__ = ["main", "seed_from_tickets", "serve"]

_STATUS = {"on_hold": "hold"}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _history(ticket: Ticket) -> tuple[str | None, str | None, str]:
    """The ticket's first assignee, first group and first status (before any change)."""
    assignee, group, status = first_state(ticket)
    first = status.value if status is not None else "new"
    return assignee, group, _STATUS.get(first, first)


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
    sample's figures do not always agree with its own open tickets).
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


def serve(
    seed: Path,
    *,
    port: int = 0,
    export_per_minute: int = 10,
    job_seconds: float = 0.5,
    now: datetime | None = None,
) -> tuple[HTTPServer, FakeZendesk, datetime]:
    """Build a seeded fake and an HTTP server for it (call ``serve_forever`` to run).

    ``now`` fixes the helpdesk's wall clock (default: the real time at start), so two
    servers seeded alike hold identical tickets.
    """
    tickets = list(iter_tickets(seed))
    started, shift = shift_to(tickets, now)
    server, base = http_server(port)
    fake = FakeZendesk(
        base_url=base,
        clock=ServerClock(started),  # type: ignore[arg-type]
        export_per_minute=export_per_minute,
        job_seconds=job_seconds,
    )
    seed_from_tickets(fake, tickets, shift)
    attach(server, fake)
    return server, fake, started


def main(argv: list[str] | None = None) -> None:
    """Command line: seed, print the address, serve until killed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=Path, required=True, help="normalized ticket JSONL")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--port-file", type=Path, help="also write the base URL here")
    parser.add_argument("--export-per-minute", type=int, default=10)
    parser.add_argument("--job-seconds", type=float, default=0.5)
    parser.add_argument("--now", help="the helpdesk's wall-clock time (ISO 8601, with zone)")
    args = parser.parse_args(argv)
    server, _fake, started = serve(
        args.seed,
        port=args.port,
        export_per_minute=args.export_per_minute,
        job_seconds=args.job_seconds,
        now=datetime.fromisoformat(args.now) if args.now else None,
    )
    run_until_killed(server, "fake-zendesk", started, args.port_file)
    sys.exit(0)


if __name__ == "__main__":
    main()
