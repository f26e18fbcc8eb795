"""Connector parity: run the same tickets through any connector and count what fires.

:func:`firing_counts` runs one full ``sync`` of a connector into a fresh state store and
returns how often each rule fired (per ticket plan) plus the service-recovery notes, so a
test or a script can compare a helpdesk connector against the ``file`` source on the
bundled sample. ``store_choices`` lets a run start with agents' stored opt-ins, as
``empathy-firewall agents opt-in`` would leave them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from empathy_firewall.actions import InternalNote
from empathy_firewall.channels.outbox import agents_with_work, latest_contact
from empathy_firewall.connectors.base import Connector
from empathy_firewall.engine.evaluate import Engine
from empathy_firewall.settings import FirewallSettings
from empathy_firewall.state import StateStore
from empathy_firewall.sync import SyncJob, SyncOptions
from empathy_firewall.sync.job import PageReport

__all__ = ["FiringTable", "firing_counts", "within"]


@dataclass
class FiringTable:
    """What one sync of a connector planned: rule firings and recovery note texts."""

    rules: Counter[str] = field(default_factory=Counter)
    recovery_notes: list[str] = field(default_factory=list)
    tickets: int = 0
    #: agents with prompts queued for a private digest, and the e-mail the helpdesk gave
    prompt_emails: dict[str, str | None] = field(default_factory=dict)


def firing_counts(
    connector: Connector,
    engine: Engine,
    now: datetime,
    store_path: Path,
    *,
    settings: FirewallSettings | None = None,
    dry_run: bool = False,
    prepare: Callable[[StateStore], None] | None = None,
) -> FiringTable:
    """Sync ``connector`` once into the SQLite store at ``store_path``; count firings.

    ``prepare`` runs on the store first (to store agents' opt-ins, for instance).
    """
    table = FiringTable()

    def on_page(report: PageReport) -> None:
        table.tickets += report.tickets
        for plan in report.plans:
            for match in plan.matches:
                table.rules[match.rule_id] += 1
            for planned in plan.actions:
                action = planned.action
                if isinstance(action, InternalNote) and any(
                    m.rule_id == "service-recovery" for m in planned.because
                ):
                    table.recovery_notes.append(action.body)

    with StateStore(f"sqlite:///{store_path}") as store:
        if prepare is not None:
            prepare(store)
        SyncJob(
            store,
            connector,
            engine,
            settings or FirewallSettings(),
            SyncOptions(now=now, dry_run=dry_run),
            on_page=on_page,
        ).run()
        for agent in agents_with_work(store):
            table.prompt_emails[agent.agent_id] = latest_contact(store, agent)[0]
    return table


def within(
    expected: Mapping[str, int], actual: Mapping[str, int], tolerance: float = 0.05
) -> Sequence[str]:
    """Rules whose counts differ by more than ``tolerance`` (relative to ``expected``;
    at least one firing of slack for small counts), as readable lines.

    The allowed gap of a rule is ``max(tolerance * expected, 1)``: 5% of the reference
    count (the ``file`` source's), and one ticket where 5% is less than one (a rule that
    fires 13 times may differ by one, not by two). A rule missing on one side counts as 0.
    """
    out = []
    for rule in sorted(set(expected) | set(actual)):
        want, got = expected.get(rule, 0), actual.get(rule, 0)
        if abs(want - got) > max(1.0, tolerance * want):
            out.append(f"{rule}: expected {want}, got {got}")
    return out
