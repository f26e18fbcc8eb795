"""The inbox worker: claim, re-read, evaluate, apply, record, complete.

A worker loops over :meth:`InboxWorker.run_once`:

1. claim the events of up to ``batch`` tickets that have settled (no new event for
   ``settle``), every waiting event of each
   (:func:`~empathy_firewall.webhooks.queue.claim_items`; on PostgreSQL ``FOR UPDATE SKIP
   LOCKED``, so any number of workers share one inbox);
2. group them by ticket: several events about one ticket are one piece of work;
3. take a short lease on each ticket (two workers never write to one ticket at once; an
   item whose ticket is busy waits a moment without losing an attempt);
4. re-read the tickets through ``connector.fetch`` (a webhook is only a hint: unsigned
   bodies, partial snapshots, redeliveries after later changes);
5. evaluate, drop actions already in the ledger or visible on the ticket, apply, and record
   ledger, history and signals in one transaction: the ticket step a sync page goes
   through (:class:`TicketProcessor` composes :class:`~empathy_firewall.sync.step.TicketStep`);
6. complete the items. A failure (vendor 429/5xx after the HTTP policy's own retries,
   anything unexpected) retries the item after an exponential backoff (at least the
   vendor's ``Retry-After``); after ``max_attempts`` it is parked as ``failed`` with its
   reason, for ``empathy-firewall inbox list|retry``. An action the helpdesk refused for one
   ticket (a 422 on a closed ticket) is handled as the sync job handles it: logged, left
   out of the ledger (and its cooldown not started), and the item completes; the next event
   or sync run for that ticket tries again.

A worker that dies mid-item leaves its claim behind; the claim expires after
``lease`` and another worker claims the item again (the apply then runs with
``verify=True``, so actions the dead worker already wrote are found, not repeated).
"""

from __future__ import annotations

import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from empathy_firewall.connectors.base import Connector
from empathy_firewall.engine.evaluate import Engine
from empathy_firewall.errors import EmpathyFirewallError, RetryableError
from empathy_firewall.models import Ticket
from empathy_firewall.settings import FirewallSettings
from empathy_firewall.signals.analysis import default_text_analyzer
from empathy_firewall.signals.text import CommentCache
from empathy_firewall.state import inbox as store_inbox
from empathy_firewall.state.inbox import InboxItem
from empathy_firewall.state.lock import (
    Lease,
    acquire_leases,
    release_leases,
    ticket_lock_name,
)
from empathy_firewall.state.rates import share_rate_limits
from empathy_firewall.state.store import StateStore
from empathy_firewall.sync.job import RUN_CACHE, account_of
from empathy_firewall.sync.step import TicketStep
from empathy_firewall.sync.summary import SyncSummary
from empathy_firewall.webhooks.queue import (
    claim_items,
    defer,
    next_claim_at,
    park,
    waiting_items,
)

__all__ = [
    "BatchReport",
    "InboxWorker",
    "TicketProcessor",
    "WorkerObserver",
    "WorkerOptions",
    "backoff_delay",
    "worker_name",
]

log = logging.getLogger("empathy_firewall.webhooks.worker")


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    """How a worker claims and retries (the ``[webhooks]`` config table sets them)."""

    #: tickets per claim (each with every event waiting for it)
    batch: int = 25
    lease: timedelta = timedelta(minutes=5)
    max_attempts: int = 5
    backoff_base: float = 10.0
    backoff_max: float = 900.0
    idle_sleep: float = 0.2
    busy_ticket_wait: float = 1.0
    #: a ticket is processed once its newest event is this old (its events are coalesced:
    #: one re-read for a burst of updates) ...
    settle: timedelta = timedelta(seconds=2)
    #: ... or once its oldest waiting event is this old (a ticket that never goes quiet)
    settle_max: timedelta = timedelta(seconds=30)


class WorkerObserver(Protocol):
    """Counts what workers do (the metrics module implements it)."""

    def processed(self, connector: str, seconds: float) -> None:
        """An item was completed; ``seconds`` from claim to completion of its batch."""
        ...

    def failed(self, connector: str, final: bool) -> None:
        """An item failed; ``final`` when it was parked."""
        ...

    def tickets_read(self, connector: str, count: int) -> None:
        """``count`` tickets were re-read from the helpdesk (one read for every event a
        ticket had waiting)."""
        ...


