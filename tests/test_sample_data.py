"""The committed sample helpdesk is exactly what its generator makes, and it is rich enough.

``examples/sample_helpdesk.jsonl`` feeds the README's main command, so it must stay in sync
with ``examples/generate_sample.py`` and keep exercising every rule of the default pack:
waits against the SLA, reassignments, reopens, loyalty tiers, repeat customers, opted-in
agents, non-English text and emoji.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest

from empathy_firewall.models import EventType, Role, Ticket, TicketMetrics, TicketStatus

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "generate_sample.py"
SAMPLE = ROOT / "examples" / "sample_helpdesk.jsonl"
AS_OF = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_sample", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while executing
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return SAMPLE.read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def tickets(lines: list[str]) -> list[Ticket]:
    return [Ticket.model_validate_json(line) for line in lines]


def test_committed_file_equals_generator_output(tmp_path: Path) -> None:
    out = tmp_path / "sample.jsonl"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), *sys.path])}
    env.pop("PYTHONHASHSEED", None)
    subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out)],
        check=True,
        capture_output=True,
        cwd=tmp_path,
        env=env,
    )
    assert out.read_bytes() == SAMPLE.read_bytes(), (
        "examples/sample_helpdesk.jsonl is stale: run `python examples/generate_sample.py`"
    )


def test_same_seed_is_deterministic_and_other_seed_differs(generator: ModuleType) -> None:
    first = generator.render_jsonl(generator.generate(seed=11, count=60))
    again = generator.render_jsonl(generator.generate(seed=11, count=60))
    other = generator.render_jsonl(generator.generate(seed=12, count=60))
    assert first == again
    assert first != other


def test_count_is_honoured(generator: ModuleType) -> None:
    assert len(generator.generate(seed=3, count=1)) == 1
    assert len(generator.generate(seed=3, count=37)) == 37


def test_every_line_is_a_ticket_written_without_nulls(lines: list[str]) -> None:
    for number, line in enumerate(lines, start=1):
        ticket = Ticket.model_validate_json(line)
        assert line == ticket.model_dump_json(exclude_none=True), f"line {number}"
        assert ":null" not in line, f"line {number}"
        assert json.loads(line)["source"]["connector"] == "file"


def test_size_people_and_groups(tickets: list[Ticket]) -> None:
    assert len(tickets) >= 300
    agents = {t.assignee.id for t in tickets if t.assignee is not None}
    assert len(agents) == 12
    assert {t.group for t in tickets} >= {"sales", "support", "billing", "technical", "returns"}
    opted_in = {
        t.assignee.id
        for t in tickets
        if t.assignee is not None and t.assignee.opt_in.strain_tracking
    }
    assert 4 <= len(opted_in) <= 8
    overloaded = {
        t.assignee.id
        for t in tickets
        if t.assignee is not None
        and (t.assignee.open_tickets or 0) > (t.assignee.capacity or 10**6)
    }
    assert overloaded


_OPEN = {TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.ON_HOLD}


def _backlog_mismatches(tickets: list[Ticket]) -> dict[str, tuple[set[int | None], int]]:
    """Agents whose ``open_tickets`` differs from their open tickets in the file:
    agent id -> (the figures their records give, the count)."""
    counted = Counter(t.assignee.id for t in tickets if t.assignee and t.status in _OPEN)
    figures: dict[str, set[int | None]] = {}
    for t in tickets:
        if t.assignee is not None:
            figures.setdefault(t.assignee.id, set()).add(t.assignee.open_tickets)
    return {a: (f, counted[a]) for a, f in figures.items() if f != {counted[a]}}


def test_agents_open_tickets_equal_their_open_tickets_in_the_file(
    tickets: list[Ticket], generator: ModuleType
) -> None:
    """The backlog an agent record gives is what a helpdesk holding the file counts: the
    file source and the fakes seeded from it tell the same story as ``simulate``."""
    assert _backlog_mismatches(tickets) == {}
    assert _backlog_mismatches(generator.generate(seed=5, count=150)) == {}


def test_sorted_by_update_and_nothing_after_as_of(tickets: list[Ticket]) -> None:
    updated = [t.updated_at for t in tickets]
    assert updated == sorted(updated)
    for ticket in tickets:
        assert ticket.updated_at <= AS_OF
        assert all(c.created_at <= AS_OF for c in ticket.comments)
        assert all(e.at <= AS_OF for e in ticket.events)
    assert len({t.key for t in tickets}) == len(tickets)


def _metrics(ticket: Ticket) -> TicketMetrics:
    return ticket.metrics or TicketMetrics()


def _breached(ticket: Ticket) -> bool:
    breach = ticket.sla.breach_at if ticket.sla else None
    return breach is not None and breach <= AS_OF


def test_friction_is_present(tickets: list[Ticket]) -> None:
    def count(predicate: Callable[[Ticket], bool]) -> int:
        return sum(1 for t in tickets if predicate(t))

    assert count(lambda t: (_metrics(t).reassignments or 0) > 0) >= 10
    assert count(lambda t: (_metrics(t).group_hops or 0) >= 2) >= 5
    assert count(lambda t: (_metrics(t).reopens or 0) > 0) >= 10
    assert count(_breached) >= 20
    assert count(lambda t: any(e.type is EventType.SLA_WARNING for e in t.events)) >= 20
    # a handoff still waiting for its new owner's first reply
    assert count(_handoff_pending) >= 3


def _handoff_pending(ticket: Ticket) -> bool:
    moves = [e for e in ticket.events if e.type is EventType.REASSIGNED]
    if not moves:
        return False
    return not any(
        c.author_role is Role.AGENT and c.public and c.created_at > moves[-1].at
        for c in ticket.comments
    )


def test_customers_have_tiers_history_and_languages(tickets: list[Ticket]) -> None:
    tiers = {t.requester.loyalty_tier for t in tickets}
    assert {"bronze", "silver", "gold", "platinum"} <= tiers
    assert any(t.requester.loyalty_tier is None and "plan" in t.requester.fields for t in tickets)
    per_customer = Counter(t.requester.id for t in tickets)
    repeaters = [c for c, n in per_customer.items() if n >= 2]
    assert 0.08 <= len(repeaters) / len(per_customer) <= 0.25
    assert max(per_customer.values()) <= 4
    earlier_closed = sum(
        1 for t in tickets if per_customer[t.requester.id] >= 2 and t.status is TicketStatus.CLOSED
    )
    assert earlier_closed >= len(repeaters)
    languages = {t.requester.language for t in tickets}
    assert {"en", "es", "fr", "de", "pt"} <= languages


def test_texts_are_varied_non_empty_and_emotional(tickets: list[Ticket]) -> None:
    texts = [c.text for t in tickets for c in t.comments]
    assert all(text.strip() for text in texts)
    assert all(t.subject.strip() for t in tickets)
    customer = [c.text for t in tickets for c in t.comments if c.author_role is Role.CUSTOMER]
    assert len(set(customer)) > len(customer) * 0.5
    assert any(ch in text for text in customer for ch in "😡🙏😊👍🙄❤🎉")
    assert any("!!!" in text for text in customer)
    assert any(word in text.lower() for text in customer for word in ("lawyer", "abogado"))
    assert any("thank" in text.lower() for text in customer)
    for marker in ("¿", "Bonjour", "Hallo", "Olá"):
        assert any(marker in text for text in customer), marker
    private = [c for t in tickets for c in t.comments if not c.public]
    assert private


def test_hot_seat_agents_carry_recent_hard_interactions(tickets: list[Ticket]) -> None:
    recent = Counter(
        c.author_id
        for t in tickets
        for c in t.comments
        if c.author_role is Role.AGENT
        and c.public
        and t.assignee is not None
        and t.assignee.opt_in.strain_tracking
        and (AS_OF - c.created_at).total_seconds() <= 4 * 3600
    )
    assert sum(1 for n in recent.values() if n >= 8) >= 2


def test_large_counts_are_fast(generator: ModuleType) -> None:
    tickets = generator.generate(seed=5, count=1000)
    assert len(tickets) == 1000
    comments = sum(len(t.comments) for t in tickets)
    assert 5.0 <= comments / len(tickets) <= 7.0
