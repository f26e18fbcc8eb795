"""The worker's commits per batch (issue 11 item 12) and exactly once after the commits
that do not wait for the disk are lost (a PostgreSQL crash undoes them)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from ci_support import dev_import
from sqlalchemy import select

# ruff: noqa: E402  (the dev extra is checked before the imports that need it)
dev_import("starlette", "the webhook service needs the 'serve' extra")
dev_import("prometheus_client", "the webhook service needs the 'serve' extra")

from state_support import store
from sync_support import duplicate_markers, seeded_fake
from test_batch_bookkeeping import counting
from webhook_support import event_body, service_for, zendesk_request

from empathy_firewall.state import StateStore
from empathy_firewall.state import schema as t
from empathy_firewall.state.inbox import status_counts
from empathy_firewall.state.lock import ticket_lock_name
from empathy_firewall.webhooks.service import WebhookService
from empathy_firewall_zendesk.testing import FakeZendesk

__all__ = ["store"]


def setup(
    store: StateStore, folder: Path, **webhooks: Any
) -> tuple[FakeZendesk, WebhookService, datetime]:
    fake, now = seeded_fake(40)
    for record in fake.state.tickets.values():  # closed tickets are not written to
        if record["status"] == "closed":
            record["status"] = "solved"
    webhooks.setdefault("backoff_seconds", 0)
    return fake, service_for(fake, store, folder, **webhooks), now


def deliver(fake: FakeZendesk, service: WebhookService, ticket: int, event: str) -> None:
    response = service.receivers["zendesk"].receive(
        zendesk_request(fake, event_body(ticket, event))
    )
    assert response.status == 202, response.json


def notes(fake: FakeZendesk) -> dict[int, list[str]]:
    return {tid: fake.notes(tid) for tid in fake.state.tickets}


@pytest.mark.postgres
def test_a_batch_of_ten_tickets_waits_for_the_disk_twice_not_per_item(
    store: StateStore, tmp_path: Path
) -> None:
    if store.engine.dialect.name != "postgresql":
        pytest.skip("synchronous_commit is a PostgreSQL setting")
    fake, service, now = setup(store, tmp_path, batch=50)
    tickets = sorted(fake.state.tickets)[:10]
    for n, ticket in enumerate(tickets):
        deliver(fake, service, ticket, f"e-{n}")
    worker = service.worker(now=lambda: now)
    with counting(store) as commits:
        report = worker.run_once()
    assert (report.claimed, report.processed, report.lost) == (10, 10, 0)
    # the batch's leases (one commit) and the ledger page; nothing per item or per ticket
    assert commits.durable <= 3, (commits.durable, commits.relaxed)
    # claim, done, lease release: one each for the whole batch
    assert commits.relaxed == 3
    assert status_counts(store) == {"done": 10}
    with store.engine.connect() as conn:
        assert conn.execute(t.locks.select()).all() == []  # every lease given back


def test_lost_done_and_release_commits_write_nothing_twice(
    store: StateStore, tmp_path: Path
) -> None:
    """A crash undoes the relaxed commits after the ledger's: the item runs again, no note twice."""
    fake, service, now = setup(store, tmp_path, lease_seconds=60)
    noted = sorted(fake.state.tickets)
    for n, ticket in enumerate(noted):
        deliver(fake, service, ticket, f"e-{n}")
    first = service.worker(now=lambda: now)
    assert first.run(until_empty=True).processed == len(noted)
    written = notes(fake)
    assert any(written.values())  # the shipped rules wrote some notes
    # what the disk holds if the server crashed before the relaxed commits reached it:
    # the items still claimed by the first worker, every ticket's lease still held
    past = datetime.now(UTC) - timedelta(seconds=1)
    with store.engine.connect() as conn:
        rows = conn.execute(select(t.inbox.c.connector, t.inbox.c.account, t.inbox.c.payload)).all()
    names = {ticket_lock_name(c, a, json.loads(p)["ticket"]) for c, a, p in rows}
    assert len(names) == len(noted)
    with store.engine.begin() as conn:
        conn.execute(
            t.inbox.update().values(
                status="claimed", claimed_by=first.name, claimed_until=past, done_at=None
            )
        )
        for name in names:
            conn.execute(
                t.locks.insert().values(
                    name=name,
                    holder="crashed:1:x",
                    host="elsewhere",
                    pid=1,
                    acquired_at=past,
                    expires_at=past,  # the leases ran out meanwhile
                )
            )
    second = service.worker(now=lambda: now)
    report = second.run(until_empty=True)
    assert (report.processed, report.lost, report.parked) == (len(noted), 0, 0)
    assert status_counts(store) == {"done": len(noted)}
    assert notes(fake) == written  # re-read with verify: nothing written again
    assert duplicate_markers(notes(fake)) == []
