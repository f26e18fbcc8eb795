"""What a sync run did, for the admin: counts, skipped tickets with reasons, API usage.

Exit codes of ``empathy-firewall sync`` (also in docs/sync.md):

==  ===========================================================================
0   the run finished (skipped tickets, if any, are listed in the summary)
1   unexpected failure (a bug): the next run resumes from the last applied page
2   configuration, credentials, permissions or rule packs are wrong: fix them
3   bad input data (an unreadable ticket file or bookmark)
4   the helpdesk stayed unavailable or rate-limited past the retry budget: the
    run stopped after its last applied page and the next run resumes there
6   another run holds the lock: this one exited at once without changing anything
==  ===========================================================================
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["EXIT_CODES", "SkippedTicket", "SyncSummary"]

#: exit code -> meaning, as documented above
EXIT_CODES: dict[int, str] = {
    0: "finished",
    1: "unexpected failure",
    2: "configuration, credentials or rule packs need fixing",
    3: "bad input data",
    4: "helpdesk unavailable or rate-limited; resumes next run",
    6: "another run holds the lock",
}


@dataclass(frozen=True, slots=True)
class SkippedTicket:
    """A ticket (or one action on it) left undone, and why. Never holds ticket text."""

    ticket: str
    reason: str
    action_key: str | None = None


@dataclass
class SyncSummary:
    """Counts over one run (see :meth:`lines` and :meth:`as_dict`)."""

    run_id: str
    started_at: datetime
    dry_run: bool = False
    finished_at: datetime | None = None
    status: str = "running"
    resumed_after_crash: bool = False
    pages: int = 0
    tickets_seen: int = 0
    tickets_with_actions: int = 0
    actions_applied: Counter[str] = field(default_factory=Counter)
    actions_planned: Counter[str] = field(default_factory=Counter)
    actions_already_done: int = 0
    actions_deduplicated: int = 0
    removed_tickets: int = 0
    tickets_observed: int = 0
    """Tickets read in the observation pass of a run whose export has more than one page
    (before evaluating any page)."""
    not_written: Counter[str] = field(default_factory=Counter)
    """Tickets read but not written to, by reason: closed (only agent-private prompts are
    planned), unchanged since the firewall last handled them (not planned again)."""
    skipped: list[SkippedTicket] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    api_calls: int = 0
    retries: int = 0
    rate_limit_wait_seconds: float = 0.0
    stopped_because: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form (stored with the run, printed by ``--json``)."""
        return {
            "run_id": self.run_id,
            "status": self.status,
            "dry_run": self.dry_run,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "resumed_after_crash": self.resumed_after_crash,
            "pages": self.pages,
            "tickets_seen": self.tickets_seen,
            "tickets_with_actions": self.tickets_with_actions,
            "actions_applied": dict(sorted(self.actions_applied.items())),
            "actions_planned": dict(sorted(self.actions_planned.items())),
            "actions_already_done": self.actions_already_done,
            "actions_deduplicated": self.actions_deduplicated,
            "removed_tickets": self.removed_tickets,
            "tickets_observed": self.tickets_observed,
            "not_written": dict(sorted(self.not_written.items())),
            "skipped": [
                {"ticket": s.ticket, "action_key": s.action_key, "reason": s.reason}
                for s in self.skipped
            ],
            "notes": list(self.notes),
            "api_calls": self.api_calls,
            "retries": self.retries,
            "rate_limit_wait_seconds": round(self.rate_limit_wait_seconds, 3),
            "stopped_because": self.stopped_because,
        }

    def lines(self) -> list[str]:
        """The human summary, line by line."""
        seconds = (self.finished_at - self.started_at).total_seconds() if self.finished_at else 0.0
        head = "dry run (nothing sent)" if self.dry_run else f"sync {self.status}"
        out = [
            f"{head} in {seconds:.1f}s: {self.tickets_seen} tickets seen in {self.pages} pages, "
            f"{self.tickets_with_actions} with new actions"
        ]
        actions = self.actions_planned if self.dry_run else self.actions_applied
        label = "actions planned" if self.dry_run else "actions applied"
        if actions:
            out.append(f"{label}: " + ", ".join(f"{k} {n}" for k, n in sorted(actions.items())))
        else:
            out.append(f"{label}: none")
        if self.actions_already_done or self.actions_deduplicated:
            out.append(
                f"already done (not sent again): {self.actions_deduplicated} known from the "
                f"ledger or note markers, {self.actions_already_done} found on the helpdesk"
            )
        if self.tickets_observed:
            out.append(
                f"export of several pages: {self.tickets_observed} tickets read once more "
                "before evaluating (observe everything, then evaluate)"
            )
        if self.resumed_after_crash:
            out.append("the previous run stopped mid-page; this run verified before writing")
        if self.not_written:
            out.append(
                "tickets not written to: "
                + ", ".join(f"{n} {why}" for why, n in sorted(self.not_written.items()))
            )
        if self.removed_tickets:
            out.append(f"deleted tickets reported by the helpdesk: {self.removed_tickets}")
        out.append(
            f"API calls: {self.api_calls} ({self.retries} retried), "
            f"rate-limit waits: {self.rate_limit_wait_seconds:.1f}s"
        )
        if self.skipped:
            out.append(f"skipped: {len(self.skipped)}")
            for item in self.skipped[:50]:
                what = f" action {item.action_key}" if item.action_key else ""
                out.append(f"  ticket {item.ticket}{what}: {item.reason}")
            if len(self.skipped) > 50:
                out.append(f"  ... and {len(self.skipped) - 50} more (see --json)")
        for note in self.notes[:20]:
            out.append(f"note: {note}")
        if self.stopped_because:
            out.append(f"stopped early: {self.stopped_because}; the next run continues")
        return out

    def logfmt(self) -> str:
        """One ``key=value`` line for logs and cron mail."""
        applied = sum(self.actions_applied.values())
        planned = sum(self.actions_planned.values())
        parts = [
            "sync",
            f"status={self.status}",
            f"run={self.run_id}",
            f"dry_run={str(self.dry_run).lower()}",
            f"pages={self.pages}",
            f"tickets={self.tickets_seen}",
            f"with_actions={self.tickets_with_actions}",
            f"planned={planned}",
            f"applied={applied}",
            *(f"applied_{k}={n}" for k, n in sorted(self.actions_applied.items())),
            f"deduplicated={self.actions_deduplicated}",
            f"already={self.actions_already_done}",
            f"skipped={len(self.skipped)}",
            f"not_written={sum(self.not_written.values())}",
            f"api_calls={self.api_calls}",
            f"rate_limit_wait_s={self.rate_limit_wait_seconds:.1f}",
        ]
        if self.stopped_because:
            parts.append(f"stopped={self.stopped_because.replace(' ', '_')}")
        return " ".join(parts)
