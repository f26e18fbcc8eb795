"""The sync job: poll from the bookmark, take each page through the ticket step, advance.

Each page the connector yields goes through :class:`~empathy_firewall.sync.step.TicketStep`
(enrich, evaluate, drop what is already done, apply, record the page and its bookmark in
one transaction); see :mod:`~empathy_firewall.sync.step` for the steps. A crash anywhere
leaves either the old bookmark (the page is read again: its done actions are found in the
ledger or on the helpdesk) or the new one (everything recorded). The first page after a
pending bookmark is applied with ``verify=True``.

Observe everything, then evaluate: evaluated page by page, what a page's plans depend on
(customer memory, agents' work, the roster; which ticket carries a rule gated per agent
or customer) would depend on how the export is cut into pages. A run whose tickets span
more than one page (first run or later) therefore reads the export twice: pass 1 polls
every page from the starting bookmark and records only what the pages teach (snapshots
and derived history, customer memory, agent work, the roster of assignees) without
evaluating or writing to the helpdesk; pass 2 polls again from the same bookmark and
evaluates. A run whose tickets fit in one page reads it once (pass 1 holds it unrecorded
until a second page with tickets shows up). A dry run records nothing, so it makes no
observation pass; ``sync --dry-run`` on a SQLite store therefore runs the real job on a
rehearsal (:mod:`~empathy_firewall.sync.rehearsal`) instead (docs/sync.md).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from empathy_firewall.actions import Plan
from empathy_firewall.connectors.base import Bookmark, Connector, Page
from empathy_firewall.engine.evaluate import Engine
from empathy_firewall.models import Ticket
from empathy_firewall.settings import FirewallSettings
from empathy_firewall.signals.analysis import default_text_analyzer
from empathy_firewall.signals.text import CommentCache
from empathy_firewall.state.lock import Lease, acquire_lock
from empathy_firewall.state.store import StateStore
from empathy_firewall.sync.step import (
    CLOSED,
    UNCHANGED,
    TicketStep,
    evaluation_view,
    signal_summary,
    sync_lock_name,
)
from empathy_firewall.sync.summary import SyncSummary

__all__ = [
    "CLOSED",
    "RUN_CACHE",
    "UNCHANGED",
    "PageReport",
    "SyncJob",
    "SyncOptions",
    "account_of",
    "evaluation_view",
    "signal_summary",
    "since_bookmark",
]

log = logging.getLogger("empathy_firewall.sync")

#: comments whose text signals a run keeps (a page or two of tickets)
RUN_CACHE = 5_000


@dataclass(frozen=True)
class SyncOptions:
    """How one run behaves. ``now`` fixes the evaluation time (replays, tests)."""

    dry_run: bool = False
    since: datetime | None = None
    max_tickets: int | None = None
    now: datetime | None = None
    lock_ttl: timedelta = timedelta(minutes=10)


@dataclass(frozen=True)
class PageReport:
    """What one page did, handed to the progress callback (and dry-run printer)."""

    number: int
    tickets: int
    plans: tuple[Plan, ...]
    applied: int
    summary: SyncSummary = field(repr=False)


def account_of(connector: Connector) -> str:
    """The helpdesk account a connector talks to (the bookmark and lock are per account)."""
    config: Any = getattr(connector, "config", None)
    account = getattr(config, "account", None)
    if isinstance(account, str) and account:
        return account
    path = getattr(config, "path", None)
    return str(path) if path is not None else "default"


def since_bookmark(connector: Connector, since: datetime) -> Bookmark:
    """A bookmark that makes ``poll`` start at ``since`` (a backfill)."""
    if connector.name == "file":
        return Bookmark.of({"offset": 0})
    return Bookmark.of({"start_time": int(since.timestamp())})


def _http_stats(connector: Connector) -> dict[str, float]:
    """Request counts from a connector built on the shared HTTP policy, when it has one."""
    try:
        client = getattr(connector, "_client", None) or None
        stats = getattr(getattr(client, "sender", None), "stats", None)
    except Exception:  # pragma: no cover - a third-party connector's property failed
        return {}
    return dict(stats) if isinstance(stats, dict) else {}


class SyncJob:
    """One ``sync`` run (see the module docstring). :meth:`run` returns its summary."""

    def __init__(
        self,
        store: StateStore,
        connector: Connector,
        engine: Engine,
        settings: FirewallSettings | None = None,
        options: SyncOptions | None = None,
        *,
        on_page: Callable[[PageReport], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        texts: CommentCache | None = None,
    ) -> None:
        self.store = store
        self.connector = connector
        self.engine = engine
        self.settings = settings or FirewallSettings()
        self.options = options or SyncOptions()
        self.on_page = on_page
        self.should_stop = should_stop or (lambda: False)
        # A run-sized cache: comments repeat within a run (re-exported tickets), rarely
        # across runs, and a bounded cache keeps memory flat in the number of tickets.
        self.texts = (
            texts
            if texts is not None
            else CommentCache(default_text_analyzer(), max_entries=RUN_CACHE)
        )
        self.account = account_of(connector)
        self.step = TicketStep(
            store, connector, engine, self.settings, self.texts, account=self.account
        )
        self.lock_name = sync_lock_name(connector.name, self.account)

    def run(self) -> SyncSummary:
        """Take the lock, process pages until the helpdesk has no more, report."""
        self.step.begin_run()
        options = self.options
        now = options.now or datetime.now(UTC)
        summary = SyncSummary(
            run_id=uuid.uuid4().hex[:16], started_at=datetime.now(UTC), dry_run=options.dry_run
        )
        lease: Lease | None = None
        if not options.dry_run:
            lease = acquire_lock(self.store, self.lock_name, ttl=options.lock_ttl)
            self.store.start_run(summary.run_id, self.lock_name)
        try:
            self._pages(now, summary, lease)
            summary.status = "finished"
        except BaseException as exc:
            summary.status = "failed"
            summary.notes.append(f"stopped by {type(exc).__name__}")
            raise
        finally:
            self._finish(summary, lease)
        return summary

    def _finish(self, summary: SyncSummary, lease: Lease | None) -> None:
        stats = _http_stats(self.connector)
        summary.api_calls = int(stats.get("requests", 0))
        summary.retries = int(stats.get("retries", 0))
        summary.rate_limit_wait_seconds = float(stats.get("waited", 0.0))
        summary.finished_at = datetime.now(UTC)
        if lease is not None:
            read_to_end = summary.status == "finished" and summary.stopped_because is None
            try:
                self.store.finish_run(
                    summary.run_id, summary.status, summary.as_dict(), read_to_end=read_to_end
                )
            finally:
                lease.release()
        log.info("%s", summary.logfmt())

    def _start(self) -> tuple[Bookmark | None, bool]:
        """Where the run starts, and whether the last run stopped while applying a page."""
        stored = self.store.bookmark(self.connector.name, self.account)
        verify = bool(stored and stored.pending)
        if self.options.since is not None:
            return since_bookmark(self.connector, self.options.since), verify
        if stored is not None and stored.value:
            return Bookmark(stored.value), verify
        return None, verify

    def _tickets(self, tickets: tuple[Ticket, ...] | list[Ticket]) -> list[Ticket]:
        since = self.options.since
        return [t for t in tickets if since is None or t.last_activity_at >= since]

    def _observe_all(
        self, bookmark: Bookmark | None, now: datetime, summary: SyncSummary, lease: Lease | None
    ) -> tuple[bool, list[Page] | None]:
        """Pass 1 of a run whose tickets span more than one page: read every page from
        ``bookmark``, record what it teaches, evaluate nothing.

        Returns whether to go on (False if asked to stop) and, when at most one page held
        tickets (a lone page, maybe followed by empty ones), those pages: pass 2 then
        evaluates them without reading them again, and they are not observed here
        (observing one page before evaluating it is what every page's step does anyway).
        Pages are observed only once a second page with tickets shows up. With
        ``--max-tickets``, pass 1 reads the pages pass 2 will evaluate and no further (a
        bounded run over a long backlog must not read all of it on every run).
        """
        held: list[tuple[Page, list[Ticket]]] | None = []  # read, not observed yet
        with_tickets = observed = read = 0
        limit = self.options.max_tickets
        for page in self.connector.poll(bookmark):
            tickets = self._tickets(page.tickets)
            with_tickets += bool(tickets)
            read += len(tickets)
            if held is not None:
                held.append((page, tickets))
                if with_tickets > 1:  # several pages: observe everything first
                    for _, waiting in held:
                        observed += self._observe_page(waiting, now, summary)
                    held = None
            else:
                observed += self._observe_page(tickets, now, summary)
            if lease is not None:
                lease.renew()
            if self.should_stop():
                summary.tickets_observed += observed
                summary.stopped_because = "asked to stop (signal)"
                return False, None
            if limit and read >= limit:  # where pass 2 stops (the same count, see _pages)
                break
        summary.tickets_observed += observed
        return True, None if held is None else [page for page, _ in held]

    def _observe_page(self, tickets: list[Ticket], now: datetime, summary: SyncSummary) -> int:
        """Record what one page teaches (nothing for an empty page); its ticket count."""
        if tickets:
            self.step.observe(tickets, now, run_id=summary.run_id)
            log.info("sync observe page tickets=%d", len(tickets))
        return len(tickets)

    def _pages(self, now: datetime, summary: SyncSummary, lease: Lease | None) -> None:
        options = self.options
        bookmark, verify = self._start()
        summary.resumed_after_crash = verify
        held: list[Page] | None = None
        if not options.dry_run:  # a dry run records nothing: see the module docstring
            go_on, held = self._observe_all(bookmark, now, summary, lease)
            if not go_on:
                return
        pages = held if held is not None else self.connector.poll(bookmark)
        for page in pages:
            summary.pages += 1
            tickets = self._tickets(page.tickets)
            summary.removed_tickets += len(page.removed)
            summary.notes.extend(page.notes)
            plans, applied = self.step.process(
                tickets,
                now,
                summary,
                verify=verify,
                bookmark=page.bookmark.value,
                dry_run=options.dry_run,
            )
            if not options.dry_run:
                verify = False
                if lease is not None:
                    lease.renew()
            summary.tickets_seen += len(tickets)
            log.info(
                "sync page=%d tickets=%d plans=%d applied=%d",
                summary.pages,
                len(tickets),
                len(plans),
                applied,
            )
            if self.on_page is not None:
                self.on_page(
                    PageReport(summary.pages, len(tickets), tuple(plans), applied, summary)
                )
            if options.max_tickets and summary.tickets_seen >= options.max_tickets:
                summary.stopped_because = f"--max-tickets {options.max_tickets} reached"
                return
            if self.should_stop():
                summary.stopped_because = "asked to stop (signal)"
                return
