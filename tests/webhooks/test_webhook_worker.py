"""The inbox worker: exactly once, retries with backoff, parking, ticket leases, a worker
that dies mid-item, and the ``inbox list|retry`` commands."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from ci_support import dev_import

# ruff: noqa: E402  (the dev extra is checked before the imports that need it)
dev_import("starlette", "the webhook service needs the 'serve' extra")
dev_import("prometheus_client", "the webhook service needs the 'serve' extra")

from click.testing import CliRunner
from fidelity_support import freshdesk
from sync_support import duplicate_markers, seeded_fake
from webhook_support import event_body, service_for, write_config, zendesk_request

from empathy_firewall.cli import main
from empathy_firewall.connectors.base import HttpRequest, HttpResponse
from empathy_firewall.state import StateStore
from empathy_firewall.state.inbox import status_counts
from empathy_firewall.state.lock import acquire_lock
from empathy_firewall.webhooks.queue import claim_items, list_items
from empathy_firewall.webhooks.service import WebhookService
from empathy_firewall.webhooks.settings import load_serve_config
from empathy_firewall.webhooks.worker import WorkerOptions, backoff_delay
from empathy_firewall_zendesk.testing import FakeZendesk

#: tickets of the 40-ticket sample on which the shipped rules write notes (the sample's
#: 3rd, 7th, 24th, 29th, 33rd and 40th; ids as the seeder hands them out)
NOTED = (1019, 1036, 1083, 1091, 1098, 1108)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Any:
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    yield store
    store.close()


def setup(
    store: StateStore, folder: Path, **webhooks: Any
) -> tuple[FakeZendesk, WebhookService, Any]:
    fake, now = seeded_fake(40)
    for record in fake.state.tickets.values():  # closed tickets are not written to (issue 10)
        if record["status"] == "closed":
            record["status"] = "solved"
    webhooks.setdefault("backoff_seconds", 0)
    service = service_for(fake, store, folder, **webhooks)
    return fake, service, now


def deliver(fake: FakeZendesk, service: WebhookService, ticket: int, event: str) -> str:
    response = service.receivers["zendesk"].receive(
        zendesk_request(fake, event_body(ticket, event))
    )
    assert response.status == 202, response.json
    status: str = response.json["status"]
    return status


def notes_by_ticket(fake: FakeZendesk) -> dict[int, list[str]]:
    return {tid: fake.notes(tid) for tid in fake.state.tickets}


def test_every_event_is_processed_once_and_a_redelivery_changes_nothing(
    sqlite_store: StateStore, tmp_path: Path
) -> None:
    fake, service, now = setup(sqlite_store, tmp_path)
    for tid in fake.state.tickets:
        assert deliver(fake, service, tid, f"a-{tid}") == "queued"
        assert deliver(fake, service, tid, f"a-{tid}") == "duplicate"
    report = service.worker(now=lambda: now).run(until_empty=True)
    assert report.processed == len(fake.state.tickets) == len(set(report.completed_ids))
    assert status_counts(sqlite_store) == {"done": len(fake.state.tickets)}
    noted = {tid for tid, notes in notes_by_ticket(fake).items() if notes}
    assert set(NOTED) <= noted
    before = notes_by_ticket(fake)
    # new events about the same tickets: re-evaluated, nothing written twice
    for tid in NOTED:
        deliver(fake, service, tid, f"b-{tid}")
    again = service.worker(now=lambda: now).run(until_empty=True)
    assert again.processed == len(NOTED)
    assert notes_by_ticket(fake) == before
    assert duplicate_markers(notes_by_ticket(fake)) == []


def test_events_about_one_ticket_in_a_batch_are_one_fetch(
    sqlite_store: StateStore, tmp_path: Path
) -> None:
    fake, service, now = setup(sqlite_store, tmp_path)
    for n in range(5):
        deliver(fake, service, NOTED[0], f"burst-{n}")
    calls = fake.count("tickets/show_many")
    report = service.worker(now=lambda: now).run(until_empty=True)
    assert report.processed == 5
    assert fake.count("tickets/show_many") - calls == 1
    assert duplicate_markers(notes_by_ticket(fake)) == []


def test_a_tickets_events_are_one_fetch_even_when_they_interleave_with_others(
    sqlite_store: StateStore, tmp_path: Path
) -> None:
    # batch = 1 ticket per claim: events of three tickets, interleaved, are still read
    # once per ticket (before: one claim per event, nine fetches)
    fake, service, now = setup(sqlite_store, tmp_path, batch=1)
    tickets = NOTED[:3]
    for n in range(3):
        for tid in tickets:
            deliver(fake, service, tid, f"mix-{n}-{tid}")
    calls = fake.count("tickets/show_many")
    report = service.worker(now=lambda: now).run(until_empty=True)
    assert (report.processed, report.tickets) == (9, 3)
    assert fake.count("tickets/show_many") - calls == 3
    assert duplicate_markers(notes_by_ticket(fake)) == []


def test_a_worker_waits_for_a_ticket_to_settle_and_then_reads_it_once(
    sqlite_store: StateStore, tmp_path: Path
) -> None:
    fake, service, now = setup(sqlite_store, tmp_path, settle_seconds=0.5)
    worker = service.worker(now=lambda: now)
    deliver(fake, service, NOTED[0], "burst-1")
    assert worker.run_once().claimed == 0  # still receiving events: not yet
    deliver(fake, service, NOTED[0], "burst-2")
    calls = fake.count("tickets/show_many")
    started = time.monotonic()
    report = worker.run(until_empty=True)  # waits for the ticket, does not stop at "none"
    assert time.monotonic() - started >= 0.4
    assert (report.processed, report.tickets) == (2, 1)
    assert fake.count("tickets/show_many") - calls == 1
    assert status_counts(sqlite_store) == {"done": 2}


def test_during_a_burst_a_worker_polls_once_per_settle_and_still_takes_the_ticket_on_time(
    sqlite_store: StateStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a ticket keeps receiving events nothing can be claimed, so an idle worker
    sleeps until the first waiting ticket could settle instead of claiming every
    ``idle_sleep``; it still reads the ticket as soon as the burst has been quiet for
    ``settle``."""
    from empathy_firewall.webhooks import worker as worker_module

    fake, service, now = setup(sqlite_store, tmp_path, settle_seconds=0.6, idle_sleep_seconds=0.02)
    claims: list[tuple[float, int]] = []  # when each claim ran, and what it took
    real_claim = worker_module.claim_items

    def counted(*args: Any, **kwargs: Any) -> Any:
        at = time.monotonic()
        taken = real_claim(*args, **kwargs)
        claims.append((at, len(taken)))
        return taken

    monkeypatch.setattr(worker_module, "claim_items", counted)
    worker = service.worker(now=lambda: now)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop.is_set,))
    thread.start()
    try:
        started = time.monotonic()
        n = 0
        while time.monotonic() - started < 1.5:  # the ticket is never quiet for 0.6 s
            deliver(fake, service, NOTED[0], f"burst-{n}")
            last = time.monotonic()
            n += 1
            time.sleep(0.05)
        during = len(claims)
        deadline = last + 10
        while status_counts(sqlite_store) != {"done": n} and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        stop.set()
        thread.join(10)
    assert status_counts(sqlite_store) == {"done": n}
    # every 0.02 s would be about 75 claims; once per settle (0.6 s) is 3 or 4
    assert during <= 5, claims
    taken_at = next(at for at, count in claims if count)
    # when it settled (its last event was stored just before ``last``), not a nap later
    assert 0.55 <= taken_at - last < 0.6 + 0.5


