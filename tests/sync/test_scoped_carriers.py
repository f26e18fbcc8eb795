"""Rules gated per agent act on one ticket of the agent, chosen by the helpdesk's data.

A rule with ``cooldown_per: agent`` (the default pack's agent-care-break) acts on the ticket
of the agent's latest reply among the tickets still assigned to them, in every kind of run:

* a later run whose export spans several pages observes every page before evaluating any,
  as a first run does, so the carrier does not depend on where the pages are cut or the
  order tickets arrive in (before, the rule acted on the first page's ticket when the
  agent's latest reply was on a later page, and its cooldown then held the true carrier
  back);
* a ticket reassigned since the agent's latest reply on it no longer carries that agent's
  rule (it is evaluated for its new assignee): the agent's latest reply on a ticket still
  theirs does (before, the agent's rule acted nowhere).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from empathy_firewall.actions import Plan
from empathy_firewall.connectors.file import FileConfig, FileConnector
from empathy_firewall.engine.evaluate import Engine
from empathy_firewall.engine.loader import load_rule_packs
from empathy_firewall.models import Ticket
from empathy_firewall.signals.history import Firing
from empathy_firewall.state import StateStore
from empathy_firewall.sync import SyncJob, SyncOptions, SyncSummary
from empathy_firewall.webhooks.worker import TicketProcessor

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)

PACK = """\
pack: carriers
rules:
  - id: per-agent
    cooldown: 2h
    cooldown_per: agent
    when: {agent.tracked: true}
    actions: [{internal_note: "Agent note."}]
"""


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    path = tmp_path_factory.mktemp("pack") / "carriers.yaml"
    path.write_text(PACK, encoding="utf-8")
    return Engine(load_rule_packs([path], include_python_rules=False))


def _ticket(
    external_id: str,
    agent: str,
    replied: datetime,
    *,
    replier: str | None = None,
    extra: datetime | None = None,
) -> dict[str, Any]:
    """An open ticket assigned to ``agent`` (opted in to strain tracking): a customer's
    question, a reply by ``replier`` (the assignee by default) at ``replied``, and maybe a
    customer's follow-up at ``extra``."""
    opened = replied - timedelta(minutes=30)
    comments = [
        _comment(f"{external_id}-c1", "customer", "cus-" + external_id, opened, "Hello, help?"),
        _comment(
            f"{external_id}-c2", "agent", replier or agent, replied, "Thanks, on it right now."
        ),
    ]
    if extra is not None:
        comments.append(
            _comment(f"{external_id}-c3", "customer", "cus-" + external_id, extra, "Any news?")
        )
    last = comments[-1]["created_at"]
    return {
        "source": {"connector": "file", "external_id": external_id, "account": "carriers"},
        "subject": "Help",
        "status": "open",
        "priority": "normal",
        "created_at": _iso(opened),
        "updated_at": last,
        "requester": {"id": "cus-" + external_id, "name": "Customer " + external_id},
        "assignee": {
            "id": agent,
            "name": "Agent " + agent,
            "opt_in": {"strain_tracking": True, "break_prompts": True},
        },
        "comments": comments,
    }


def _comment(cid: str, role: str, author: str, at: datetime, text: str) -> dict[str, Any]:
    return {
        "id": cid,
        "author_role": role,
        "author_id": author,
        "public": True,
        "created_at": _iso(at),
        "text": text,
    }


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _append(path: Path, tickets: list[dict[str, Any]]) -> None:
    with path.open("a", encoding="utf-8") as handle:
        for item in tickets:
            handle.write(json.dumps(item) + "\n")


def _sync(
    engine: Engine, folder: Path, path: Path, page_size: int, now: datetime
) -> tuple[SyncSummary, dict[str, set[str]]]:
    """One run; which tickets the agent-scoped rule acted on, per scope."""
    plans: list[Plan] = []
    connector = FileConnector(
        FileConfig(path=path, output=folder / "plans.jsonl", page_size=page_size)
    )
    with StateStore(f"sqlite:///{folder / 'state.db'}") as store:
        summary = SyncJob(
            store,
            connector,
            engine,
            options=SyncOptions(now=now),
            on_page=lambda report: plans.extend(report.plans),
        ).run()
    carriers: dict[str, set[str]] = {}
    for plan in plans:
        for match in plan.matches:
            if match.rule_id == "per-agent" and match.scope is not None:
                carriers.setdefault(match.scope, set()).add(plan.ticket.external_id)
    return summary, carriers