@dataclass(slots=True)
class BatchReport:
    """What one or more batches did."""

    claimed: int = 0
    processed: int = 0
    retried: int = 0
    parked: int = 0
    waited: int = 0
    lost: int = 0
    skipped: int = 0
    #: tickets re-read (a ticket's events are claimed and processed together)
    tickets: int = 0
    completed_ids: list[int] = field(default_factory=list)

    def add(self, other: BatchReport) -> None:
        """Accumulate another report into this one."""
        self.claimed += other.claimed
        self.processed += other.processed
        self.retried += other.retried
        self.parked += other.parked
        self.waited += other.waited
        self.lost += other.lost
        self.skipped += other.skipped
        self.tickets += other.tickets
        self.completed_ids.extend(other.completed_ids)

    def as_dict(self) -> dict[str, int]:
        """Counts only (JSON-ready)."""
        return {
            "claimed": self.claimed,
            "processed": self.processed,
            "retried": self.retried,
            "parked": self.parked,
            "waited": self.waited,
            "lost": self.lost,
            "skipped_tickets": self.skipped,
            "tickets": self.tickets,
        }


def worker_name() -> str:
    """A worker id unique across hosts and processes: ``host:pid:random``."""
    return f"{socket.gethostname()[:100]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def backoff_delay(attempt: int, options: WorkerOptions, retry_after: float | None = None) -> float:
    """Seconds before attempt ``attempt + 1``: exponential, capped, never below Retry-After."""
    delay = float(min(options.backoff_max, options.backoff_base * 2 ** max(attempt - 1, 0)))
    delay *= 1.0 + random.random() * 0.1  # noqa: S311 - jitter, not security
    if retry_after is not None:
        delay = max(delay, min(retry_after, options.backoff_max))
    return delay


class TicketProcessor:
    """The ticket step of a sync page, applied to tickets named by webhooks.

    :meth:`process` evaluates with the page history, drops ledger and on-ticket keys,
    applies, and records ledger, history and signals in one transaction, exactly as a sync
    page does (both run :class:`~empathy_firewall.sync.step.TicketStep`), but leaves the
    sync bookmark alone. The worker holds each ticket's lease around the whole step.
    """

    def __init__(
        self,
        store: StateStore,
        connector: Connector,
        engine: Engine,
        settings: FirewallSettings | None = None,
        *,
        texts: CommentCache | None = None,
    ) -> None:
        self.store = store
        self.connector = connector
        self.engine = engine
        self.account = account_of(connector)
        self.step = TicketStep(
            store,
            connector,
            engine,
            settings or FirewallSettings(),
            texts
            if texts is not None
            else CommentCache(default_text_analyzer(), max_entries=RUN_CACHE),
            account=self.account,
            leases_tickets=False,
        )

    def process(self, tickets: Sequence[Ticket], *, verify: bool, now: datetime) -> dict[str, str]:
        """Process ``tickets``; returns ``{ticket_key: reason}`` for tickets left incomplete."""
        summary = SyncSummary(run_id="webhook-" + uuid.uuid4().hex[:12], started_at=now)
        self.step.process(tickets, now, summary, verify=verify)
        keys = {t.source.external_id: t.key for t in tickets}
        return {
            keys.get(s.ticket, s.ticket): f"action {s.action_key} skipped: {s.reason}"
            for s in summary.skipped
        }


def _describe(exc: BaseException) -> str:
    """A reason safe to store and log: our errors' messages never hold secrets or text."""
    if isinstance(exc, EmpathyFirewallError):
        return f"{type(exc).__name__}: {exc}"[:2000]
    return f"{type(exc).__name__} (unexpected; see the worker log)"


