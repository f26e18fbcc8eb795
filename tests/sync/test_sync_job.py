"""The sync job against the fake Zendesk: incremental, idempotent, resumable."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sync_support import ENGINE, SAMPLE, connector_for, duplicate_markers, job, seeded_fake

from empathy_firewall.actions import Plan
from empathy_firewall.connectors.base import ApplyResult, markers_in
from empathy_firewall.connectors.registry import create
from empathy_firewall.errors import RetryableError
from empathy_firewall.models import SourceRef, TicketStatus
from empathy_firewall.state import StateStore
from empathy_firewall.state.agents import prompts
from empathy_firewall.sync import SyncJob, SyncOptions
from empathy_firewall.sync.job import CLOSED, account_of
from empathy_firewall.ticketfile import iter_tickets

FILE_NOW = datetime(2026, 11, 20, 14, 54, 59, tzinfo=UTC)


def _notes(fake: Any) -> dict[int, list[str]]:
    return {tid: [c["body"] for c in fake.comments(tid)] for tid in fake.state.tickets}


def test_a_second_run_changes_nothing(store: StateStore) -> None:
    fake, now = seeded_fake()
    first, _ = job(store, fake, now)
    summary = first.run()
    assert summary.status == "finished"
    assert summary.tickets_seen == 120
    assert sum(summary.actions_applied.values()) > 50
    assert summary.api_calls > 0
    after_first = fake.snapshot()
    writes = fake.count(method="PUT")

    fake.clock.advance(120)  # our own writes now show up in the export again
    second, _ = job(store, fake, now)
    again = second.run()
    assert again.tickets_seen > 0  # the touched tickets came back ...
    assert sum(again.actions_applied.values()) == 0  # ... and nothing was written twice
    assert fake.snapshot() == after_first
    assert fake.count(method="PUT") == writes
    assert duplicate_markers(_notes(fake)) == []


def test_every_written_note_is_in_the_ledger_once(store: StateStore) -> None:
    fake, now = seeded_fake()
    sync, connector = job(store, fake, now)
    done = sync.run()
    assert done.actions_applied["internal_note"] > 0
    account = account_of(connector)
    ledger = store.applied_keys(f"zendesk:{account}:{tid}" for tid in fake.state.tickets)
    written = [
        (tid, key)
        for tid in fake.state.tickets
        for body in fake.notes(tid)
        for key in markers_in(body)
    ]
    assert len(written) >= done.actions_applied["internal_note"]
    for tid, key in written:
        assert fake.marker_count(tid, key) == 1
        assert key in ledger[f"zendesk:{account}:{tid}"]


class _FailingSecondApply:
    """Wraps a connector: the second apply call fails as if Zendesk went down."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def apply(self, plans: Sequence[Plan], *, verify: bool = False) -> tuple[ApplyResult, ...]:
        self.calls += 1
        if self.calls == 2:
            raise RetryableError("Zendesk unavailable (HTTP 503) after 5 attempts")
        return self._inner.apply(plans, verify=verify)


def test_the_bookmark_advances_only_after_a_page_is_applied(
    store: StateStore, tmp_path: Path
) -> None:
    fake, now = seeded_fake()
    inner = connector_for(fake)
    flaky = _FailingSecondApply(inner)
    failing = SyncJob(store, flaky, ENGINE, options=SyncOptions(now=now))  # type: ignore[arg-type]
    with pytest.raises(RetryableError):
        failing.run()
    stored = store.bookmark("zendesk", account_of(inner))
    assert stored is not None
    assert stored.pending  # the next run knows a page was cut short
    first_page = stored.value

    resumed, _ = job(store, fake, now)
    summary = resumed.run()
    assert summary.resumed_after_crash
    assert summary.status == "finished"
    final = store.bookmark("zendesk", account_of(inner))
    assert final is not None
    assert not final.pending
    assert final.value != first_page

    reference, ref_now = seeded_fake()
    with StateStore("sqlite://") if False else _memory_store() as clean:
        job(clean, reference, ref_now)[0].run()
    assert fake.snapshot() == reference.snapshot()


def _memory_store() -> StateStore:
    import tempfile

    folder = tempfile.mkdtemp()
    return StateStore(f"sqlite:///{folder}/ref.db")


def test_dry_run_sends_and_stores_nothing(store: StateStore) -> None:
    fake, now = seeded_fake(100)
    before = fake.snapshot()
    dry, connector = job(store, fake, now, dry_run=True)
    summary = dry.run()
    assert summary.dry_run
    assert sum(summary.actions_planned.values()) > 0
    assert sum(summary.actions_applied.values()) == 0
    assert fake.count(method="PUT") == 0
    assert fake.snapshot() == before
    assert store.bookmark("zendesk", account_of(connector)) is None
    assert store.ledger_count() == 0


def test_max_tickets_stops_after_the_page_and_the_next_run_continues(
    store: StateStore,
) -> None:
    fake, now = seeded_fake()
    bounded, _ = job(store, fake, now, max_tickets=50)
    summary = bounded.run()
    assert summary.tickets_seen == 80  # two pages of 40: a page is the unit of progress
    # the observation pass reads the pages the run evaluates, not the whole backlog
    assert summary.tickets_observed == 80
    assert summary.stopped_because is not None
    rest, _ = job(store, fake, now)
    assert rest.run().tickets_seen == 40


def test_closed_tickets_are_not_written_to_and_counted_with_a_reason(store: StateStore) -> None:
    fake, now = seeded_fake()
    closed = {tid for tid, t in fake.state.tickets.items() if t["status"] == "closed"}
    before = {tid: fake.snapshot()[tid] for tid in closed}
    summary = job(store, fake, now)[0].run()
    assert closed
    assert summary.skipped == []  # no write Zendesk would refuse was sent
    assert summary.not_written[CLOSED] == len(closed)
    assert {tid: fake.snapshot()[tid] for tid in closed} == before
    assert "tickets not written to: " in "\n".join(summary.lines())
    assert summary.status == "finished"


def test_a_closed_ticket_still_gets_its_agent_private_prompts(
    store: StateStore, tmp_path: Path
) -> None:
    # the sample file's agents have opted in; a positive moment at closing is recognised
    raw = {"path": str(SAMPLE), "output": str(tmp_path / "plans.jsonl"), "page_size": 100}
    connector = create("file", raw)
    closed = {t.key for t in iter_tickets(SAMPLE) if t.status is TicketStatus.CLOSED}
    summary = SyncJob(store, connector, ENGINE, options=SyncOptions(now=FILE_NOW)).run()
    assert summary.not_written[CLOSED] == len(closed)
    with store.engine.connect() as conn:
        queued = {r.ticket_key for r in conn.execute(select(prompts.c.ticket_key))}
    assert queued & closed
    written = [json.loads(line) for line in (tmp_path / "plans.jsonl").read_text().splitlines()]
    on_closed = [
        a["action"]["kind"]
        for p in written
        if SourceRef.model_validate(p["ticket"]).key in closed
        for a in p["actions"]
    ]
    assert on_closed == []  # prompts are held for digests, never written for a closed ticket


def test_since_backfills_from_the_given_time(store: StateStore) -> None:
    fake, now = seeded_fake()
    job(store, fake, now)[0].run()
    backfill, _ = job(store, fake, now, since=now - timedelta(days=2))
    summary = backfill.run()
    assert 0 < summary.tickets_seen < 120
    assert sum(summary.actions_applied.values()) == 0
