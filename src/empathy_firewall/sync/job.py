"""The sync job: poll from the bookmark, enrich, evaluate, apply, record, advance.

For each page the connector yields:

1. read the page's history in a few queries (:class:`~empathy_firewall.state.PageHistory`),
   the ledger keys of its tickets and their stored snapshots
   (:mod:`~empathy_firewall.state.snapshots`); count the backlog per assignee and group;
2. in a canonical order (oldest ticket first): add the history derived from the snapshots
   when the connector has no history API (:mod:`~empathy_firewall.signals.derived`), and
   record what every ticket teaches (customer memory, agent work) before any is evaluated,
   so no plan depends on where in the page a ticket arrived;
3. evaluate each ticket as the helpdesk showed it *before* the firewall wrote to it
   (comments carrying our note markers are left out, so re-reading our own note never
   changes the plan's keys), unless it is unchanged since an earlier run handled it (its
   fingerprint; a ticket read back in the run that wrote it is evaluated again, as a
   re-run after a crash would); closed tickets get no helpdesk write (agent prompts only);
4. drop planned actions, tags and note sections whose keys are in the ledger or already
   visible on the ticket (:meth:`~empathy_firewall.connectors.Connector.applied_keys`,
   :mod:`~empathy_firewall.sync.dedupe`);
5. mark the bookmark ``pending`` (durably), apply, and then in ONE transaction record the
   ledger, the history, the signal summaries, the snapshots and the page's bookmark
   (``pending`` off).

A crash anywhere leaves either the old bookmark (the page is read again: its done actions
are found in the ledger or on the helpdesk) or the new one (everything recorded). The
first page after a pending bookmark is applied with ``verify=True``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from empathy_firewall.actions import Plan
from empathy_firewall.channels.outbox import queue_prompts
from empathy_firewall.channels.queue import hold_prompts
from empathy_firewall.connectors.base import ApplyResult, Bookmark, Connector, markers_in
from empathy_firewall.context import EvaluationContext
from empathy_firewall.engine.evaluate import Engine
from empathy_firewall.insights.record import TimelineBuffer, own_removed_tags
from empathy_firewall.models import Agent, Ticket, TicketEvent, TicketStatus
from empathy_firewall.optins import apply_stored_opt_ins
from empathy_firewall.settings import FirewallSettings
from empathy_firewall.signals.analysis import default_text_analyzer
from empathy_firewall.signals.backlog import Backlog, page_backlog
from empathy_firewall.signals.derived import derive_events, with_events
from empathy_firewall.signals.enrich import Signals, enrich, observation_of
from empathy_firewall.signals.history import Firing
from empathy_firewall.signals.roster import roster_of
from empathy_firewall.signals.text import CommentCache
from empathy_firewall.state.agents import stored_choices
from empathy_firewall.state.buffer import PageHistory
from empathy_firewall.state.lock import Lease, acquire_lock, take_ticket_leases
from empathy_firewall.state.schema import runs as runs_table
from empathy_firewall.state.snapshots import (
    OPEN_STATUSES,
    Snapshot,
    count_open,
    load_snapshots,
    snapshot_of,
    write_snapshots,
)
from empathy_firewall.state.store import LedgerEntry, StateStore
from empathy_firewall.sync.dedupe import (
    after_plan,
    decision_digest,
    done_keys,
    fingerprint,
    fresh_action,
)
from empathy_firewall.sync.summary import SkippedTicket, SyncSummary

__all__ = [
    "RUN_CACHE",
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


def evaluation_view(ticket: Ticket) -> Ticket:
    """The ticket without the notes the firewall wrote (those carrying its markers)."""
    own = [c for c in ticket.comments if "[empathy-firewall:" in c.text and markers_in(c.text)]
    if not own:
        return ticket
    keep = tuple(c for c in ticket.comments if c not in own)
    return ticket.model_copy(update={"comments": keep})


def signal_summary(signals: Signals) -> dict[str, Any]:
    """The compact, text-free signal record kept per evaluation."""
    emotion, friction, strain = signals.emotion, signals.friction, signals.strain
    return {
        "sentiment_mean": emotion.mean,
        "sentiment_min": emotion.min,
        "sentiment_latest": emotion.latest,
        "frustration": emotion.frustration,
        "frustration_level": emotion.frustration_level,
        "cues": list(emotion.cue_kinds),
        "waiting_minutes": friction.waiting_minutes,
        "sla_used_ratio": friction.sla_used_ratio,
        "breached": friction.breached,
        "reassignments": friction.reassignments,
        "group_hops": friction.group_hops,
        "reopens": friction.reopens,
        "assignee_backlog": friction.assignee_backlog,
        "assignee_overloaded": friction.assignee_overloaded,
        "group_backlog": friction.group_backlog,
        "agent_load_ratio": strain.load_ratio,
    }


def _http_stats(connector: Connector) -> dict[str, float]:
    """Request counts from a connector built on the shared HTTP policy, when it has one."""
    try:
        client = getattr(connector, "_client", None) or None
        stats = getattr(getattr(client, "sender", None), "stats", None)
    except Exception:  # pragma: no cover - a third-party connector's property failed
        return {}
    return dict(stats) if isinstance(stats, dict) else {}


#: why a ticket read was not written to (counted in the summary)
CLOSED = "closed (the helpdesk takes no more writes; agent prompts only)"
UNCHANGED = "unchanged since the firewall last handled them"


def _canonical(ticket: Ticket) -> tuple[datetime, str]:
    """The order a page is evaluated in: oldest ticket first, then by key."""
    return ticket.created_at, ticket.key


def _part_entries(
    ticket_key: str, parts: Sequence[str], kinds: Mapping[str, str], key: str, outcome: str
) -> list[LedgerEntry]:
    """Ledger rows for the parts (tags, note sections) of an action that was done."""
    return [LedgerEntry(ticket_key, part, kinds.get(key, "?"), outcome) for part in parts]


class SyncJob:
    """One ``sync`` run (see the module docstring). :meth:`run` returns its summary."""

    #: take each ticket's lease before writing it (webhook workers hold it already)
    leases_tickets: bool = True

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
        self._vendor_counts: dict[str, int | None] = {}
        self._listed_agents: tuple[Agent, ...] | None = None
        # what a page's evaluation hands to its apply-and-record step (set per page)
        self._assignees: dict[str, Agent | None] = {}
        self._snapshots: dict[str, Snapshot] = {}
        self._timeline: TimelineBuffer | None = None
        self._complete = False
        # Tickets evaluated in this run. One read back later in the same run (after the
        # firewall's own write) is evaluated again, with what the later pages taught, as
        # after a crash; an unchanged ticket is skipped only in a later run.
        self._this_run: set[str] = set()
        self._track = False
        self._decides = decision_digest(engine.rules, self.settings)
        self.lock_name = f"sync:{connector.name}:{self.account}"

    def run(self) -> SyncSummary:
        """Take the lock, process pages until the helpdesk has no more, report."""
        self._this_run, self._track = set(), True
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
            try:
                self.store.finish_run(summary.run_id, summary.status, summary.as_dict())
            finally:
                lease.release()
        log.info("%s", summary.logfmt())

    def _pages(self, now: datetime, summary: SyncSummary, lease: Lease | None) -> None:
        options = self.options
        name, account = self.connector.name, self.account
        stored = self.store.bookmark(name, account)
        verify = bool(stored and stored.pending)
        summary.resumed_after_crash = verify
        if options.since is not None:
            bookmark: Bookmark | None = since_bookmark(self.connector, options.since)
        elif stored is not None and stored.value:
            bookmark = Bookmark(stored.value)
        else:
            bookmark = None
        for page in self.connector.poll(bookmark):
            summary.pages += 1
            tickets = [
                t
                for t in page.tickets
                if options.since is None or t.last_activity_at >= options.since
            ]
            summary.removed_tickets += len(page.removed)
            summary.notes.extend(page.notes)
            history = PageHistory(self.store, tickets, now)
            plans, signals = self._evaluate(tickets, history, now, summary)
            applied = 0
            if not options.dry_run:
                applied = self._apply_and_record(
                    page.bookmark, plans, signals, history, verify, summary
                )
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

    def _evaluate(
        self, tickets: Sequence[Ticket], history: PageHistory, now: datetime, summary: SyncSummary
    ) -> tuple[list[Plan], list[tuple[str, datetime, dict[str, Any]]]]:
        with self.store.engine.connect() as conn:
            stored = load_snapshots(
                conn, self.connector.name, self.account, (t.source.external_id for t in tickets)
            )
            backlog = self._backlog(conn, stored, tickets)
        if self._listed_agents is None:
            self._listed_agents = self.connector.list_agents()
        context = EvaluationContext(
            now=now,
            settings=self.settings,
            history=history,
            texts=self.texts,
            backlog=backlog,
            agents=roster_of(self._listed_agents, tickets, backlog),
        )
        hard_at = self.settings.agent_care.hard_interaction_at
        done = self.store.applied_keys(t.key for t in tickets)
        plans: list[Plan] = []
        signal_rows: list[tuple[str, datetime, dict[str, Any]]] = []
        # agents' own choices in the store override what the helpdesk says (opt-out wins)
        assigned = (t.assignee.id for t in tickets if t.assignee is not None)
        choices = stored_choices(self.store, self.connector.name, self.account, assigned)
        self._assignees = {}
        # Order independence: the page is read in a canonical order, and everything it
        # teaches (customer memory, agent work) is recorded before any ticket of it is
        # evaluated, so no ticket's plan depends on where in the page it arrived.
        views: list[tuple[Ticket, Ticket]] = []
        self._snapshots = {}
        timeline = self._timeline = TimelineBuffer(
            self.store, tickets, own_removed_tags=own_removed_tags(self.engine.rules.rules)
        )
        derive = not self.connector.capabilities.history
        derived: dict[str, tuple[TicketEvent, ...]] = {}
        digests: dict[str, str] = {}
        for ticket in sorted(tickets, key=_canonical):
            ticket = apply_stored_opt_ins(ticket, choices)
            before = stored.get(ticket.source.external_id)
            events = before.events if before is not None else ()
            if derive:  # the connector has no history API: derive it from snapshots
                if before is not None:
                    events += derive_events(
                        before.status, before.priority, before.assignee, before.group, ticket
                    )
                ticket = with_events(ticket, events)
            derived[ticket.key] = events
            self._assignees[ticket.key] = ticket.assignee
            view = evaluation_view(ticket)
            seen = observation_of(view, context, hard_at)
            if seen.past_ticket is not None:
                history.record_ticket(seen.customer_key, seen.past_ticket)
            if seen.agent_key is not None:
                history.record_interactions(seen.agent_key, seen.interactions)
            digest = digests[ticket.key] = fingerprint(view, self._decides)
            self._snapshots[ticket.key] = snapshot_of(ticket, events, fingerprint=digest)
            again = ticket.key in self._this_run  # read back in the run that wrote it
            if before is not None and before.fingerprint == digest and not again:
                summary.not_written[UNCHANGED] += 1
            else:
                views.append((ticket, view))
                if self._track:
                    self._this_run.add(ticket.key)
        lands = self.connector.capabilities.writes
        for ticket, view in views:
            history.begin_ticket(ticket.key)
            signals = enrich(view, context)
            plan = self.engine.evaluate_signals(signals, context)
            for match in plan.matches:
                history.record_firing(
                    match.scope or plan.ticket.key,
                    Firing(rule_id=match.rule_id, at=plan.evaluated_at, episode=match.episode),
                )
            signal_rows.append((ticket.key, now, signal_summary(signals)))
            visible = self.connector.applied_keys(ticket)
            timeline.add(
                ticket,
                signals,
                plan,
                self.texts,
                self.settings.friction,
                done_keys=done.get(ticket.key, set()),
                visible_keys=visible,
            )
            known = done.get(ticket.key, set()) | visible
            fresh = tuple(
                f for a in plan.actions if (f := fresh_action(a, known, ticket.key)) is not None
            )
            summary.actions_deduplicated += len(plan.actions) - len(fresh)
            if ticket.status is TicketStatus.CLOSED:
                # the helpdesk refuses updates to closed tickets: only agent-private prompts
                summary.not_written[CLOSED] += 1
                fresh = tuple(a for a in fresh if a.action.kind == "agent_prompt")
            # what the helpdesk will hold once the writes land: reading that back is nothing new
            expected = after_plan(view, fresh) if lands else view
            digest = (
                digests[ticket.key] if expected is view else fingerprint(expected, self._decides)
            )
            self._snapshots[ticket.key] = snapshot_of(ticket, derived[ticket.key], digest)
            if fresh:
                summary.tickets_with_actions += 1
                summary.actions_planned.update(a.action.kind for a in fresh)
                plans.append(plan.model_copy(update={"actions": fresh}))
        return plans, signal_rows

    def _backlog(
        self, conn: Connection, stored: Mapping[str, Snapshot], tickets: Sequence[Ticket]
    ) -> Backlog:
        """Open tickets per assignee and group, with this page counted as it reads now."""
        name, account = self.connector.name, self.account
        asked: dict[str, int] = {}
        if not self._counted(conn):  # until a sync has read everything once: ask the helpdesk
            cache = self._vendor_counts
            for agent in sorted({t.assignee.id for t in tickets if t.assignee is not None}):
                if agent not in cache:
                    cache[agent] = self.connector.count_open(agent)
                found = cache[agent]
                if found is not None:
                    asked[agent] = found
            return Backlog(asked, {}, complete=False)
        agents = count_open(conn, name, account, by="assignee")
        groups = count_open(conn, name, account, by="group")
        known = [
            (s.assignee, s.group, s.status in OPEN_STATUSES)
            for t in tickets
            if (s := stored.get(t.source.external_id)) is not None
        ]
        return page_backlog(agents, groups, known, tickets)

    def _counted(self, conn: Connection) -> bool:
        """Whether the snapshots cover the helpdesk: a sync run of this account read to the
        end of the export.

        Before that (the first run, runs killed before the end, webhooks before the first
        sync) a count of the snapshots would depend on which pages were read so far.
        """
        if not self._complete:
            r = runs_table
            found = conn.execute(
                select(r.c.run_id)
                .where(
                    r.c.lock_name == self.lock_name,
                    r.c.status == "finished",
                    # read to the end of the export, not stopped early (signal, --max-tickets)
                    r.c.summary.like('%"stopped_because": null%'),
                )
                .limit(1)
            ).first()
            self._complete = found is not None
        return self._complete

    def _apply_and_record(
        self,
        bookmark: Bookmark | None,
        plans: Sequence[Plan],
        signal_rows: Iterable[tuple[str, datetime, dict[str, Any]]],
        history: PageHistory,
        verify: bool,
        summary: SyncSummary,
    ) -> int:
        name, account = self.connector.name, self.account
        # agent prompts never reach the helpdesk: they are queued for a private digest
        plans, held = hold_prompts(
            plans,
            connector=name,
            account=account,
            assignees=self._assignees,
            rules=self.engine.rules,
        )
        results: tuple[ApplyResult, ...] = ()
        ticket_leases: list[Lease] = []
        if plans and self.leases_tickets:
            plans, ticket_leases, busy = take_ticket_leases(self.store, name, account, plans)
            for plan in busy:  # a webhook worker is writing it: it re-reads and decides
                summary.skipped.append(
                    SkippedTicket(plan.ticket.external_id, "ticket busy: a webhook worker holds it")
                )
        snaps = self._snapshots
        try:
            if plans:
                if bookmark is not None:
                    self.store.mark_pending(name, account)
                results = self.connector.apply(plans, verify=verify)
        finally:
            for ticket_lease in ticket_leases:
                ticket_lease.release()
        kinds = {a.key: a.action.kind for p in plans for a in p.actions}
        parts = {a.key: done_keys(a)[1:] for p in plans for a in p.actions}
        entries: list[LedgerEntry] = []
        incomplete: set[str] = set()
        applied = 0
        for result in results:
            ticket_key = result.ticket.key
            for key in result.applied:
                entries.append(LedgerEntry(ticket_key, key, kinds.get(key, "?"), "applied"))
                entries += _part_entries(ticket_key, parts.get(key, ()), kinds, key, "applied")
                summary.actions_applied[kinds.get(key, "?")] += 1
                applied += 1
            for key in result.already:
                entries.append(LedgerEntry(ticket_key, key, kinds.get(key, "?"), "already"))
                entries += _part_entries(ticket_key, parts.get(key, ()), kinds, key, "already")
                summary.actions_already_done += 1
            for outcome in result.skipped:
                incomplete.add(ticket_key)
                summary.skipped.append(
                    SkippedTicket(result.ticket.external_id, outcome.reason, outcome.key)
                )
        entries += [LedgerEntry(q.ticket_key, q.prompt_key, "agent_prompt", "queued") for q in held]
        kept = [
            snap if key not in incomplete else replace(snap, fingerprint=None)
            for key, snap in snaps.items()
        ]
        with self.store.engine.begin() as conn:
            queue_prompts(conn, held)
            write_snapshots(conn, name, account, kept)
            self.store.record_ledger(entries, run_id=summary.run_id, conn=conn)
            history.flush(conn, drop_firings_of=incomplete)
            self.store.record_signals(signal_rows, run_id=summary.run_id, conn=conn)
            timeline = self._timeline
            if timeline is not None:  # actions count once the ledger holds them
                timeline.flush(conn, (e.action_key for e in entries))
            if bookmark is not None:
                self.store.save_bookmark(name, account, bookmark.value, pending=False, conn=conn)
        return applied
