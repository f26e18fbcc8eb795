"""Benchmark: what Zendesk history costs in API calls, audits vs the ticket events export.

Run: ``python benchmarks/zendesk_history_cost.py [--per-page 100] [--lookback-hours 24]``
(needs empathy-firewall-zendesk).

The bundled sample (320 tickets, 50 reassignments, 48 reopens) is seeded into the fake
Zendesk with its history as audits, then polled three ways:

* ``comments``: the export plus one comments call per ticket (no history; the baseline);
* ``audits``: the export plus one audits call per ticket; audits carry the comments too,
  so they *replace* the comments call;
* ``ticket_events``: the baseline plus the time-based incremental ticket events export
  from the same start time (it shares the export's 10 requests/minute budget).

Printed side by side: requests per export page, the extra requests history costs over the
baseline, minutes of rate budget a page of 1000 tickets takes on each Zendesk plan, and how
many of the sample's reassignments each way sees when the first run looks back
``--lookback-hours`` (the events export only holds events after its start time).
"""

from __future__ import annotations

import argparse
import math
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from empathy_firewall.models import EventType
from empathy_firewall.testing.clock import FakeClock
from empathy_firewall.ticketfile import iter_tickets
from empathy_firewall_zendesk import ZendeskConnector
from empathy_firewall_zendesk.testing import FakeZendesk, seed_from_tickets

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "sample_helpdesk.jsonl"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
#: requests per minute of the Support API by plan (vendor_apis.md, Z-RL)
PLANS = {"Team": 200, "Professional": 400, "Enterprise": 700, "High Volume": 2500}


def seeded() -> FakeZendesk:
    """A fake Zendesk holding the sample, its latest activity 5 minutes before NOW."""
    tickets = list(iter_tickets(SAMPLE))
    latest = max(t.last_activity_at for t in tickets)
    fake = FakeZendesk(clock=FakeClock(NOW), export_per_minute=1000)
    seed_from_tickets(fake, tickets, NOW - timedelta(minutes=5) - latest)
    return fake


def poll(history: str, per_page: int, lookback: timedelta) -> tuple[Counter[str], int, int]:
    """Requests by purpose, export pages and reassignments seen, for one full poll."""
    fake = seeded()
    connector = fake.connect(
        ZendeskConnector,
        history=history,
        per_page=per_page,
        initial_lookback_minutes=int(lookback.total_seconds() // 60),
    )
    pages = 0
    moved = 0
    for page in connector.poll(None):
        pages += 1
        moved += sum(1 for t in page.tickets for e in t.events if e.type is EventType.REASSIGNED)
    calls = Counter(_purpose(r.path) for r in fake.log)
    return calls, pages, moved


def _purpose(path: str) -> str:
    for name in ("audits", "comments", "incremental/tickets", "group_memberships", "show_many"):
        if name in path:
            return name
    return path


def events_export(lookback: timedelta) -> tuple[int, int]:
    """Requests the ticket events export takes from the first run's start, and the
    reassignments (assignee or group changes that are not a first assignment) it holds."""
    fake = seeded()
    client = fake.connect(ZendeskConnector).client
    start = int((NOW - lookback).timestamp())
    url: str | None = "/api/v2/incremental/ticket_events.json"
    params: dict[str, str] = {"start_time": str(start)}
    seen: set[Any] = set()
    moved = 0
    calls = 0
    while url is not None and calls < 1000:
        data = client.request("GET", url, params=params, purpose="ticket_events")
        calls += 1
        for record in data["ticket_events"]:
            if record["id"] in seen:
                continue
            seen.add(record["id"])
            fields = {c.get("field_name"): c for c in record["child_events"]}
            assignee = fields.get("assignee_id")
            if assignee is not None and assignee.get("previous_value") is not None:
                moved += 1
        url, params = (None, {}) if data["end_of_stream"] else (data["next_page"], {})
    return calls, moved


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-page", type=int, default=100)
    parser.add_argument("--lookback-hours", type=float, default=24.0)
    args = parser.parse_args()
    everything = timedelta(days=365)
    base, pages, _ = poll("comments", args.per_page, everything)
    audits, _, moved_audits = poll("audits", args.per_page, everything)
    extra_events, _ = events_export(everything)
    short = timedelta(hours=args.lookback_hours)
    _, _, moved_short = poll("audits", args.per_page, short)
    _, moved_events_short = events_export(short)
    tickets = base["comments"]
    total_base = sum(base.values())
    total_audits = sum(audits.values())
    print(f"sample: {tickets} tickets in {pages} export pages of {args.per_page}")
    print(f"{'way':<16}{'requests':>10}{'per page':>10}{'extra/page':>12}{'incremental':>13}")
    rows = (
        ("comments (none)", total_base, 0, base["incremental/tickets"]),
        ("audits", total_audits, total_audits - total_base, audits["incremental/tickets"]),
        (
            "ticket_events",
            total_base + extra_events,
            extra_events,
            base["incremental/tickets"] + extra_events,
        ),
    )
    for name, total, extra, incremental in rows:
        print(f"{name:<16}{total:>10}{total / pages:>10.1f}{extra / pages:>12.2f}{incremental:>13}")
    print()
    per_1000 = 1 + 1000  # one export page of 1000 tickets, one thread read per ticket
    print("minutes of the account's budget one page of 1000 changed tickets takes:")
    for plan, limit in PLANS.items():
        print(
            f"  {plan:<13}{limit:>5}/min  {per_1000 / limit:6.2f} min (same with or without audits)"
        )
    print(
        "  the ticket events export would add "
        f"{math.ceil(extra_events / max(pages, 1) * 10) / 10} request(s) per page against the "
        "incremental budget of 10/min (30 with High Volume), shared with the ticket export"
    )
    print()
    print(
        f"reassignments seen, full history: audits {moved_audits}; first run looking back "
        f"{args.lookback_hours:g} h: audits {moved_short}, ticket events {moved_events_short}"
    )


if __name__ == "__main__":
    main()
