"""The state store, on SQLite and PostgreSQL alike (see conftest.store)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect

from empathy_firewall.errors import ConfigError, LockHeldError
from empathy_firewall.signals.history import Firing
from empathy_firewall.signals.memory import PastTicket
from empathy_firewall.signals.strain import Interaction
from empathy_firewall.state import LedgerEntry, StateStore, acquire_lock, inbox, lock_info
from empathy_firewall.state.migrations import MIGRATIONS, migrate
from empathy_firewall.state.schema import locks

NOW = datetime(2026, 9, 20, 12, 0, tzinfo=UTC)


def test_migrations_are_recorded_and_idempotent(store: StateStore) -> None:
    assert store.schema_version() == MIGRATIONS[-1].version
    assert migrate(store.engine) == MIGRATIONS[-1].version  # a second run changes nothing
    assert store.schema_version() == MIGRATIONS[-1].version


def test_times_come_back_aware_and_in_utc(store: StateStore) -> None:
    local = datetime(2026, 9, 20, 14, 0, tzinfo=UTC).astimezone()
    store.record_firing("t1", Firing("rule-a", local, None))
    got = store.last_firing("t1", "rule-a")
    assert got is not None
    assert got.at == local
    assert got.at.tzinfo is not None


def test_bookmarks_per_connector_and_account(store: StateStore) -> None:
    assert store.bookmark("zendesk", "acme") is None
    store.save_bookmark("zendesk", "acme", '{"cursor":"a"}')
    store.save_bookmark("zendesk", "other", '{"cursor":"b"}')
    store.mark_pending("zendesk", "acme")
    acme = store.bookmark("zendesk", "acme")
    assert acme is not None
    assert (acme.value, acme.pending) == ('{"cursor":"a"}', True)
    other = store.bookmark("zendesk", "other")
    assert other is not None
    assert not other.pending
    store.save_bookmark("zendesk", "acme", '{"cursor":"c"}')
    again = store.bookmark("zendesk", "acme")
    assert again is not None
    assert (again.value, again.pending) == ('{"cursor":"c"}', False)
    assert store.reset_bookmark("zendesk", "acme")
    assert store.bookmark("zendesk", "acme") is None


def test_pending_without_a_bookmark_is_remembered(store: StateStore) -> None:
    store.mark_pending("file", "x")
    state = store.bookmark("file", "x")
    assert state is not None
    assert state.value is None
    assert state.pending


def test_ledger_keeps_each_key_once(store: StateStore) -> None:
    entry = LedgerEntry("zendesk:acme:42", "ef1-abc", "internal_note", "applied")
    store.record_ledger([entry, entry])
    store.record_ledger([LedgerEntry("zendesk:acme:42", "ef1-abc", "internal_note", "already")])
    store.record_ledger([LedgerEntry("zendesk:acme:43", "ef1-def", "add_tags", "applied")])
    assert store.ledger_count() == 2
    found = store.applied_keys(["zendesk:acme:42", "zendesk:acme:43", "zendesk:acme:44"])
    assert found == {"zendesk:acme:42": {"ef1-abc"}, "zendesk:acme:43": {"ef1-def"}}


def test_ledger_lookup_handles_more_keys_than_one_query(store: StateStore) -> None:
    entries = [LedgerEntry(f"t:{n}", f"k{n}", "add_tags", "applied") for n in range(1200)]
    store.record_ledger(entries)
    found = store.applied_keys(f"t:{n}" for n in range(1300))
    assert len(found) == 1200
    assert found["t:1199"] == {"k1199"}


def test_customer_memory_keeps_the_latest_tickets(tmp_path: object, store: StateStore) -> None:
    small = StateStore(store.url, engine=store.engine, max_tickets=3)
    for n in range(5):
        small.record_ticket("cust", PastTicket(f"t{n}", NOW + timedelta(hours=n), -0.1 * n, n > 2))
    small.record_ticket("cust", PastTicket("t4", NOW + timedelta(hours=4), 0.5, False))  # update
    past = small.past_tickets("cust")
    assert [p.ticket_key for p in past] == ["t2", "t3", "t4"]
    assert past[-1].sentiment == 0.5
    assert small.past_tickets("nobody") == ()


def test_interactions_windows_and_headroom(store: StateStore) -> None:
    store.record_interactions(
        "agent:a",
        [
            Interaction("t1#1", NOW - timedelta(hours=5), 0.9),
            Interaction("t1#2", NOW - timedelta(hours=1), 0.8),
            Interaction("t1#2", NOW - timedelta(hours=1), 0.8),  # a repeat is ignored
        ],
    )
    store.record_interactions("agent:b", [Interaction("t2#1", NOW - timedelta(hours=1), 0.5)])
    assert [i.comment_key for i in store.interactions("agent:a", NOW - timedelta(hours=4))] == [
        "t1#2"
    ]
    since, until = NOW - timedelta(hours=4), NOW
    assert store.agents_with_headroom(since, until, 0.6, None) == ("agent:b",)
    assert store.agents_with_headroom(since, until, 1.0, "agent:b") == ("agent:a",)
    # an agent with nothing in the window has all the headroom there is
    assert store.agents_with_headroom(NOW, NOW, 0.1, None) == ("agent:a", "agent:b")


def test_firings_per_scope_and_rule(store: StateStore) -> None:
    store.record_firing("zendesk:a:1", Firing("r1", NOW, "ep1"))
    store.record_firing("zendesk:a:1", Firing("r1", NOW + timedelta(hours=1), "ep2"))
    store.record_firing("agent:zendesk:a:7", Firing("r1", NOW, None))
    last = store.last_firing("zendesk:a:1", "r1")
    assert last == Firing("r1", NOW + timedelta(hours=1), "ep2")
    assert store.last_firing("zendesk:a:1", "r2") is None
    assert store.last_firing("agent:zendesk:a:7", "r1") == Firing("r1", NOW, None)


def test_signal_history_is_kept_in_order(store: StateStore) -> None:
    store.record_signals([("t1", NOW, {"sentiment_mean": -0.4})])
    store.record_signals([("t1", NOW + timedelta(minutes=5), {"sentiment_mean": 0.1})])
    history = store.signal_history("t1")
    assert [d["sentiment_mean"] for _, d in history] == [-0.4, 0.1]


def test_lock_excludes_a_second_holder_until_released(store: StateStore) -> None:
    lease = acquire_lock(store, "sync:zendesk:acme")
    with pytest.raises(LockHeldError, match="another run holds the lock") as caught:
        acquire_lock(store, "sync:zendesk:acme")
    assert caught.value.exit_code == 6
    other = acquire_lock(store, "sync:zendesk:other")  # other accounts are independent
    lease.renew()
    lease.release()
    again = acquire_lock(store, "sync:zendesk:acme")
    again.release()
    other.release()
    assert lock_info(store, "sync:zendesk:acme") is None


def test_an_expired_lease_is_taken_over(store: StateStore) -> None:
    lease = acquire_lock(store, "sync:x", ttl=timedelta(seconds=-1))
    taken = acquire_lock(store, "sync:x")
    with pytest.raises(LockHeldError, match="lost the lock"):
        lease.renew()
    taken.release()


def test_a_dead_holder_on_this_host_does_not_block(store: StateStore) -> None:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(gone.stdout)
    lease = acquire_lock(store, "sync:y", ttl=timedelta(hours=1))
    with store.engine.begin() as conn:  # pretend a killed process held it
        conn.execute(locks.update().where(locks.c.name == "sync:y").values(pid=dead_pid))
    taken = acquire_lock(store, "sync:y")
    info = lock_info(store, "sync:y")
    assert info is not None
    assert info.pid == os.getpid()
    assert info.holder == taken.holder != lease.holder
    taken.release()


def test_inbox_dedupes_and_claims_once(store: StateStore) -> None:
    assert inbox.put(store, "zendesk", "acme", "evt-1", '{"a":1}')
    assert not inbox.put(store, "zendesk", "acme", "evt-1", '{"a":1}')  # redelivery
    assert inbox.put(store, "zendesk", "acme", "evt-2", '{"a":2}')
    first = inbox.claim(store, "w1", limit=1)
    second = inbox.claim(store, "w2", limit=5)
    assert [i.dedupe_key for i in first] == ["evt-1"]
    assert [i.dedupe_key for i in second] == ["evt-2"]
    assert inbox.claim(store, "w3") == []
    assert not inbox.complete(store, first[0].id, "w2")  # not w2's claim
    assert inbox.complete(store, first[0].id, "w1")
    assert inbox.fail(store, second[0].id, "w2", "HTTP 503")
    retried = inbox.claim(store, "w3")
    assert [(i.dedupe_key, i.attempts) for i in retried] == [("evt-2", 2)]
    assert inbox.status_counts(store) == {"done": 1, "claimed": 1}


def test_an_expired_inbox_claim_is_claimed_again(store: StateStore) -> None:
    inbox.put(store, "zendesk", "acme", "evt-9", "{}")
    lost = inbox.claim(store, "w1", lease=timedelta(seconds=-1))
    again = inbox.claim(store, "w2")
    assert [i.id for i in again] == [lost[0].id]
    assert not inbox.complete(store, lost[0].id, "w1")
    assert inbox.complete(store, again[0].id, "w2")


def test_runs_are_recorded(store: StateStore) -> None:
    store.start_run("r1", "sync:x")
    store.finish_run("r1", "finished", {"tickets_seen": 3})
    runs = store.recent_runs()
    assert runs[0]["run_id"] == "r1"
    assert runs[0]["summary"] == {"tickets_seen": 3}


def test_every_table_exists(store: StateStore) -> None:
    with store.engine.connect() as conn:
        translate = conn.get_execution_options().get("schema_translate_map") or {}
        names = set(inspect(conn).get_table_names(schema=translate.get(None)))
    assert {
        "ef_bookmarks",
        "ef_ledger",
        "ef_firings",
        "ef_customer_tickets",
        "ef_interactions",
        "ef_signal_history",
        "ef_inbox",
        "ef_locks",
        "ef_runs",
        "ef_schema_versions",
    } <= names


def test_bad_urls_name_the_key() -> None:
    with pytest.raises(ConfigError, match=r"state\.url"):
        StateStore("mysql://x/y")
    with pytest.raises(ConfigError, match=r"state\.url"):
        StateStore("not a url")
    with pytest.raises(ConfigError, match=r"state\.schema"):
        StateStore("sqlite:///x.db", schema="nope")


def test_page_history_reads_once_and_writes_at_flush(store: StateStore) -> None:
    from empathy_firewall.state import PageHistory

    small = StateStore(store.url, engine=store.engine, max_tickets=3)
    small.record_ticket("cust", PastTicket("t0", NOW - timedelta(days=9), -0.5, True))
    page = PageHistory(small, [], NOW)
    assert page.past_tickets("cust") == ()  # only what the page's tickets can ask about
    page = PageHistory(small, [], NOW)
    page._customers["cust"] = {p.ticket_key: p for p in small.past_tickets("cust")}
    for n in range(1, 5):
        page.begin_ticket(f"t{n}")
        page.record_ticket("cust", PastTicket(f"t{n}", NOW - timedelta(days=5 - n), 0.1, False))
        page.record_firing(f"t{n}", Firing("r", NOW, None))
    page.record_interactions("agent:a", [Interaction("t1#1", NOW - timedelta(hours=1), 0.9)])
    assert [p.ticket_key for p in page.past_tickets("cust")] == ["t2", "t3", "t4"]
    assert small.past_tickets("cust")[0].ticket_key == "t0"  # nothing written yet
    assert page.agents_with_headroom(NOW - timedelta(hours=4), NOW, 0.5, None) == ()
    with small.engine.begin() as conn:
        page.flush(conn, drop_firings_of={"t2"})
    assert [p.ticket_key for p in small.past_tickets("cust")] == ["t2", "t3", "t4"]
    assert small.last_firing("t1", "r") is not None
    assert small.last_firing("t2", "r") is None  # its actions were not all applied
    assert [i.comment_key for i in small.interactions("agent:a", NOW - timedelta(hours=2))] == [
        "t1#1"
    ]
