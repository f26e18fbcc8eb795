"""End to end: sync queues prompts, a real SMTP server receives each digest once, in order,
and the opt-out link works through the serve app."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from channel_support import KEY, NOW, channel_settings, queued_rows, sample_sync, smtp_server
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from empathy_firewall.channels import outbox
from empathy_firewall.channels.email import EmailChannel
from empathy_firewall.channels.sender import DigestRun
from empathy_firewall.channels.web import opt_out_routes
from empathy_firewall.signals.strain import Interaction
from empathy_firewall.state import StateStore
from empathy_firewall.state.agents import digests, stored_choices

LATER = NOW + timedelta(hours=1)
ADDRESSES = {"agt-01": "maya@example.com", "agt-03": "lucia@example.com"}


def _run(store: StateStore, port: int, **kwargs: Any) -> list[outbox.AgentRef]:
    settings = channel_settings(
        port, agents={a: {"email": e} for a, e in ADDRESSES.items()}, **kwargs
    )
    channel = EmailChannel.from_settings(settings, {})
    outcomes = DigestRun(store, settings, {"email": channel}, KEY, now=LATER).run()
    return [o.agent for o in outcomes if o.status in ("sent", "resent")]


def test_each_digest_arrives_once_in_order_through_a_real_smtp_server(
    store: StateStore, tmp_path: Path
) -> None:
    sample_sync(store, tmp_path)
    rows = queued_rows(store)
    by_agent = Counter(r["agent_id"] for r in rows)
    assert by_agent["agt-01"] >= 2
    assert by_agent["agt-03"] >= 2
    expected = {
        agent: sorted(
            (r for r in rows if r["agent_id"] == agent),
            key=lambda r: (r["evaluated_at"], r["ticket_key"], r["id"]),
        )[:10]
        for agent in ADDRESSES
    }

    with smtp_server() as (port, inbox):
        sent = _run(store, port)
        assert sorted(a.agent_id for a in sent) == ["agt-01", "agt-03"]
        # a second run (cron again) sends nothing new: everything is marked
        assert _run(store, port) == []

    for agent, address in ADDRESSES.items():
        messages = inbox.to(address)
        assert len(messages) == 1, f"{agent} got {len(messages)} digests"
        message = messages[0]
        body = message.get_content()
        # one line per moment, in evaluation order, each naming its ticket
        lines = [line for line in body.splitlines() if line.startswith("- ")]
        assert [line.split("ticket ")[1].split(":")[0] for line in lines] == [
            r["ticket_id"] for r in expected[agent]
        ]
        assert "Why you get this: you opted in to recognition" in body
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["List-Unsubscribe"].startswith("<http://127.0.0.1:8080/agents/opt-out?t=")
        assert message["Auto-Submitted"] == "auto-generated"
    # agents with no address keep their moments queued; nobody else got mail
    assert len(inbox.messages) == 2
    left = {r["agent_id"] for r in queued_rows(store) if r["status"] == "queued"}
    assert left == set(by_agent) - set(ADDRESSES)
    assert left, "the sample must leave some agent without an address"
    # delivered prompt texts are erased from the store; the digests are recorded
    sent_rows = [r for r in queued_rows(store) if r["status"] == "sent"]
    assert sent_rows
    assert all(r["body"] == "" for r in sent_rows)
    with store.engine.connect() as conn:
        recorded = conn.execute(select(digests.c.agent_id, digests.c.status)).all()
    assert sorted(recorded) == [("agt-01", "sent"), ("agt-03", "sent")]


def test_opt_out_link_from_the_mail_works_through_serve(store: StateStore, tmp_path: Path) -> None:
    sample_sync(store, tmp_path)
    agent_key = "file:sample:agt-01"  # how strain history keys the sample's agent
    store.record_interactions(agent_key, [Interaction("c1", NOW - timedelta(hours=1), 0.8)])
    with smtp_server() as (port, inbox):
        _run(store, port)
    link = inbox.to("maya@example.com")[0]["List-Unsubscribe"].strip("<>")
    path = urlsplit(link)
    target = f"{path.path}?{path.query}"

    app = Starlette(routes=opt_out_routes(store, KEY, now=lambda: LATER))
    with TestClient(app) as client:
        page = client.get(target)
        assert page.status_code == 200
        assert "Yes, stop them" in page.text
        # a GET (link preview, mail scanner) changes nothing
        rows = queued_rows(store)
        connector, account = rows[0]["connector"], rows[0]["account"]
        assert stored_choices(store, connector, account, ["agt-01"]) == {}
        # the RFC 8058 one-click POST
        done = client.post(
            target,
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert done.status_code == 200
        assert "opted out" in done.text
        bad = client.post(target.replace("t=", "t=x"))
        assert bad.status_code == 400
        assert client.get("/agents/opt-out").status_code == 400

    assert stored_choices(store, connector, account, ["agt-01"]) == {
        "agt-01": {"strain": False, "breaks": False, "recognition": False}
    }
    assert store.interactions(agent_key, NOW - timedelta(days=1)) == ()


def test_expired_link_is_refused_with_a_page_not_an_error(lite: StateStore, tmp_path: Path) -> None:
    sample_sync(lite, tmp_path, count=60)
    with smtp_server() as (port, inbox):
        _run(lite, port)
    link = inbox.messages[0][2]["List-Unsubscribe"].strip("<>")
    target = link.removeprefix("http://127.0.0.1:8080")
    app = Starlette(routes=opt_out_routes(lite, KEY, now=lambda: LATER + timedelta(days=31)))
    with TestClient(app) as client:
        answer = client.post(target)
    assert answer.status_code == 400
    assert "expired" in answer.text


def test_opt_out_drops_queued_moments_and_wins_on_the_next_evaluation(
    lite: StateStore, tmp_path: Path
) -> None:
    from empathy_firewall.state.agents import set_choices

    first = sample_sync(lite, tmp_path)
    assert first.actions_planned["agent_prompt"] > 0
    rows = queued_rows(lite)
    connector, account = rows[0]["connector"], rows[0]["account"]
    set_choices(lite, connector, account, "agt-07", {"recognition": False}, via="cli")
    assert "agt-07" not in {r["agent_id"] for r in queued_rows(lite)}

    # a fresh store with the same stored choice: the sample says agt-07 opted in,
    # the stored opt-out wins, so no prompt for agt-07 is even planned
    fresh = StateStore(f"sqlite:///{tmp_path / 'fresh.db'}")
    set_choices(fresh, connector, account, "agt-07", {"recognition": False}, via="cli")
    (tmp_path / "b").mkdir()
    sample_sync(fresh, tmp_path / "b")
    agents = Counter(r["agent_id"] for r in queued_rows(fresh))
    assert "agt-07" not in agents
    assert agents["agt-01"] > 0
    fresh.close()
