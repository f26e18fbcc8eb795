"""Issue 10 item 6 and 7: plans depend on the helpdesk's data and ``now`` only.

The sample helpdesk goes in in shuffled order; a second pass over unchanged tickets plans
and writes nothing; a re-run never repeats a note section; closed tickets are not written.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fidelity_support import NOW, file_connector, freshdesk, reconnect, zendesk
from sync_support import ENGINE, duplicate_markers

from empathy_firewall.actions import InternalNote, Plan
from empathy_firewall.connectors.base import Connector, markers_in
from empathy_firewall.engine.evaluate import NOTE_SEPARATOR, WHY_HEADING, Engine
from empathy_firewall.settings import FirewallSettings
from empathy_firewall.state import StateStore
from empathy_firewall.sync import SyncJob, SyncOptions
from empathy_firewall.sync.dedupe import fresh_action
from empathy_firewall.sync.job import UNCHANGED
from empathy_firewall_zendesk.testing import FakeZendesk

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
FILE_NOW = datetime(2026, 11, 20, 14, 54, 59, tzinfo=UTC)


def _run(
    store: StateStore, connector: Connector, now: datetime, **options: Any
) -> tuple[Any, list[Plan]]:
    plans: list[Plan] = []
    job = SyncJob(
        store,
        connector,
        ENGINE,
        options=SyncOptions(now=now, **options),
        on_page=lambda page: plans.extend(page.plans),
    )
    return job.run(), plans


def _keys(plans: list[Plan]) -> dict[str, list[str]]:
    return {p.ticket.key: sorted(a.key for a in p.actions) for p in plans}


def test_a_plan_does_not_depend_on_the_order_of_the_page(tmp_path: Path) -> None:
    got = []
    for seed in (1, 2):
        store = StateStore(f"sqlite:///{tmp_path / f'{seed}.db'}")
        summary, plans = _run(
            store, file_connector(tmp_path, seed, page_size=400), FILE_NOW, dry_run=True
        )
        assert summary.tickets_seen == 320
        got.append(_keys(plans))
        store.close()
    assert got[0]
    assert got[0] == got[1]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_second_pass_over_the_file_plans_nothing(tmp_path: Path, seed: int) -> None:
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    connector = file_connector(tmp_path, seed)
    first, _ = _run(store, connector, FILE_NOW, since=EPOCH)
    assert sum(first.actions_applied.values()) > 300
    again, plans = _run(store, connector, FILE_NOW, since=EPOCH)
    assert again.tickets_seen == 320
    assert plans == []
    assert sum(again.actions_applied.values()) == 0
    assert again.not_written[UNCHANGED] > 0


@pytest.mark.parametrize("vendor", ["zendesk", "freshdesk"])
@pytest.mark.parametrize("seed", [1, 2])
def test_a_second_sync_on_a_helpdesk_writes_nothing(tmp_path: Path, vendor: str, seed: int) -> None:
    fake, connector = (zendesk if vendor == "zendesk" else freshdesk)(seed)
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    first, _ = _run(store, connector, NOW)
    assert first.status == "finished"
    assert sum(first.actions_applied.values()) > 100
    assert first.skipped == []  # closed tickets were not written to
    before = fake.snapshot()
    writes = len([r for r in fake.log if r.method != "GET"])

    fake.clock.advance(120)  # our own writes bring the tickets back into the export
    again, plans = _run(store, reconnect(fake), NOW)  # a new cron run
    assert again.tickets_seen > 0
    assert plans == []
    assert len([r for r in fake.log if r.method != "GET"]) == writes
    assert fake.snapshot() == before


def _sections(body: str) -> list[str]:
    """The rule sections of a note the firewall wrote (markers and footer left out)."""
    head = body.split("\n\n" + WHY_HEADING)[0]
    return [
        "\n".join(line for line in part.splitlines() if not markers_in(line)).strip()
        for part in head.split(NOTE_SEPARATOR)
    ]


def _bodies(fake: Any, tid: int) -> list[str]:
    if isinstance(fake, FakeZendesk):
        return [c["body"] for c in fake.comments(tid)]
    return [c["body_text"] for c in fake.conversations(tid)]


@pytest.mark.parametrize("vendor", ["zendesk", "freshdesk"])
def test_a_rerun_after_a_lost_ledger_never_repeats_a_note_section(
    tmp_path: Path, vendor: str
) -> None:
    fake, connector = (zendesk if vendor == "zendesk" else freshdesk)(1)
    probe = StateStore(f"sqlite:///{tmp_path / 'probe.db'}")
    _, plans = _run(probe, connector, NOW, dry_run=True)
    merged = [a for p in plans for a in p.of_kind("internal_note") if len(a.parts) > 1]
    assert merged, "the sample has notes written by several rules"
    late_rule = merged[0].parts[-1].rule_id
    rules = ENGINE.rules
    without = Engine(replace(rules, rules=tuple(r for r in rules.rules if r.id != late_rule)))

    crashed = StateStore(f"sqlite:///{tmp_path / 'crashed.db'}")
    first = SyncJob(crashed, reconnect(fake), without, options=SyncOptions(now=NOW)).run()
    assert first.actions_applied["internal_note"] > 0
    # the ledger, firings and snapshots of that run are lost (a crash before the record)
    fake.clock.advance(120)
    again = StateStore(f"sqlite:///{tmp_path / 'again.db'}")
    second, _ = _run(again, reconnect(fake), NOW)
    assert second.actions_applied["internal_note"] > 0  # the late rule's sections went out
    notes = {tid: _bodies(fake, tid) for tid in fake.state.tickets}
    assert duplicate_markers(notes) == []  # every section carries its marker: none twice
    if vendor == "zendesk":  # plain-text notes: compare the sections' words too
        for tid, bodies in notes.items():
            sections = [s for body in bodies if markers_in(body) for s in _sections(body)]
            assert len(sections) == len(set(sections)), f"ticket {tid} repeats a section"


def test_known_sections_are_dropped_and_the_note_rebuilt(tmp_path: Path) -> None:
    _, connector = zendesk(1)
    store = StateStore(f"sqlite:///{tmp_path / 'probe.db'}")
    _, plans = _run(store, connector, NOW, dry_run=True)
    plan, note = next((p, a) for p in plans for a in p.of_kind("internal_note") if len(a.parts) > 1)
    first, rest = note.parts[0], note.parts[1:]
    fresh = fresh_action(note, {first.key}, plan.ticket.key)
    assert fresh is not None
    assert isinstance(fresh.action, InternalNote)
    assert fresh.key != note.key
    assert fresh.parts == rest
    assert first.key not in markers_in(fresh.action.body)
    assert {p.key for p in rest} <= markers_in(fresh.action.body)
    assert f"- {first.rule_id} (" not in fresh.action.body or first.rule_id in {
        p.rule_id for p in rest
    }
    assert fresh_action(note, {p.key for p in note.parts}, plan.ticket.key) is None
    assert fresh_action(note, set(), plan.ticket.key) is note


def test_a_changed_rule_or_setting_evaluates_unchanged_tickets_again(tmp_path: Path) -> None:
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    connector = file_connector(tmp_path, 1)
    _run(store, connector, FILE_NOW, since=EPOCH)
    same, _ = _run(store, connector, FILE_NOW, since=EPOCH)
    assert same.not_written[UNCHANGED] == 320
    stricter = FirewallSettings.model_validate({"friction": {"default_capacity": 3}})
    job = SyncJob(store, connector, ENGINE, stricter, SyncOptions(now=FILE_NOW, since=EPOCH))
    changed = job.run()
    assert changed.not_written[UNCHANGED] == 0
    rules = ENGINE.rules
    fewer = Engine(replace(rules, rules=rules.rules[1:]))
    job = SyncJob(store, connector, fewer, options=SyncOptions(now=FILE_NOW, since=EPOCH))
    assert job.run().not_written[UNCHANGED] == 0


def _agent_scoped(plans: list[Plan]) -> set[tuple[str, str, str]]:
    """What rules gated per agent did: (ticket, rule, the action's text) for each."""
    out = set()
    for plan in plans:
        for action in plan.actions:
            for match in action.because:
                if (match.scope or "").startswith("agent:"):
                    body = getattr(action.action, "body", "")
                    out.add((plan.ticket.key, match.rule_id, body))
    return out


def test_agent_scoped_firings_land_on_the_same_ticket_whatever_the_order(
    tmp_path: Path,
) -> None:
    """A rule gated per agent (agent-care-break: once every 2 hours per agent, across
    tickets) acts on the ticket of the agent's latest reply, not on whichever ticket of
    theirs a shuffled export happens to put first."""
    got = []
    for seed, page_size in ((1, 40), (2, 40), (3, 100), (4, 400)):
        folder = tmp_path / str(seed)
        folder.mkdir()
        store = StateStore(f"sqlite:///{folder / 'state.db'}")
        connector = file_connector(folder, seed, page_size=page_size)
        summary, plans = _run(store, connector, FILE_NOW)
        assert summary.tickets_seen == 320
        got.append(_agent_scoped(plans))
        store.close()
    assert any(rule == "agent-care-break" for _, rule, _ in got[0])
    for firings in got[1:]:
        assert firings == got[0]
