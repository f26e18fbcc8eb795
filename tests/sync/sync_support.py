"""A fake Zendesk seeded from the sample helpdesk, and a sync job wired to it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

from empathy_firewall.connectors.base import markers_in
from empathy_firewall.engine.evaluate import Engine
from empathy_firewall.engine.loader import load_rule_packs
from empathy_firewall.models import Ticket
from empathy_firewall.state import StateStore
from empathy_firewall.sync import SyncJob, SyncOptions
from empathy_firewall.testing.clock import FakeClock
from empathy_firewall.ticketfile import iter_tickets
from empathy_firewall_zendesk import ZendeskConnector
from empathy_firewall_zendesk.testing import FakeZendesk, seed_from_tickets

__all__ = ["ENGINE", "SAMPLE", "duplicate_markers", "job", "seeded_fake", "tickets"]

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sample_helpdesk.jsonl"
ENGINE = Engine(load_rule_packs(None))


def tickets(count: int | None = None) -> list[Ticket]:
    """The first ``count`` sample tickets (all by default)."""
    return list(islice(iter_tickets(SAMPLE), count))


def seeded_fake(count: int | None = 120) -> tuple[FakeZendesk, datetime]:
    """A fake Zendesk holding sample tickets, its latest activity 5 minutes before now."""
    sample = tickets(count)
    now = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
    latest = max(t.last_activity_at for t in sample)
    fake = FakeZendesk(clock=FakeClock(now), export_per_minute=1000)
    seed_from_tickets(fake, sample, now - timedelta(minutes=5) - latest)
    return fake, now


def connector_for(fake: FakeZendesk, **config: Any) -> ZendeskConnector:
    """A Zendesk connector whose transport, clock and environment are the fake's."""
    settings = {"initial_lookback_minutes": 60 * 24 * 365, "per_page": 40, **config}
    connector = ZendeskConnector.from_config(
        fake.connector_config(**settings), transport=fake, clock=fake.clock, env=fake.env
    )
    assert isinstance(connector, ZendeskConnector)
    return connector


def job(
    store: StateStore, fake: FakeZendesk, now: datetime, **options: Any
) -> tuple[SyncJob, ZendeskConnector]:
    """A sync job on a fresh connector (as a new cron run would have)."""
    connector = connector_for(fake)
    return SyncJob(store, connector, ENGINE, options=SyncOptions(now=now, **options)), connector


def duplicate_markers(comments_by_ticket: dict[Any, Sequence[str]]) -> list[tuple[Any, str]]:
    """(ticket, key) pairs whose note marker appears more than once."""
    out = []
    for ticket, bodies in comments_by_ticket.items():
        seen: dict[str, int] = {}
        for body in bodies:
            for key in markers_in(body):
                seen[key] = seen.get(key, 0) + 1
        out.extend((ticket, key) for key, n in seen.items() if n > 1)
    return out
