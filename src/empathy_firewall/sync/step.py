"""The ticket step that sync pages and webhook workers share.

:class:`TicketStep` takes the tickets of one page (a sync page, or the tickets a webhook
batch names) through:

1. read the page's history in a few queries (:class:`~empathy_firewall.state.PageHistory`),
   the ledger keys of its tickets and their stored snapshots
   (:mod:`~empathy_firewall.state.snapshots`); count the backlog per assignee and group;
2. in a canonical order (oldest ticket first): add the history derived from the snapshots
   when the connector has no history API (:mod:`~empathy_firewall.signals.derived`), and
   record what every ticket teaches (customer memory, agent work) before any is evaluated,
   so no plan depends on where in the page a ticket arrived;
3. evaluate each ticket (:func:`~empathy_firewall.sync.decide.decide`) as the helpdesk
   showed it *before* the firewall wrote to it (comments carrying our note markers are left
   out, so re-reading our own note never changes the plan's keys), unless it is unchanged
   since an earlier run handled it (its fingerprint; a ticket read back in the run that
   wrote it is evaluated again, as a re-run after a crash would); closed tickets get no
   helpdesk write (agent prompts only);
4. drop planned actions, tags and note sections whose keys are in the ledger or already
   visible on the ticket (:meth:`~empathy_firewall.connectors.Connector.applied_keys`,
   :mod:`~empathy_firewall.sync.dedupe`);
5. mark the bookmark ``pending`` (durably) when there is one, apply, and then record the
   page with :meth:`~empathy_firewall.state.StateStore.record_page`: ledger, history,
   signal summaries, snapshots, timeline, queued prompts and bookmark in ONE transaction.

:meth:`TicketStep.observe` is step 2 alone, recorded: the observation pass of a run of
several pages (see :mod:`~empathy_firewall.sync.job`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from empathy_firewall.actions import Plan
from empathy_firewall.channels.outbox import queue_prompts
from empathy_firewall.channels.queue import hold_prompts
from empathy_firewall.connectors.base import ApplyResult, Connector, markers_in
from empathy_firewall.context import EvaluationContext
from empathy_firewall.engine.evaluate import Engine
from empathy_firewall.insights.record import TimelineBuffer, own_removed_tags
from empathy_firewall.models import Agent, Ticket, TicketEvent, TicketStatus
from empathy_firewall.optins import apply_stored_opt_ins
from empathy_firewall.settings import FirewallSettings
from empathy_firewall.signals.backlog import Backlog, page_backlog
from empathy_firewall.signals.derived import derive_events, with_events
from empathy_firewall.signals.enrich import Signals, observation_of
from empathy_firewall.signals.roster import roster_of
from empathy_firewall.signals.text import CommentCache
from empathy_firewall.state.agents import stored_choices
from empathy_firewall.state.buffer import PageHistory
from empathy_firewall.state.lock import Lease, take_ticket_leases
from empathy_firewall.state.snapshots import (
    OPEN_STATUSES,
    Snapshot,
    count_open,
    load_snapshots,
    snapshot_of,
)
from empathy_firewall.state.store import LedgerEntry, PageRecord, StateStore
from empathy_firewall.sync.decide import decide, fresh_actions, learn
from empathy_firewall.sync.dedupe import after_plan, decision_digest, done_keys, fingerprint
from empathy_firewall.sync.summary import SkippedTicket, SyncSummary

__all__ = [
    "CLOSED",
    "UNCHANGED",
    "PageWork",
    "TicketStep",
    "evaluation_view",
    "signal_summary",
    "sync_lock_name",
]

#: why a ticket read was not written to (counted in the summary)
CLOSED = "closed (the helpdesk takes no more writes; agent prompts only)"
UNCHANGED = "unchanged since the firewall last handled them"

SignalRow = tuple[str, datetime, dict[str, Any]]


def sync_lock_name(connector: str, account: str) -> str:
    """The run lock (and run record) name of a helpdesk account's sync."""
    return f"sync:{connector}:{account}"


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