@pytest.mark.parametrize(
    ("page_size", "order"),
    [(1, "123"), (1, "321"), (2, "123"), (2, "312"), (2, "231"), (3, "213")],
)
def test_a_later_run_of_several_pages_acts_on_the_agents_latest_reply(
    engine: Engine, tmp_path: Path, page_size: int, order: str
) -> None:
    path = tmp_path / "export.jsonl"
    _append(path, [_ticket("100", "agt-9", NOW - timedelta(minutes=30))])
    first, _ = _sync(engine, tmp_path, path, 10, NOW)  # the store now covers the helpdesk
    assert first.tickets_seen == 1
    replies = {"1": 90, "2": 50, "3": 10}  # minutes ago: ticket 3 holds the latest reply
    later = {k: _ticket(k, "agt-1", NOW - timedelta(minutes=m)) for k, m in replies.items()}
    _append(path, [later[k] for k in order])
    summary, carriers = _sync(engine, tmp_path, path, page_size, NOW)
    assert summary.tickets_seen == 3
    assert carriers == {"agent:file:carriers:agt-1": {"3"}}
    # a single page is read once; an export of several pages once more, before evaluating
    assert summary.tickets_observed == (0 if page_size >= 3 else 3)


@pytest.mark.parametrize("page_size", [1, 2])
def test_a_reassigned_ticket_leaves_the_agents_rule_to_a_ticket_still_theirs(
    engine: Engine, tmp_path: Path, page_size: int
) -> None:
    path = tmp_path / "export.jsonl"
    older = NOW - timedelta(minutes=50)
    newer = NOW - timedelta(minutes=10)
    _append(path, [_ticket("1", "agt-1", older), _ticket("2", "agt-1", newer)])
    _, carriers = _sync(engine, tmp_path, path, 10, NOW)
    assert carriers == {"agent:file:carriers:agt-1": {"2"}}  # the latest reply
    # Later (the cooldown over, the replies still in the strain window): ticket 2 went to
    # agt-2 with agt-1's reply on it, and ticket 1's customer wrote again.
    later = NOW + timedelta(hours=2, minutes=30)
    moved = _ticket("2", "agt-2", newer, replier="agt-1")
    moved["updated_at"] = _iso(later - timedelta(minutes=20))
    _append(path, [_ticket("1", "agt-1", older, extra=later - timedelta(minutes=5)), moved])
    summary, carriers = _sync(engine, tmp_path, path, page_size, later)
    assert summary.tickets_seen == 2
    # agt-1's latest reply on a ticket still theirs is on ticket 1 (ticket 2 is evaluated
    # for agt-2; its note for them is the one already written, so it is not planned again)
    assert carriers.get("agent:file:carriers:agt-1") == {"1"}


def test_webhook_batches_leave_a_reassigned_ticket_out_of_the_agents_carriers(
    engine: Engine, tmp_path: Path
) -> None:
    """Webhook workers run the same step on the tickets each batch names: the ticket reassigned
    in an earlier batch is known from its stored snapshot, so agt-1's rule acts on ticket 1."""
    older = NOW - timedelta(minutes=50)
    newer = NOW - timedelta(minutes=10)
    later = NOW + timedelta(hours=2, minutes=30)
    moved = _ticket("2", "agt-2", newer, replier="agt-1")
    moved["updated_at"] = _iso(later - timedelta(minutes=20))
    batches = [
        (NOW, [_ticket("1", "agt-1", older), _ticket("2", "agt-1", newer)]),
        (later - timedelta(minutes=20), [moved]),
        (later, [_ticket("1", "agt-1", older, extra=later - timedelta(minutes=5))]),
    ]
    connector = FileConnector(
        FileConfig(path=tmp_path / "export.jsonl", output=tmp_path / "plans.jsonl")
    )
    scope = "agent:file:carriers:agt-1"
    with StateStore(f"sqlite:///{tmp_path / 'state.db'}") as store:
        processor = TicketProcessor(store, connector, engine)
        for at, batch in batches:
            tickets = [Ticket.model_validate(item) for item in batch]
            assert processor.process(tickets, verify=False, now=at) == {}
            if at == NOW:
                assert store.last_firing(scope, "per-agent") == Firing("per-agent", NOW, None)
        # agt-1's rule acted again once its cooldown was over
        assert store.last_firing(scope, "per-agent") == Firing("per-agent", later, None)
    written = [json.loads(line) for line in (tmp_path / "plans.jsonl").read_text().splitlines()]
    carried = [
        plan["ticket"]["external_id"]
        for plan in written
        for action in plan["actions"]
        for match in action["because"]
        if match["scope"] == scope
    ]
    assert carried == ["2", "1"]  # the latest reply, then the latest still agt-1's
