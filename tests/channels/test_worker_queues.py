"""The webhook workers queue agent prompts exactly as sync does (the shared ticket step)."""

from __future__ import annotations

import sys
from pathlib import Path

from channel_support import queued_rows

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sync"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "webhooks"))
from sync_support import connector_for, seeded_fake
from webhook_support import event_body, service_for, zendesk_request

from empathy_firewall.state import StateStore
from empathy_firewall.state.agents import set_choices
from empathy_firewall.sync.job import account_of


def test_worker_queues_prompts_once_and_writes_none(lite: StateStore, tmp_path: Path) -> None:
    fake, now = seeded_fake(120)
    account = account_of(connector_for(fake))
    for uid, user in fake.state.users.items():
        if user["role"] == "agent":
            set_choices(lite, "zendesk", account, str(uid), {"recognition": True}, via="cli")
    service = service_for(fake, lite, tmp_path, backoff_seconds=0)
    receiver = service.receivers["zendesk"]
    for round_ in ("a", "b"):  # a second event about every ticket: nothing queued twice
        for tid in fake.state.tickets:
            receiver.receive(zendesk_request(fake, event_body(tid, f"{round_}-{tid}")))
        service.worker(now=lambda: now).run(until_empty=True)
        if round_ == "a":
            first = queued_rows(lite)
    rows = queued_rows(lite)
    assert first
    assert rows == first
    assert len({r["prompt_key"] for r in rows}) == len(rows)
    assert {r["feature"] for r in rows} == {"recognition"}
    bodies = {line for r in rows for line in str(r["body"]).splitlines() if "Only you" in line}
    written = "\n".join(str(r.body) for r in fake.log if r.body is not None)
    assert bodies
    assert not any(line in written for line in bodies)
    service.close()
