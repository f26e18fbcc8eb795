"""A run killed after marking its first page pending leaves a bookmark but no snapshots:
the re-run must still ask the helpdesk for the backlog, as the clean run did (found by
test_crash once a connector answers ``count_open``)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sync_support import ENGINE

from empathy_firewall.state import StateStore
from empathy_firewall.sync import SyncJob, SyncOptions
from empathy_firewall.sync.job import account_of
from empathy_firewall_zendesk import ZendeskConnector
from empathy_firewall_zendesk.testing import FakeZendesk


def _backlogs(pending_first: bool, tmp_path: Path) -> set[object]:
    fake = FakeZendesk()
    agent = fake.add_user(name="Sam", role="agent")
    tickets = [fake.add_ticket(assignee_id=agent, age_seconds=3600) for _ in range(3)]
    fake.open_counts[agent] = 40  # the account holds more than this sync window shows
    fake.clock.advance(120)
    connector = fake.connect(ZendeskConnector, initial_lookback_minutes=600)
    store = StateStore(f"sqlite:///{tmp_path / f'{pending_first}.db'}")
    if pending_first:
        store.mark_pending(connector.name, account_of(connector))  # the killed run's trace
    now = fake.clock.wall() + timedelta(seconds=1)
    SyncJob(store, connector, ENGINE, options=SyncOptions(now=now)).run()
    account = connector.config.account
    return {
        store.signal_history(f"zendesk:{account}:{tid}")[-1][1]["assignee_backlog"]
        for tid in tickets
    }


def test_a_re_run_after_a_kill_counts_the_backlog_as_a_clean_run(tmp_path: Path) -> None:
    assert _backlogs(False, tmp_path) == {40}
    assert _backlogs(True, tmp_path) == {40}
