"""The sample helpdesk seeded in shuffled order into the file source and both fakes."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sync_support import SAMPLE, connector_for, tickets

from empathy_firewall.connectors.base import Connector
from empathy_firewall.connectors.file import FileConnector
from empathy_firewall.models import Role, Ticket
from empathy_firewall.testing.clock import FakeClock
from empathy_firewall_freshdesk.testing import FRESHDESK_PRIORITY, FRESHDESK_STATUS, FakeFreshdesk
from empathy_firewall_zendesk.testing import FakeZendesk, seed_from_tickets

__all__ = ["NOW", "file_connector", "freshdesk", "reconnect", "shuffled", "zendesk"]

NOW = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


def shuffled(seed: int, count: int | None = None) -> list[Ticket]:
    """The sample tickets in a shuffled order."""
    sample = tickets(count)
    random.Random(seed).shuffle(sample)
    return sample


def file_connector(tmp: Path, seed: int, page_size: int = 40) -> FileConnector:
    """The file source over a shuffled copy of the sample."""
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    random.Random(seed).shuffle(lines)
    path = tmp / f"sample-{seed}.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    raw = {"path": str(path), "output": str(tmp / f"plans-{seed}.jsonl"), "page_size": page_size}
    built = FileConnector.from_config(raw)
    assert isinstance(built, FileConnector)
    return built


def _shift(sample: list[Ticket]) -> timedelta:
    return NOW - timedelta(minutes=5) - max(t.last_activity_at for t in sample)


def zendesk(seed: int) -> tuple[FakeZendesk, Connector]:
    """A fake Zendesk seeded in shuffled order, and a connector on it."""
    sample = shuffled(seed)
    fake = FakeZendesk(clock=FakeClock(NOW), export_per_minute=1000)
    seed_from_tickets(fake, sample, _shift(sample))
    return fake, connector_for(fake)


def freshdesk(seed: int) -> tuple[FakeFreshdesk, Connector]:
    """A fake Freshdesk seeded in shuffled order, and a connector on it."""

    sample = shuffled(seed)
    shift = _shift(sample)
    fake = FakeFreshdesk(clock=FakeClock(NOW), requests_per_minute=100_000, list_per_minute=None)
    people: dict[str, int] = {}
    groups: dict[str, int] = {}

    def person(key: str, agent: bool) -> int:
        if key not in people:
            add = fake.add_agent if agent else fake.add_contact
            people[key] = add(name=key)
        return people[key]

    for ticket in sample:
        first = ticket.comments[0].text if ticket.comments else "."
        group = None
        if ticket.group:
            group = groups.get(ticket.group) or fake.add_group(ticket.group)
            groups[ticket.group] = group
        tid = fake.add_ticket(
            subject=ticket.subject or "Help",
            body=first or ".",
            requester_id=person("c:" + ticket.requester.id, False),
            status=FRESHDESK_STATUS[ticket.status],
            priority=FRESHDESK_PRIORITY[ticket.priority],
            tags=ticket.tags,
            responder_id=person("a:" + ticket.assignee.id, True) if ticket.assignee else None,
            group_id=group,
        )
        record = fake.state.tickets[tid]
        record["created_at"] = _iso(ticket.created_at + shift)
        record["updated_at"] = _iso(ticket.last_activity_at + shift)
        for comment in ticket.comments[1:]:
            agent = comment.author_role is not Role.CUSTOMER
            author = person(
                ("a:" + (comment.author_id or "agent")) if agent else "c:" + ticket.requester.id,
                agent,
            )
            conv = fake._add_conversation(
                tid,
                comment.text or ".",
                user_id=author,
                incoming=not agent,
                private=not comment.public,
                source=2 if not comment.public else 0,
            )
            conv["created_at"] = conv["updated_at"] = _iso(comment.created_at + shift)
    return fake, reconnect(fake)


def reconnect(fake: FakeZendesk | FakeFreshdesk) -> Connector:
    """A new connector on ``fake`` (as a new cron run builds one)."""
    if isinstance(fake, FakeZendesk):
        return connector_for(fake)
    from empathy_firewall_freshdesk import FreshdeskConnector

    return fake.connect(
        FreshdeskConnector, domain="fake", initial_lookback_minutes=60 * 24 * 365, per_page=40
    )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
