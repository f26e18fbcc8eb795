"""The offline pipeline remembers between tickets: customers' earlier tickets, the work an
opted-in agent has absorbed, and which rules already acted.

Texts go through a stub analyzer; the rules are the shipped default pack.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from _engine_support import NOW, StubAnalyzer, comment, ticket

from empathy_firewall.engine.evaluate import Engine
from empathy_firewall.engine.loader import load_rule_packs
from empathy_firewall.models import (
    Agent,
    AgentOptIns,
    EventType,
    Role,
    Ticket,
    TicketEvent,
    TicketStatus,
)
from empathy_firewall.pipeline import Pipeline
from empathy_firewall.signals.history import MemoryHistory
from empathy_firewall.signals.text import CommentCache

FURIOUS = "This is unacceptable, I am furious about this."
BITTER = "Terrible service, the worst I have had."
ASKING = "Hi, could you tell me when the replacement will be sent?"
LEAVING = "This is unacceptable. I will cancel my subscription."
SCORES = {FURIOUS: (-0.9, 0.9), BITTER: (-0.8, 0.6), ASKING: (0.0, 0.05), LEAVING: (-0.9, 0.9)}


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_rule_packs(include_python_rules=False))


def _pipeline(engine: Engine) -> Pipeline:
    return Pipeline(engine, texts=CommentCache(StubAnalyzer(SCORES)))


def _earlier_bad_ticket() -> Ticket:
    return ticket(
        [
            comment("1", 60 * 24 * 5, BITTER),
            comment("2", 60 * 24 * 5 - 30, "Sorry.", role=Role.AGENT, author="a9"),
        ],
        external_id="100",
        status=TicketStatus.CLOSED,
        created_at=NOW - timedelta(days=6),
        updated_at=NOW - timedelta(days=5),
    )


def _reopened_ticket() -> Ticket:
    return ticket(
        [comment("1", 30, ASKING)],
        external_id="101",
        events=(TicketEvent(type=EventType.REOPENED, at=NOW - timedelta(minutes=30)),),
    )


def test_customer_memory_carries_across_tickets(engine: Engine) -> None:
    remembered = list(_pipeline(engine).run([_earlier_bad_ticket(), _reopened_ticket()], NOW))
    current = remembered[-1]
    memory = current.signals.memory
    assert (memory.past_tickets, memory.past_negative_tickets) == (1, 1)
    assert memory.past_sentiment == pytest.approx(-0.8)
    assert memory.days_since_last_ticket == pytest.approx(5 - 30 / 1440, abs=1e-3)
    assert current.signals.recovery.history == "strained"
    assert current.signals.recovery.severity == "moderate"  # a reopen, one step up
    assert "service-recovery" in {m.rule_id for m in current.plan.matches}

    alone = next(_pipeline(engine).run([_reopened_ticket()], NOW))
    assert alone.signals.memory.past_tickets == 0
    assert alone.signals.recovery.severity == "minor"
    assert "service-recovery" not in {m.rule_id for m in alone.plan.matches}


def test_another_customer_does_not_share_the_memory(engine: Engine) -> None:
    stranger = _reopened_ticket().model_copy(
        update={"requester": _reopened_ticket().requester.model_copy(update={"id": "c2"})}
    )
    processed = list(_pipeline(engine).run([_earlier_bad_ticket(), stranger], NOW))
    assert processed[-1].signals.memory.past_tickets == 0


PRIYA = Agent(id="a1", name="Priya Raman", opt_in=AgentOptIns(strain_tracking=True))
SAM = Agent(id="a2", name="Sam Lee", opt_in=AgentOptIns(strain_tracking=True))


def _hard_ticket(n: int, agent: Agent, minutes_ago: float, text: str = FURIOUS) -> Ticket:
    return ticket(
        [
            comment("1", minutes_ago + 5, text),
            comment(
                "2", minutes_ago, "I am sorry, sorting it now.", role=Role.AGENT, author=agent.id
            ),
        ],
        external_id=str(n),
        requester=f"c{n}",
        assignee=agent,
    )


def test_agent_load_builds_up_across_tickets_and_reroutes_the_next_hard_one(
    engine: Engine,
) -> None:
    """The stub analyzer is the one used: a fresh, empty CommentCache must not be dropped."""
    worked = [_hard_ticket(n, PRIYA, 180 - 30 * n) for n in range(5)]  # five hard replies
    easy = _hard_ticket(20, SAM, 60, ASKING)  # Sam answered an easy one: headroom
    upset = ticket([comment("1", 5, FURIOUS)], external_id="30", requester="c30", assignee=PRIYA)
    results = list(_pipeline(engine).run([*worked, easy, upset], NOW))

    loads = [r.signals.strain.load for r in results[:5]]
    assert loads == pytest.approx([0.0, 0.9, 1.8, 2.7, 3.6])  # each sees the ones before
    last = results[-1]
    assert last.signals.strain.load == pytest.approx(4.5)
    assert last.signals.strain.overloaded is True
    assert last.signals.headroom == ("test::a2",)
    [route] = last.plan.of_kind("routing_suggestion")
    assert route.action.avoid_agent_ids == ("a1",)  # type: ignore[union-attr]
    assert route.action.prefer_agent_ids == ("a2",)  # type: ignore[union-attr]
    fired_before = {m.rule_id for r in results[:5] for m in r.plan.matches}
    assert "agent-care-routing" not in fired_before


def test_reprocessing_counts_no_reply_twice_and_respects_gates(engine: Engine) -> None:
    pipeline = _pipeline(engine)
    worked = [_hard_ticket(n, PRIYA, 120 - 30 * n, LEAVING) for n in range(3)]
    first = list(pipeline.run(worked, NOW))
    since = NOW - timedelta(hours=4)
    assert len(pipeline.history.interactions("test::a1", since)) == 3
    assert all("risk-tags" in {m.rule_id for m in r.plan.matches} for r in first)

    again = list(pipeline.run(worked, NOW + timedelta(minutes=1)))
    assert len(pipeline.history.interactions("test::a1", since)) == 3
    assert again[-1].signals.strain.load == pytest.approx(2.7)  # three replies, not six
    for result in again:  # once per customer message: the same message is not tagged twice
        assert "risk-tags" not in {m.rule_id for m in result.plan.matches}
        assert "risk-tags" in {s.rule_id for s in result.plan.suppressed}


def test_agents_who_did_not_opt_in_leave_no_trace(engine: Engine) -> None:
    pipeline = _pipeline(engine)
    private = Agent(id="a3", name="Kim Park")
    list(pipeline.run([_hard_ticket(n, private, 100 - 10 * n) for n in range(5)], NOW))
    assert list(pipeline.history.interactions("test::a3", NOW - timedelta(days=1))) == []
    window = NOW - timedelta(hours=4)
    assert list(pipeline.history.agents_with_headroom(window, NOW, 10.0, None)) == []


def test_firings_are_remembered_between_runs(engine: Engine) -> None:
    pipeline = Pipeline(engine, history=MemoryHistory(), texts=CommentCache(StubAnalyzer(SCORES)))
    waiting = ticket([comment("1", 400, ASKING)], external_id="50")
    first = pipeline.process(waiting, NOW)
    assert "delay-acknowledgement" in {m.rule_id for m in first.plan.matches}
    second = pipeline.process(waiting, NOW + timedelta(minutes=10))
    assert "delay-acknowledgement" not in {m.rule_id for m in second.plan.matches}
    assert {s.rule_id for s in second.plan.suppressed} == {"delay-acknowledgement"}