@pytest.mark.parametrize(("status", "retry_after"), [(503, None), (429, 7)])
def test_vendor_failures_are_retried_with_backoff_then_processed(
    sqlite_store: StateStore, tmp_path: Path, status: int, retry_after: int | None
) -> None:
    fake, service, now = setup(sqlite_store, tmp_path, backoff_seconds=60)
    deliver(fake, service, NOTED[0], "r-1")
    fake.fail_next(status, times=50, retry_after=retry_after, path="show_many")
    worker = service.worker(now=lambda: now)
    first = worker.run_once()
    assert (first.claimed, first.retried, first.processed) == (1, 1, 0)
    [row] = list_items(sqlite_store, status="retrying")
    assert row.attempts == 1
    assert row.last_error is not None
    assert "Error" in row.last_error
    assert row.retry_at is not None
    assert row.retry_at > row.received_at + timedelta(seconds=50)
    assert worker.run_once().claimed == 0  # it waits out its backoff
    fake.faults.clear()
    with sqlite_store.engine.begin() as conn:  # the backoff ends
        from empathy_firewall.state import schema as t

        conn.execute(t.inbox.update().values(claimed_until=t.inbox.c.received_at))
    second = worker.run_once()
    assert (second.claimed, second.processed) == (1, 1)
    assert duplicate_markers(notes_by_ticket(fake)) == []


