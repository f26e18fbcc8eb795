"""Issue 10 items 1 and 2 through webhooks: the worker keeps ticket snapshots (backlog,
derived history) current, as sync does."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from ci_support import dev_import

# ruff: noqa: E402  (the dev extra is checked before the imports that need it)
dev_import("starlette", "the webhook service needs the 'serve' extra")

from sync_support import seeded_fake
from webhook_support import event_body, service_for, zendesk_request

from empathy_firewall.models import EventType
from empathy_firewall.state import StateStore
from empathy_firewall.state.snapshots import count_open, load_snapshots
from empathy_firewall_zendesk import ZendeskConnector


def test_a_webhook_reassignment_is_derived_and_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # as a helpdesk without a history API: Zendesk's audits would deliver the event itself
    no_history = dataclasses.replace(ZendeskConnector.capabilities, history=False)
    monkeypatch.setattr(ZendeskConnector, "capabilities", no_history)
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    fake, now = seeded_fake(120)
    service = service_for(fake, store, tmp_path, backoff_seconds=0)
    tid = next(
        t for t, r in fake.state.tickets.items() if r["status"] == "open" and r["assignee_id"]
    )
    record: dict[str, Any] = fake.state.tickets[tid]
    first_owner = record["assignee_id"]

    def deliver(event: str) -> None:
        response = service.receivers["zendesk"].receive(
            zendesk_request(fake, event_body(tid, event))
        )
        assert response.status == 202
        assert service.worker(now=lambda: now).run(until_empty=True).processed == 1

    deliver("e-1")
    processor = next(iter(service.worker(now=lambda: now).processors.values()))
    name, account = processor.connector.name, processor.account
    with store.engine.connect() as conn:
        before = count_open(conn, name, account)
        assert before[str(first_owner)] >= 1
    other = next(
        uid
        for uid, u in fake.state.users.items()
        if u.get("role") == "agent" and uid != first_owner
    )
    record["assignee_id"] = other
    fake.touch(tid)
    deliver("e-2")
    with store.engine.connect() as conn:
        (snap,) = load_snapshots(conn, name, account, [str(tid)]).values()
        after = count_open(conn, name, account)
    assert [e.type for e in snap.events] == [EventType.REASSIGNED]
    assert (snap.events[0].from_assignee, snap.events[0].to_assignee) == (
        str(first_owner),
        str(other),
    )
    assert after[str(other)] == before.get(str(other), 0) + 1
    assert after.get(str(first_owner), 0) == before[str(first_owner)] - 1
    store.close()