def _canonical(ticket: Ticket) -> tuple[datetime, str]:
    """The order a page is evaluated in: oldest ticket first, then by key."""
    return ticket.created_at, ticket.key


def _part_entries(
    ticket_key: str, parts: Sequence[str], kinds: Mapping[str, str], key: str, outcome: str
) -> list[LedgerEntry]:
    """Ledger rows for the parts (tags, note sections) of an action that was done."""
    return [LedgerEntry(ticket_key, part, kinds.get(key, "?"), outcome) for part in parts]


@dataclass
class PageWork:
    """What a page's evaluation hands to its apply-and-record step."""

    history: PageHistory
    plans: list[Plan]
    signal_rows: list[SignalRow]
    assignees: dict[str, Agent | None]
    snapshots: dict[str, Snapshot]
    timeline: TimelineBuffer


@dataclass
class _Observed:
    """A page read in the canonical order, with what it taught recorded in its history."""

    tickets: list[Ticket]
    views: list[Ticket]
    events: dict[str, tuple[TicketEvent, ...]]
    before: dict[str, Snapshot]


class TicketStep:
    """Enrich, evaluate, drop what is done, apply, record (see the module docstring).

    One instance serves one connector account for a run (sync) or a worker's life
    (webhooks): it caches the agent directory and the helpdesk's open counts.
    ``leases_tickets`` takes each ticket's lease before writing it (webhook workers hold
    it already and pass False).
    """

    def __init__(
        self,
        store: StateStore,
        connector: Connector,
        engine: Engine,
        settings: FirewallSettings,
        texts: CommentCache,
        *,
        account: str,
        leases_tickets: bool = True,
    ) -> None:
        self.store = store
        self.connector = connector
        self.engine = engine
        self.settings = settings
        self.texts = texts
        self.account = account
        self.leases_tickets = leases_tickets
        self.lock_name = sync_lock_name(connector.name, account)
        self._decides = decision_digest(engine.rules, settings)
        self._vendor_counts: dict[str, int | None] = {}
        self._listed_agents: tuple[Agent, ...] | None = None
        self._complete = False
        # the latest ticket of each assignee an observation pass read (a run of several
        # pages): the roster then knows every agent of the export, not only the page's
        self._roster_tickets: dict[str, Ticket] = {}
        # Tickets evaluated in this run (``None``: not tracked). One read back later in the
        # same run (after the firewall's own write) is evaluated again, with what the later
        # pages taught, as after a crash; an unchanged ticket is skipped only in a later run.
        self._this_run: set[str] | None = None

    def begin_run(self) -> None:
        """A sync run starts: track the tickets it evaluates, forget the last run's roster."""
        self._this_run = set()
        self._roster_tickets = {}

    # -- coverage and backlog ------------------------------------------------------------

    def covers_helpdesk(self) -> bool:
        """Whether the snapshots cover the helpdesk: a sync run of this account read to the
        end of the export.

        Before that (the first run, runs killed before the end, webhooks before the first
        sync) a count of the snapshots would depend on which pages were read so far.
        """
        if not self._complete:
            self._complete = self.store.read_to_end(self.lock_name)
        return self._complete

    def _backlog(self, stored: Mapping[str, Snapshot], tickets: Sequence[Ticket]) -> Backlog:
        """Open tickets per assignee and group, with this page counted as it reads now."""
        if not self.covers_helpdesk():  # until a sync has read everything: ask the helpdesk
            asked: dict[str, int] = {}
            cache = self._vendor_counts
            for agent in sorted({t.assignee.id for t in tickets if t.assignee is not None}):
                if agent not in cache:
                    cache[agent] = self.connector.count_open(agent)
                found = cache[agent]
                if found is not None:
                    asked[agent] = found
            return Backlog(asked, {}, complete=False)
        name, account = self.connector.name, self.account
        with self.store.engine.connect() as conn:
            agents = count_open(conn, name, account, by="assignee")
            groups = count_open(conn, name, account, by="group")
        known = [
            (s.assignee, s.group, s.status in OPEN_STATUSES)
            for t in tickets
            if (s := stored.get(t.source.external_id)) is not None
        ]
        return page_backlog(agents, groups, known, tickets)

    # -- observe -------------------------------------------------------------------------

    def _page_history(self, tickets: Sequence[Ticket], now: datetime) -> PageHistory:
        """The history of a page, reading this account's snapshots for assignees."""
        return PageHistory(self.store, tickets, now, snapshots=(self.connector.name, self.account))

    def _stored(self, tickets: Sequence[Ticket]) -> dict[str, Snapshot]:
        ids = (t.source.external_id for t in tickets)
        with self.store.engine.connect() as conn:
            return dict(load_snapshots(conn, self.connector.name, self.account, ids))

    def _observe(
        self,
        tickets: Sequence[Ticket],
        history: PageHistory,
        context: EvaluationContext,
        stored: Mapping[str, Snapshot],
    ) -> _Observed:
        """Step 2: the page in canonical order, its derived history, what it teaches."""
        assigned = (t.assignee.id for t in tickets if t.assignee is not None)
        # agents' own choices in the store override what the helpdesk says (opt-out wins)
        choices = stored_choices(self.store, self.connector.name, self.account, assigned)
        derive = not self.connector.capabilities.history
        hard_at = self.settings.agent_care.hard_interaction_at
        out = _Observed([], [], {}, {})
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
            view = evaluation_view(ticket)
            learn(history, observation_of(view, context, hard_at))
            out.tickets.append(ticket)
            out.views.append(view)
            out.events[ticket.key] = events
            if before is not None:
                out.before[ticket.key] = before
        return out

    def observe(self, tickets: Sequence[Ticket], now: datetime, *, run_id: str | None) -> None:
        """Record what a page teaches (snapshots, customer memory, agent work, the roster)
        without evaluating it or writing to the helpdesk: the observation pass of a run of
        several pages."""
        history = self._page_history(tickets, now)
        context = EvaluationContext(
            now=now, settings=self.settings, history=history, texts=self.texts
        )
        seen = self._observe(tickets, history, context, self._stored(tickets))
        snapshots = []
        for ticket in seen.tickets:
            before = seen.before.get(ticket.key)
            # a fingerprint an earlier run stored stays: an unchanged ticket is still skipped
            digest = before.fingerprint if before is not None else None
            snapshots.append(snapshot_of(ticket, seen.events[ticket.key], fingerprint=digest))
            agent = ticket.assignee
            if agent is not None:
                latest = self._roster_tickets.get(agent.id)
                if latest is None or (latest.updated_at, latest.key) <= (
                    ticket.updated_at,
                    ticket.key,
                ):
                    self._roster_tickets[agent.id] = ticket
        self.store.record_page(
            PageRecord(
                self.connector.name,
                self.account,
                run_id=run_id,
                snapshots=snapshots,
                writers=(history.flush,),
            )
        )

    # -- evaluate ------------------------------------------------------------------------

    def evaluate(self, tickets: Sequence[Ticket], now: datetime, summary: SyncSummary) -> PageWork:
        """Steps 1-4: the page's plans (only what is not done yet) and what to record."""
        history = self._page_history(tickets, now)
        stored = self._stored(tickets)
        backlog = self._backlog(stored, tickets)
        if self._listed_agents is None:
            self._listed_agents = self.connector.list_agents()
        known_agents = [*self._roster_tickets.values(), *tickets]
        context = EvaluationContext(
            now=now,
            settings=self.settings,
            history=history,
            texts=self.texts,
            backlog=backlog,
            agents=roster_of(self._listed_agents, known_agents, backlog),
            observed_first=True,  # the page's lessons are recorded before any is evaluated
        )
        done = self.store.applied_keys(t.key for t in tickets)
        timeline = TimelineBuffer(
            self.store, tickets, own_removed_tags=own_removed_tags(self.engine.rules.rules)
        )
        work = PageWork(history, [], [], {}, {}, timeline)
        # Order independence: the page is read in a canonical order, and everything it
        # teaches (customer memory, agent work) is recorded before any ticket of it is
        # evaluated, so no ticket's plan depends on where in the page it arrived.
        seen = self._observe(tickets, history, context, stored)
        digests: dict[str, str] = {}
        todo: list[tuple[Ticket, Ticket]] = []
        for ticket, view in zip(seen.tickets, seen.views, strict=True):
            work.assignees[ticket.key] = ticket.assignee
            before = seen.before.get(ticket.key)
            digest = digests[ticket.key] = fingerprint(view, self._decides)
            work.snapshots[ticket.key] = snapshot_of(
                ticket, seen.events[ticket.key], fingerprint=digest
            )
            this_run = self._this_run
            again = this_run is not None and ticket.key in this_run  # read back: wrote it
            if before is not None and before.fingerprint == digest and not again:
                summary.not_written[UNCHANGED] += 1
                continue
            todo.append((ticket, view))
            if this_run is not None:
                this_run.add(ticket.key)
        lands = self.connector.capabilities.writes
        for ticket, view in todo:
            history.begin_ticket(ticket.key)
            signals, plan = decide(self.engine, view, context, history)
            work.signal_rows.append((ticket.key, now, signal_summary(signals)))
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
            fresh = fresh_actions(plan, done.get(ticket.key, set()) | visible)
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
            work.snapshots[ticket.key] = snapshot_of(ticket, seen.events[ticket.key], digest)
            if fresh:
                summary.tickets_with_actions += 1
                summary.actions_planned.update(a.action.kind for a in fresh)
                work.plans.append(plan.model_copy(update={"actions": fresh}))
        return work

    # -- apply and record ----------------------------------------------------------------

    def apply_and_record(
        self, work: PageWork, bookmark: str | None, *, verify: bool, summary: SyncSummary
    ) -> int:
        """Step 5: apply the page's plans, record everything (and ``bookmark``, when not
        None) in one transaction; returns how many actions were applied."""
        name, account = self.connector.name, self.account
        # agent prompts never reach the helpdesk: they are queued for a private digest
        plans, held = hold_prompts(
            work.plans,
            connector=name,
            account=account,
            assignees=work.assignees,
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
        try:
            if plans:
                if bookmark is not None:
                    self.store.mark_pending(name, account)
                results = self.connector.apply(plans, verify=verify)
        finally:
            for ticket_lease in ticket_leases:
                ticket_lease.release()
        entries, incomplete, applied = _outcomes(plans, results, summary)
        entries += [LedgerEntry(q.ticket_key, q.prompt_key, "agent_prompt", "queued") for q in held]
        kept = [
            snap if key not in incomplete else replace(snap, fingerprint=None)
            for key, snap in work.snapshots.items()
        ]
        history, timeline = work.history, work.timeline
        done = [e.action_key for e in entries]

        def write_history(conn: Connection) -> None:
            history.flush(conn, drop_firings_of=incomplete)

        def write_timeline(conn: Connection) -> None:  # actions count once the ledger holds them
            timeline.flush(conn, done)

        def write_prompts(conn: Connection) -> None:
            queue_prompts(conn, held)

        self.store.record_page(
            PageRecord(
                name,
                account,
                run_id=summary.run_id,
                ledger=entries,
                signals=work.signal_rows,
                snapshots=kept,
                writers=(write_prompts, write_history, write_timeline),
                bookmark=bookmark,
                move_bookmark=bookmark is not None,
            )
        )
        return applied

    def process(
        self,
        tickets: Sequence[Ticket],
        now: datetime,
        summary: SyncSummary,
        *,
        verify: bool = False,
        bookmark: str | None = None,
        dry_run: bool = False,
    ) -> tuple[list[Plan], int]:
        """The whole step for one page: its plans (what was new) and how many were applied."""
        work = self.evaluate(tickets, now, summary)
        if dry_run:
            return work.plans, 0
        return work.plans, self.apply_and_record(work, bookmark, verify=verify, summary=summary)


def _outcomes(
    plans: Iterable[Plan], results: Iterable[ApplyResult], summary: SyncSummary
) -> tuple[list[LedgerEntry], set[str], int]:
    """Ledger entries, tickets left incomplete and the applied count, from apply results."""
    plans = list(plans)
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
    return entries, incomplete, applied