def test_backoff_doubles_is_capped_and_honours_retry_after() -> None:
    options = WorkerOptions(backoff_base=10, backoff_max=100)
    assert 10 <= backoff_delay(1, options) <= 11
    assert 20 <= backoff_delay(2, options) <= 22
    assert 100 <= backoff_delay(9, options) <= 110
    assert backoff_delay(1, options, retry_after=60) >= 60
    assert backoff_delay(1, options, retry_after=10_000) <= 110


def test_an_item_that_keeps_failing_is_parked_then_listed_and_requeued(
    sqlite_store: StateStore, tmp_path: Path
) -> None:
    fake, service, now = setup(sqlite_store, tmp_path, max_attempts=3)
    deliver(fake, service, NOTED[1], "p-1")
    fake.fail_next(500, times=500, path="show_many")
    report = service.worker(now=lambda: now).run(until_empty=True)
    assert (report.retried, report.parked, report.processed) == (2, 1, 0)
    [parked] = list_items(sqlite_store, status="failed")
    assert parked.attempts == 3
    assert parked.last_error is not None
    assert "after 3 attempts" in parked.last_error

    (tmp_path / "cli").mkdir()
    config = write_config(tmp_path / "cli", sqlite_store.url)
    runner = CliRunner()
    listed = runner.invoke(main, ["inbox", "list", "--config", str(config)])
    assert listed.exit_code == 0, listed.output
    assert "failed 1" in listed.output
    assert parked.ticket == str(NOTED[1])
    assert f"zendesk ticket={NOTED[1]} key=event:p-1" in listed.output
    assert "after 3 attempts" in listed.output
    as_json = runner.invoke(main, ["inbox", "list", "--config", str(config), "--json"])
    assert json.loads(as_json.output)["id"] == parked.id
    assert json.loads(as_json.output)["ticket"] == str(NOTED[1])
    usage = runner.invoke(main, ["inbox", "retry", "--config", str(config)])
    assert usage.exit_code == 2
    retried = runner.invoke(main, ["inbox", "retry", "--config", str(config), str(parked.id)])
    assert retried.exit_code == 0
    assert "requeued 1 item(s)" in retried.output

    fake.faults.clear()
    done = service.worker(now=lambda: now).run(until_empty=True)
    assert done.processed == 1
    assert status_counts(sqlite_store) == {"done": 1}
    assert (
        "requeued 0"
        in runner.invoke(main, ["inbox", "retry", "--config", str(config), "--all"]).output
    )
    kept = runner.invoke(main, ["inbox", "prune", "--config", str(config)])
    assert "pruned 0 done item(s)" in kept.output
    with sqlite_store.engine.begin() as conn:  # finished 8 days ago
        from empathy_firewall.state import schema as t

        conn.execute(t.inbox.update().values(done_at=datetime.now(UTC) - timedelta(days=8)))
    gone = runner.invoke(main, ["inbox", "prune", "--config", str(config), "--days", "7"])
    assert "pruned 1 done item(s)" in gone.output
    assert status_counts(sqlite_store) == {}


def test_an_item_whose_ticket_another_worker_holds_waits_without_losing_an_attempt(
    sqlite_store: StateStore, tmp_path: Path
) -> None:
    fake, service, now = setup(sqlite_store, tmp_path, max_attempts=1)
    deliver(fake, service, NOTED[2], "busy-1")
    account = service.receivers["zendesk"].account
    lease = acquire_lock(sqlite_store, f"webhook:zendesk:{account}:{NOTED[2]}")
    report = service.worker(now=lambda: now).run_once()
    assert (report.waited, report.processed, report.parked) == (1, 0, 0)
    lease.release()
    with sqlite_store.engine.begin() as conn:
        from empathy_firewall.state import schema as t

        conn.execute(t.inbox.update().values(claimed_until=t.inbox.c.received_at))
    assert service.worker(now=lambda: now).run(until_empty=True).processed == 1


class Killed(BaseException):
    """Stands for SIGKILL: nothing in the worker catches it."""


class DiesAfterWriting:
    """A transport that lets the bulk update through, then kills the worker."""

    def __init__(self, fake: FakeZendesk) -> None:
        self.fake = fake

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response: HttpResponse = self.fake(request)
        if "job_statuses" in request.url:
            raise Killed
        return response