class InboxWorker:
    """Claims and processes inbox items (see the module docstring).

    ``processors`` maps ``(connector name, account)`` to the :class:`TicketProcessor` that
    handles that helpdesk's items; a worker thread or process owns its processors (their
    connectors hold HTTP sessions and rate budgets). ``now`` fixes the evaluation time
    (tests); by default it is the wall clock.
    """

    def __init__(
        self,
        store: StateStore,
        processors: Mapping[tuple[str, str], TicketProcessor],
        options: WorkerOptions | None = None,
        *,
        name: str | None = None,
        observer: WorkerObserver | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = store
        self.processors = dict(processors)
        self.options = options or WorkerOptions()
        self.name = name or worker_name()
        self.observer = observer
        self.now = now or (lambda: datetime.now(UTC))

    def __repr__(self) -> str:
        return f"InboxWorker({self.name!r}, connectors={sorted(self.processors)!r})"

    def run(
        self,
        should_stop: Callable[[], bool] = lambda: False,
        *,
        until_empty: bool = False,
        max_seconds: float | None = None,
    ) -> BatchReport:
        """Work until asked to stop (or, with ``until_empty``, until a claim finds nothing)."""
        total = BatchReport()
        started = time.monotonic()
        while not should_stop():
            if max_seconds is not None and time.monotonic() - started > max_seconds:
                break
            try:
                report = self.run_once()
            except Exception as exc:  # the store is down: claims expire, nothing is lost
                log.error("inbox worker %s: batch failed: %s", self.name, _describe(exc))
                time.sleep(min(5.0, self.options.idle_sleep * 10))
                continue
            total.add(report)
            if report.claimed == 0:
                # events of a ticket still settling are not "empty": wait for them
                if until_empty and not self._settling():
                    break
                self._nap(should_stop)
        return total

    def _settling(self) -> bool:
        return waiting_items(self.store, max_attempts=self.options.max_attempts) > 0

    def _nap(self, should_stop: Callable[[], bool]) -> None:
        """After a claim that found nothing: sleep until something could be claimed.

        Nothing stored later can be claimed before it settles (``settle`` from now), and
        what is stored now cannot before :func:`next_claim_at`: so the worker sleeps until
        the earlier of the two (at least ``idle_sleep``), checking ``should_stop`` every
        ``idle_sleep``. During a burst, while every ticket still receives events, a worker
        polls once per ``settle`` instead of every ``idle_sleep``, and it still takes each
        ticket the moment it settles.
        """
        options = self.options
        horizon = min(options.settle, options.settle_max).total_seconds()
        wait = options.idle_sleep
        if horizon > options.idle_sleep:
            try:
                moment = next_claim_at(
                    self.store,
                    max_attempts=options.max_attempts,
                    settle=options.settle,
                    settle_max=options.settle_max,
                )
            except Exception as exc:  # the store is down: the next claim will say so
                log.warning("inbox worker %s: %s", self.name, _describe(exc))
            else:
                until = horizon if moment is None else (moment - datetime.now(UTC)).total_seconds()
                wait = max(options.idle_sleep, min(until, horizon))
        deadline = time.monotonic() + wait
        while not should_stop():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, options.idle_sleep))

    def run_once(self) -> BatchReport:
        """Claim the events of up to ``batch`` settled tickets and process them."""
        report = BatchReport()
        options = self.options
        items = claim_items(
            self.store,
            self.name,
            limit=options.batch,
            lease=options.lease,
            max_attempts=options.max_attempts,
            settle=options.settle,
            settle_max=options.settle_max,
        )
        report.claimed = len(items)
        if not items:
            return report
        started = time.monotonic()
        groups: dict[tuple[str, str], dict[str, list[InboxItem]]] = {}
        for item in items:
            if item.attempts > options.max_attempts:
                reason = (
                    f"claim expired on attempt {options.max_attempts} "
                    "(a worker stopped while processing it)"
                )
                self._park(item, reason, report)
                continue
            ticket = store_inbox.ticket_of(item.payload)
            if ticket is None:
                self._park(item, "payload names no ticket", report)
                continue
            if (item.connector, item.account) not in self.processors:
                reason = f"no connector {item.connector!r} for account {item.account!r} configured"
                self._park(item, reason, report)
                continue
            groups.setdefault((item.connector, item.account), {}).setdefault(ticket, []).append(
                item
            )
        for target, by_ticket in groups.items():
            self._process_group(self.processors[target], by_ticket, started, report)
        return report

    def _process_group(
        self,
        processor: TicketProcessor,
        by_ticket: dict[str, list[InboxItem]],
        started: float,
        report: BatchReport,
    ) -> None:
        connector = processor.connector
        # every worker, replica and sync on this account spends one budget (attached at
        # first use: the connector builds its HTTP client lazily)
        share_rate_limits(connector, self.store, processor.account)
        names = {
            ticket_lock_name(connector.name, processor.account, ticket_id): ticket_id
            for ticket_id in by_ticket
        }
        # one durable commit for the batch's free tickets (a lease must survive a crash)
        taken, busy = acquire_leases(self.store, list(names), ttl=self.options.lease)
        leases: dict[str, Lease] = {names[name]: lease for name, lease in taken.items()}
        for name in busy:
            for item in by_ticket[names[name]]:
                wait = timedelta(seconds=self.options.busy_ticket_wait)
                defer(
                    self.store,
                    item.id,
                    self.name,
                    "ticket busy",
                    delay=wait,
                    count_attempt=False,
                )
                report.waited += 1
        if not leases:
            return
        try:
            ids = list(leases)
            batch = [i for tid in ids for i in by_ticket[tid]]
            verify = any(i.attempts > 1 for i in batch)
            try:
                report.tickets += len(ids)
                if self.observer is not None:
                    self.observer.tickets_read(connector.name, len(ids))
                tickets = connector.fetch(ids)
                incomplete = processor.process(tickets, verify=verify, now=self.now())
            except Exception as exc:
                retry_after = exc.retry_after if isinstance(exc, RetryableError) else None
                log.warning(
                    "inbox worker %s: %d item(s) of %s failed: %s",
                    self.name,
                    len(batch),
                    connector.name,
                    _describe(exc),
                )
                for item in batch:
                    self._failed(item, _describe(exc), retry_after, report)
                return
            keys = {t.source.external_id: t.key for t in tickets}
            seconds = time.monotonic() - started
            for tid in ids:
                reason = incomplete.get(keys.get(tid, ""))
                if reason is not None:
                    report.skipped += 1
                    log.warning(
                        "inbox worker %s: %s ticket %s: %s (a later event or sync tries again)",
                        self.name,
                        connector.name,
                        tid,
                        reason,
                    )
            self._complete(batch, seconds, report)
        finally:
            try:  # one statement for the batch; it need not wait for the disk
                release_leases(self.store, list(leases.values()))
            except Exception as exc:  # they expire on their own
                log.warning("inbox worker %s: lease release failed: %s", self.name, _describe(exc))

    def _complete(self, items: Sequence[InboxItem], seconds: float, report: BatchReport) -> None:
        # after the ledger's durable commit: one statement for the batch, not waiting for
        # the disk (if a crash undoes it, the items run again with verify and write nothing)
        done = store_inbox.complete_many(self.store, [item.id for item in items], self.name)
        for item in items:
            if item.id in done:
                report.processed += 1
                report.completed_ids.append(item.id)
                if self.observer is not None:
                    self.observer.processed(item.connector, seconds)
                continue
            report.lost += 1
            log.warning(
                "inbox worker %s: the claim on item %d expired before it was done "
                "(raise webhooks.lease_seconds)",
                self.name,
                item.id,
            )

    def _failed(
        self, item: InboxItem, reason: str, retry_after: float | None, report: BatchReport
    ) -> None:
        if item.attempts >= self.options.max_attempts:
            self._park(item, f"{reason} (after {item.attempts} attempts)", report)
            return
        delay = backoff_delay(item.attempts, self.options, retry_after)
        defer(self.store, item.id, self.name, reason, delay=timedelta(seconds=delay))
        report.retried += 1
        if self.observer is not None:
            self.observer.failed(item.connector, False)
        log.info(
            "inbox item %d (%s) retries in %.0fs after attempt %d",
            item.id,
            item.connector,
            delay,
            item.attempts,
        )

    def _park(self, item: InboxItem, reason: str, report: BatchReport) -> None:
        park(self.store, item.id, self.name, reason)
        report.parked += 1
        if self.observer is not None:
            self.observer.failed(item.connector, True)
        log.warning(
            "inbox item %d (%s) parked after %d attempt(s): %s",
            item.id,
            item.connector,
            item.attempts,
            reason,
        )
