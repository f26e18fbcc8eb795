"""Agent-private data stays private: not on a ticket, not in the helpdesk's requests, not in
logs, not in the signal history a manager report reads, not in the sync summary.

Runs a real sync against the Zendesk fake. Zendesk delivers no opt-ins, so the agents opt in
through the store (``empathy-firewall agents opt-in``), which is what item 3 is for.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from channel_support import KEY, channel_settings, queued_rows, smtp_server
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sync"))
from sync_support import connector_for, job, seeded_fake

from empathy_firewall.channels.email import EmailChannel
from empathy_firewall.channels.sender import DigestRun
from empathy_firewall.channels.web import opt_out_routes
from empathy_firewall.state import StateStore
from empathy_firewall.state.agents import set_choices
from empathy_firewall.state.schema import runs, signal_history
from empathy_firewall.sync.job import account_of


def _private_lines(store: StateStore) -> set[str]:
    """The lines of every queued prompt that are not customer quotes (those are on the
    ticket anyway): the words only the agent may read."""
    lines = set()
    for row in queued_rows(store):
        for line in str(row["body"]).splitlines():
            stripped = line.strip()
            if stripped and not stripped.startswith(("-", '"')):
                lines.add(stripped)
    return lines


def test_prompts_reach_only_the_outbox(lite: StateStore, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake, now = seeded_fake(120)
    agents = [uid for uid, u in fake.state.users.items() if u["role"] == "agent"]
    assert agents
    account = account_of(connector_for(fake))
    for uid in agents:
        everything = {"strain": True, "breaks": True, "recognition": True}
        set_choices(lite, "zendesk", account, str(uid), everything, via="cli")
    first, _ = job(lite, fake, now)
    summary = first.run()
    private = _private_lines(lite)
    assert summary.actions_planned["agent_prompt"] > 0, "stored opt-ins must reach evaluation"
    assert private

    # nothing the helpdesk was sent, nothing on any ticket
    sent = "\n".join(str(r.body) for r in fake.log if r.body is not None)
    on_tickets = "\n".join(c["body"] for tid in fake.state.tickets for c in fake.comments(tid))
    for line in private:
        assert line not in sent
        assert line not in on_tickets
    # not in the summary, the signal history or the run record
    with lite.engine.connect() as conn:
        history = "\n".join(r[0] for r in conn.execute(select(signal_history.c.data)))
        run_rows = "\n".join(str(r[0]) for r in conn.execute(select(runs.c.summary)))
    record = json.dumps(summary.as_dict()) + history + run_rows
    for line in private:
        assert line not in record
    assert "agent prompts are private" not in record  # no longer skipped as undeliverable

    # deliver, opt out through the link: the logs never carry a prompt, an address or an id
    with smtp_server() as (port, inbox):
        settings = channel_settings(
            port, agents={str(uid): {"email": f"agent{uid}@example.com"} for uid in agents}
        )
        outcomes = DigestRun(
            lite,
            settings,
            {"email": EmailChannel.from_settings(settings, {})},
            KEY,
            now=now + timedelta(minutes=5),
        ).run()
    assert any(o.status == "sent" for o in outcomes)
    link = (
        inbox.messages[0][2]["List-Unsubscribe"].strip("<>").removeprefix("http://127.0.0.1:8080")
    )
    routes = opt_out_routes(lite, KEY, now=lambda: now + timedelta(hours=1))
    with TestClient(Starlette(routes=routes)) as client:
        assert client.post(link).status_code == 200

    # every log record of the process except the test's own SMTP server (aiosmtpd's
    # "mail.log" prints what it receives at DEBUG: it plays the agent's mailbox here)
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name != "mail.log")
    for line in private:
        assert line not in logged
    for uid in agents:
        assert f"agent{uid}@example.com" not in logged
    assert "digest run:" in logged  # the run did log, with counts only