def test_a_worker_killed_mid_item_leaves_it_to_another_which_writes_nothing_twice(
    sqlite_store: StateStore, tmp_path: Path
) -> None:
    fake, service, now = setup(sqlite_store, tmp_path, lease_seconds=5)
    deliver(fake, service, NOTED[0], "k-1")
    doomed = service.worker(now=lambda: now)
    for processor in doomed.processors.values():
        processor.connector._transport = DiesAfterWriting(fake)  # type: ignore[attr-defined]
    with pytest.raises(Killed):
        doomed.run_once()
    assert fake.notes(NOTED[0])  # the note was written before the worker died
    assert status_counts(sqlite_store) == {"claimed": 1}
    survivor = service.worker(now=lambda: now)
    assert survivor.run_once().claimed == 0  # the claim is still live
    with sqlite_store.engine.begin() as conn:  # ... until its lease expires
        from empathy_firewall.state import schema as t

        conn.execute(t.inbox.update().values(claimed_until=t.inbox.c.received_at))
    report = survivor.run(until_empty=True)
    assert report.processed == 1
    assert status_counts(sqlite_store) == {"done": 1}
    assert duplicate_markers(notes_by_ticket(fake)) == []


def test_an_item_whose_claims_keep_expiring_is_parked_not_left_behind(
    sqlite_store: StateStore, tmp_path: Path
) -> None:
    fake, service, now = setup(sqlite_store, tmp_path, max_attempts=2)
    deliver(fake, service, NOTED[0], "poison-1")
    from empathy_firewall.state import schema as t

    for _ in range(2):  # two workers die holding it
        assert (
            len(claim_items(sqlite_store, "dead", limit=5, lease=timedelta(0), max_attempts=2)) == 1
        )
    report = service.worker(now=lambda: now).run(until_empty=True)
    assert report.parked == 1
    [row] = list_items(sqlite_store, status="failed")
    assert row.last_error is not None
    assert "claim expired" in row.last_error
    with sqlite_store.engine.connect() as conn:
        assert conn.execute(t.inbox.select()).first() is not None


def test_an_item_for_an_unconfigured_connector_is_parked(
    sqlite_store: StateStore, tmp_path: Path
) -> None:
    from empathy_firewall.state.inbox import put

    _fake, service, now = setup(sqlite_store, tmp_path)
    put(sqlite_store, "helpscout", "x", "k", json.dumps({"ticket": "1"}))
    report = service.worker(now=lambda: now).run(until_empty=True)
    assert report.parked == 1
    assert "no connector 'helpscout'" in (list_items(sqlite_store)[0].last_error or "")


def test_freshdesk_events_are_read_once_per_ticket_and_a_second_round_writes_nothing(
    sqlite_store: StateStore, tmp_path: Path
) -> None:
    """The per-ticket claim through the Freshdesk connector and its documented automation
    body: three events on each of five tickets are five reads; new events with nothing new
    on the tickets are read again and write nothing."""
    fake, _connector = freshdesk(0)
    config = load_serve_config(write_config(tmp_path, None, connector="freshdesk"))
    options = {"freshdesk": {"transport": fake, "clock": fake.clock, "env": fake.env}}
    service = WebhookService(config, store=sqlite_store, connector_options=options)
    receiver = service.receivers["freshdesk"]
    tickets = sorted(fake.state.tickets)[:5]

    def deliver_round(n: int) -> None:
        for tid in tickets:
            body = {**json.loads(fake.webhook_body(str(tid))), "round": n}
            assert receiver.receive(fake.webhook(body)).status == 202

    for n in range(3):
        deliver_round(n)
    reads = fake.count("/tickets/")
    first = service.worker(now=fake.clock.wall).run(until_empty=True)
    assert (first.processed, first.tickets) == (15, 5)
    scraped = service.metrics.render().decode()
    assert 'ef_inbox_tickets_read_total{connector="freshdesk"} 5.0' in scraped
    assert 'ef_inbox_processed_total{connector="freshdesk"} 15.0' in scraped
    assert status_counts(sqlite_store) == {"done": 15}
    assert fake.count("/tickets/") > reads
    writes = fake.count(method="POST") + fake.count(method="PUT")
    assert writes > 0  # the first round wrote (notes on four of the five tickets)
    notes = {tid: fake.notes(tid) for tid in tickets}
    deliver_round(99)
    second = service.worker(now=fake.clock.wall).run(until_empty=True)
    assert (second.processed, second.tickets) == (5, 5)
    assert 'ef_inbox_tickets_read_total{connector="freshdesk"} 10.0' in (
        service.metrics.render().decode()
    )
    assert fake.count(method="POST") + fake.count(method="PUT") == writes
    assert {tid: fake.notes(tid) for tid in tickets} == notes
