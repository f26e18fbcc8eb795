"""Issue 11 item 4: the vendor's budget and any Retry-After are shared through the state
store by every process talking to one account."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from empathy_firewall.errors import RateLimitedError
from empathy_firewall.state import StateStore
from empathy_firewall.state.rates import StoreRateLimits, share_rate_limits
from empathy_firewall_zendesk.testing import FakeZendesk


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    opened = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    yield opened
    opened.close()


def test_a_retry_after_seen_by_one_process_holds_back_the_others(store: StateStore) -> None:
    from empathy_firewall_zendesk import ZendeskConnector

    fake = FakeZendesk()
    # two processes (two workers): each its own connector, sender and local gate
    first = fake.connect(ZendeskConnector, max_total_wait_seconds=5)
    second = fake.connect(ZendeskConnector)
    assert share_rate_limits(first, store, "acme")
    assert share_rate_limits(second, store, "acme")
    fake.fail_next(429, retry_after=30, path="/users/me")
    with pytest.raises(RateLimitedError):
        first.check()  # gives up at once: 30 s is over its own wait bound
    second.check()  # must wait out the other process's Retry-After
    assert fake.violations == []
    assert fake.count("/users/me") == 2


def test_two_processes_share_one_budget(store: StateStore) -> None:
    now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    one, two = StoreRateLimits(store, "freshdesk:acme"), StoreRateLimits(store, "freshdesk:acme")
    budget = [("/api/v2/", 3, 60.0)]
    assert one.wait(now, budget) == 0.0
    assert two.wait(now, budget) == 0.0
    assert one.wait(now + timedelta(seconds=1), budget) == 0.0
    assert two.wait(now + timedelta(seconds=2), budget) == pytest.approx(58.0)
    other = StoreRateLimits(store, "freshdesk:another")
    assert other.wait(now, budget) == 0.0  # another account has its own budget
    assert one.wait(now + timedelta(seconds=60), budget) == 0.0  # a new window


def test_migration_3_creates_the_rate_gates_table(store: StateStore) -> None:
    from sqlalchemy import inspect

    assert "ef_rate_gates" in inspect(store.engine).get_table_names()
