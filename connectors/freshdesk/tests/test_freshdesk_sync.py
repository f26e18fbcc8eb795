"""The real sync job (engine, state store, ledger) with the Freshdesk connector on the fake."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from freshdesk_fixtures import connect
from freshdesk_sample import seeded_fake

from empathy_firewall.connectors import markers_in
from empathy_firewall.engine.evaluate import Engine
from empathy_firewall.engine.loader import load_rule_packs
from empathy_firewall.state import StateStore
from empathy_firewall.sync import SyncJob, SyncOptions
from empathy_firewall_freshdesk.testing import FakeFreshdesk

ENGINE = Engine(load_rule_packs(None))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    opened = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    yield opened
    opened.close()


def run(store: StateStore, fake: FakeFreshdesk, now: object) -> object:
    connector = connect(fake, initial_lookback_minutes=60 * 24 * 365, per_page=25)
    return SyncJob(store, connector, ENGINE, options=SyncOptions(now=now)).run()  # type: ignore[arg-type]


def duplicates(fake: FakeFreshdesk) -> list[tuple[int, str]]:
    out = []
    for tid in fake.state.tickets:
        counts: dict[str, int] = {}
        for conversation in fake.conversations(tid):
            for key in markers_in(conversation["body_text"]):
                counts[key] = counts.get(key, 0) + 1
        out.extend((tid, k) for k, n in counts.items() if n > 1)
    return out


def test_two_cron_runs_write_once_and_keep_every_tag(store: StateStore) -> None:
    fake, now = seeded_fake(60)
    for record in fake.state.tickets.values():  # closed tickets are not written to (issue 10)
        if record["status"] == 5:
            record["status"] = 4
    before = {tid: set(t["tags"]) for tid, t in fake.state.tickets.items()}
    summary = run(store, fake, now)
    assert summary.status == "finished"  # type: ignore[attr-defined]
    assert summary.tickets_seen == 60  # type: ignore[attr-defined]
    assert sum(summary.actions_applied.values()) > 10  # type: ignore[attr-defined]
    written = fake.snapshot()
    assert any(t["conversations"] != [] for t in written.values())
    for tid, tags in before.items():
        assert tags <= set(fake.tags(tid))  # nobody's tag was lost
    assert fake.over_budget == 0

    fake.clock.advance(120)  # our own notes made the tickets change again
    again = run(store, fake, now)
    assert again.tickets_seen > 0  # type: ignore[attr-defined]
    assert sum(again.actions_applied.values()) == 0  # type: ignore[attr-defined]
    assert fake.snapshot() == written
    assert duplicates(fake) == []
