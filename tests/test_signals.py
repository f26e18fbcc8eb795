"""Signals, each with its documented definition and unit: friction, emotion, strain,
customer memory and service recovery.

Emotion tests build ``EvaluationContext(now=..., texts=CommentCache(StubAnalyzer(...)))`` so
they read the trajectory logic, not the fitted scorer.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from _engine_support import NOW, comment, stub_context, ticket

from empathy_firewall.models import (
    Agent,
    AgentOptIns,
    Customer,
    EventType,
    Priority,
    Role,
    SlaInfo,
    TicketEvent,
    TicketMetrics,
    TicketStatus,
)
from empathy_firewall.settings import (
    AgentCareSettings,
    CustomerFieldMapping,
    EmotionSettings,
    FirewallSettings,
    FrictionSettings,
    MemorySettings,
    RecoveryPolicy,
)
from empathy_firewall.signals.emotion import Emotion, MessageSignals, emotion_of, frustration_level
from empathy_firewall.signals.enrich import enrich, observe
from empathy_firewall.signals.friction import Friction, friction_of, handoff_of
from empathy_firewall.signals.history import MemoryHistory
from empathy_firewall.signals.memory import CustomerMemory, PastTicket, memory_of
from empathy_firewall.signals.recovery import recovery_of
from empathy_firewall.signals.strain import NOT_TRACKED, Interaction, strain_of

FRICTION = FrictionSettings()


def _agent_reply(cid: str, minutes_ago: float, public: bool = True) -> object:
    return comment(cid, minutes_ago, "On it.", role=Role.AGENT, author="a1", public=public)


# -- friction ---------------------------------------------------------------------------------


def test_waiting_counts_from_the_first_unanswered_customer_message() -> None:
    item = ticket(
        [
            comment("1", 300),
            _agent_reply("2", 200),
            comment("3", 120),
            _agent_reply("4", 100, public=False),  # an internal note answers nobody
            comment("5", 60),
            comment("6", 30, "System notice", role=Role.SYSTEM),
        ]
    )
    friction = friction_of(item, NOW, FRICTION)
    assert friction.waiting is True
    assert friction.waiting_since == NOW - timedelta(minutes=120)
    assert friction.waiting_minutes == pytest.approx(120)


def test_a_public_agent_reply_ends_the_wait() -> None:
    friction = friction_of(ticket([comment("1", 300), _agent_reply("2", 200)]), NOW, FRICTION)
    assert (friction.waiting, friction.waiting_since, friction.waiting_minutes) == (
        False,
        None,
        None,
    )
    assert friction.minutes_to_breach is None
    assert friction.breached is False


@pytest.mark.parametrize("status", [TicketStatus.SOLVED, TicketStatus.CLOSED])
def test_solved_and_closed_tickets_never_wait(status: TicketStatus) -> None:
    friction = friction_of(ticket([comment("1", 3000)], status=status), NOW, FRICTION)
    assert friction.waiting is False
    assert friction.breached is False


@pytest.mark.parametrize(
    ("priority", "target"),
    [(Priority.URGENT, 60), (Priority.HIGH, 240), (Priority.NORMAL, 480), (Priority.LOW, 1440)],
)
def test_sla_target_falls_back_to_the_priority_target(priority: Priority, target: float) -> None:
    friction = friction_of(ticket([comment("1", 30)], priority=priority), NOW, FRICTION)
    assert friction.sla_target_minutes == target
    assert friction.sla_used_ratio == pytest.approx(30 / target)
    assert friction.minutes_to_breach == pytest.approx(target - 30)


def test_the_ticket_sla_wins_over_the_priority_target() -> None:
    item = ticket([comment("1", 30)], priority=Priority.LOW, sla=SlaInfo(reply_target_minutes=40))
    friction = friction_of(item, NOW, FRICTION)
    assert friction.sla_target_minutes == 40
    assert friction.sla_used_ratio == pytest.approx(0.75)
    assert friction.minutes_to_breach == pytest.approx(10)
    custom = FrictionSettings(reply_target_minutes={Priority.NORMAL: 20.0})
    assert friction_of(ticket([comment("1", 30)]), NOW, custom).breached is True


def test_breach_time_from_the_helpdesk_and_negative_minutes_once_breached() -> None:
    item = ticket(
        [comment("1", 30)],
        sla=SlaInfo(reply_target_minutes=480, breach_at=NOW - timedelta(minutes=5)),
    )
    friction = friction_of(item, NOW, FRICTION)
    assert friction.minutes_to_breach == pytest.approx(-5)
    assert friction.breached is True
    exactly = ticket([comment("1", 480)])
    assert friction_of(exactly, NOW, FRICTION).breached is True  # at the target, breached
    just_before = ticket([comment("1", 479)])
    assert friction_of(just_before, NOW, FRICTION).breached is False


def _moves(*groups: tuple[str | None, str | None]) -> tuple[TicketEvent, ...]:
    return tuple(
        TicketEvent(
            type=EventType.REASSIGNED,
            at=NOW - timedelta(minutes=100 - i),
            from_group=a,
            to_group=b,
        )
        for i, (a, b) in enumerate(groups)
    )


def test_reassignments_and_group_hops_from_events() -> None:
    events = _moves(
        ("sales", "billing"), ("billing", "billing"), (None, "support"), ("billing", "tech")
    )
    friction = friction_of(ticket([comment("1", 30)], events=events), NOW, FRICTION)
    assert friction.reassignments == 4
    assert friction.group_hops == 2  # same group and unknown origin are no hop


def test_helpdesk_metrics_count_when_they_know_more() -> None:
    events = (*_moves(("sales", "billing")), TicketEvent(type=EventType.REOPENED, at=NOW))
    metrics = TicketMetrics(reassignments=5, group_hops=3, reopens=0)
    friction = friction_of(
        ticket([comment("1", 30)], events=events, metrics=metrics), NOW, FRICTION
    )
    assert (friction.reassignments, friction.group_hops, friction.reopens) == (5, 3, 1)
    fewer = TicketMetrics(reassignments=0)
    friction = friction_of(ticket([comment("1", 30)], events=events, metrics=fewer), NOW, FRICTION)
    assert friction.reassignments == 1


def test_backlog_ratio_and_overload() -> None:
    def load(open_tickets: int | None, capacity: int | None) -> Friction:
        agent = Agent(id="a1", open_tickets=open_tickets, capacity=capacity)
        return friction_of(ticket([comment("1", 30)], assignee=agent), NOW, FRICTION)

    assert load(None, 10).assignee_load_ratio is None
    assert load(None, 10).assignee_overloaded is False
    assert load(12, 10).assignee_load_ratio == pytest.approx(1.2)
    assert load(10, 10).assignee_overloaded is True
    assert load(9, 10).assignee_overloaded is False
    default_capacity = load(25, None)
    assert (default_capacity.assignee_capacity, default_capacity.assignee_overloaded) == (25, True)
    assert friction_of(ticket([comment("1", 30)]), NOW, FRICTION).assignee_backlog is None


def test_handoff_is_pending_until_the_new_owner_replies() -> None:
    events = _moves(("sales", "billing"), ("billing", "support"))
    pending = handoff_of(ticket([comment("1", 200)], events=events), NOW)
    assert pending.pending is True
    assert pending.event is not None
    assert pending.event.to_group == "support"
    assert pending.minutes_since == pytest.approx(99)
    picked_up = handoff_of(ticket([comment("1", 200), _agent_reply("2", 10)], events=events), NOW)
    assert picked_up.pending is False
    internal_only = ticket([comment("1", 200), _agent_reply("2", 10, public=False)], events=events)
    assert handoff_of(internal_only, NOW).pending is True
    assert handoff_of(ticket([comment("1", 200)]), NOW).event is None


# -- emotion ----------------------------------------------------------------------------------


def _emotion(scores: list[tuple[str, float, float]], **settings: object) -> Emotion:
    comments = [comment(str(i), 100 - i, text) for i, (text, _, _) in enumerate(scores)]
    context = stub_context(
        {text: (s, f) for text, s, f in scores},
        settings=FirewallSettings(emotion=EmotionSettings(**settings)),  # type: ignore[arg-type]
    )
    return enrich(ticket(comments), context).emotion


def test_trajectory_first_latest_delta_trend_and_negative_run() -> None:
    emotion = _emotion([("a", -0.1, 0.1), ("b", -0.5, 0.4), ("c", -0.6, 0.5)])
    assert emotion.customer_messages == 3
    assert (emotion.first, emotion.latest, emotion.min) == (-0.1, -0.6, -0.6)
    assert emotion.delta == pytest.approx(-0.5)
    assert emotion.mean == pytest.approx(-0.4)
    assert emotion.trend == pytest.approx(-0.25)
    assert emotion.consecutive_negative == 2
    assert emotion.turned_positive is False


def test_trend_uses_the_recent_window_only() -> None:
    scores = [("a", 0.9, 0), ("b", -0.9, 0), ("c", 0.0, 0), ("d", 0.1, 0), ("e", 0.2, 0)]
    assert _emotion(scores, trend_window=3).trend == pytest.approx(0.1)
    assert _emotion(scores[:1]).trend is None


def test_turned_positive_needs_a_negative_past_and_a_positive_latest() -> None:
    assert _emotion([("a", -0.6, 0.5), ("b", 0.5, 0.0)]).turned_positive is True
    assert _emotion([("a", -0.1, 0.1), ("b", 0.5, 0.0)]).turned_positive is False
    assert _emotion([("a", -0.6, 0.5), ("b", 0.2, 0.0)]).turned_positive is False  # not above
    assert _emotion([("a", 0.5, 0.0)]).turned_positive is False


def test_frustration_remembers_recent_messages_at_a_discount() -> None:
    emotion = _emotion([("a", -0.9, 0.9), ("b", -0.3, 0.2), ("c", -0.3, 0.3)])
    assert emotion.frustration == pytest.approx(0.72)  # 0.8 x 0.9 beats the latest 0.3
    assert emotion.frustration_level == "high"
    older = _emotion([("a", -0.9, 0.9), ("b", 0, 0.1), ("c", 0, 0.1), ("d", 0, 0.2)])
    assert older.frustration == pytest.approx(0.2)  # three messages back is forgotten
    turned = _emotion([("a", -0.9, 0.9), ("b", 0.6, 0.05)])
    assert turned.frustration == pytest.approx(0.05)  # a turnaround is taken at its word


@pytest.mark.parametrize(
    ("score", "level"),
    [
        (0.0, "none"),
        (0.2499, "none"),
        (0.25, "low"),
        (0.4499, "low"),
        (0.45, "medium"),
        (0.6999, "medium"),
        (0.7, "high"),
        (1.0, "high"),
    ],
)
def test_frustration_levels_at_their_default_bounds(score: float, level: str) -> None:
    assert frustration_level(score, EmotionSettings().frustration_levels) == level
    assert _emotion([("a", 0.0, score)]).frustration_level == level


def test_only_public_customer_messages_count() -> None:
    comments = [
        comment("1", 50, "calm"),
        comment("2", 40, "angry agent", role=Role.AGENT, author="a1"),
        comment("3", 30, "private", public=False),
        comment(
            "4",
            20,
            "",
        ),
    ]
    context = stub_context({"angry agent": (-1.0, 1.0), "private": (-1.0, 1.0), "calm": (0.1, 0.0)})
    emotion = enrich(ticket(comments), context).emotion
    assert emotion.customer_messages == 1
    assert emotion.latest == 0.1
    assert emotion.frustration == 0.0


def test_cues_are_counted_and_latest_kinds_come_from_the_latest_message() -> None:
    emotion = _emotion(
        [
            ("I will cancel my subscription", -0.8, 0.8),
            ("Still waiting, third time I ask", -0.8, 0.8),
        ]
    )
    assert "threat_cancel" in emotion.cue_kinds
    assert "threat_cancel" not in emotion.latest_kinds
    assert "repeat_contact" in emotion.latest_kinds


def test_no_customer_messages_is_a_blank_emotion() -> None:
    emotion = emotion_of([], EmotionSettings())
    assert (emotion.customer_messages, emotion.latest, emotion.trend) == (0, None, None)
    assert (emotion.frustration, emotion.frustration_level) == (0.0, "none")


def test_emotion_of_takes_message_signals_directly() -> None:
    messages = [MessageSignals("1", -0.5, 0.5, ()), MessageSignals("2", -0.4, 0.3, ())]
    emotion = emotion_of(messages, EmotionSettings(negative_below=-0.45))
    assert emotion.consecutive_negative == 0  # -0.4 is not below -0.45


# -- strain -----------------------------------------------------------------------------------

CARE = AgentCareSettings()


def _replies(*items: tuple[float, float]) -> list[Interaction]:
    """(minutes ago, weight) pairs, oldest first."""
    ordered = sorted(items, key=lambda item: -item[0])
    return [Interaction(f"k{i}", NOW - timedelta(minutes=m), w) for i, (m, w) in enumerate(ordered)]


def test_load_counts_hard_interactions_in_the_window() -> None:
    strain = strain_of(
        _replies((300, 1.0), (200, 0.9), (100, 0.44), (50, 0.45), (10, 0.0)), NOW, CARE
    )
    assert strain.tracked is True
    assert strain.hard_interactions == 2  # 0.9 and 0.45; 1.0 is outside 4 h, 0.44 is easy
    assert strain.load == pytest.approx(1.35)
    assert strain.load_ratio == pytest.approx(1.35 / 4)
    assert strain.overloaded is False


def test_overloaded_from_the_threshold_exactly() -> None:
    at = strain_of(_replies((200, 1.0), (150, 1.0), (100, 1.0), (50, 1.0)), NOW, CARE)
    assert (at.load, at.overloaded, at.needs_break) == (4.0, True, True)
    mixed = strain_of(_replies((200, 0.6), (150, 0.7), (100, 0.8), (60, 0.9), (50, 1.0)), NOW, CARE)
    assert (mixed.load, mixed.overloaded) == (4.0, True)
    below = strain_of(_replies((200, 1.0), (150, 1.0), (100, 1.0), (50, 0.99)), NOW, CARE)
    assert below.overloaded is False


def test_unbroken_stretch_ends_at_a_long_enough_pause() -> None:
    steady = _replies(*[(m, 0.0) for m in range(155, 0, -15)])  # every 15 min for 155 min
    strain = strain_of(steady, NOW, CARE)
    assert strain.unbroken_minutes == pytest.approx(155)
    assert strain.needs_break is True
    paused = _replies((155, 0.0), (140, 0.0), (100, 0.0), (85, 0.0), (70, 0.0), (5, 0.0))
    assert strain_of(paused, NOW, CARE).unbroken_minutes == pytest.approx(5)  # a fresh stretch
    gap = _replies((155, 0.0), (135, 0.0), (120, 0.0), (105, 0.0), (10, 0.0))
    assert strain_of(gap, NOW, CARE).unbroken_minutes == pytest.approx(10)
    idle = _replies((155, 0.0), (140, 0.0), (30, 0.0))
    assert strain_of(idle, NOW, CARE).unbroken_minutes == 0  # quiet for 30 min: resting
    twenty = _replies((60, 0.0), (40, 0.0), (25, 0.0), (10, 0.0))
    assert strain_of(twenty, NOW, CARE).unbroken_minutes == pytest.approx(40)  # 20 min is a break
    short = strain_of(_replies((145, 0.0), *[(m, 0.0) for m in range(130, 0, -15)]), NOW, CARE)
    assert short.needs_break is False


def test_strain_window_and_thresholds_follow_settings() -> None:
    care = AgentCareSettings(window_hours=1, overloaded_load=1.0, hard_interaction_at=0.3)
    strain = strain_of(_replies((90, 1.0), (30, 0.35), (20, 0.7)), NOW, care)
    assert strain.hard_interactions == 2
    assert strain.overloaded is True


def test_strain_is_not_tracked_without_opt_in() -> None:
    history = MemoryHistory()
    history.record_interactions("test::a1", _replies((60, 1.0), (50, 1.0), (40, 1.0), (30, 1.0)))
    out = Agent(id="a1", opt_in=AgentOptIns(strain_tracking=False, break_prompts=True))
    signals = enrich(ticket([comment("1", 10)], assignee=out), stub_context(history=history))
    assert signals.strain == NOT_TRACKED
    assert signals.headroom == ()
    inside = Agent(id="a1", opt_in=AgentOptIns(strain_tracking=True))
    signals = enrich(ticket([comment("1", 10)], assignee=inside), stub_context(history=history))
    assert signals.strain.tracked is True
    assert signals.strain.load == 4.0


def test_observe_records_work_only_for_opted_in_agents() -> None:
    comments = [
        comment("1", 60, "angry"),
        comment("2", 50, "Sorry!", role=Role.AGENT, author="a1"),
        comment("3", 40, "calm"),
        comment("4", 30, "Done.", role=Role.AGENT, author="a1"),
        comment("5", 20, "Colleague.", role=Role.AGENT, author="a2"),
    ]
    context = stub_context({"angry": (-0.9, 0.8), "calm": (0.3, 0.0)})
    tracked = Agent(id="a1", opt_in=AgentOptIns(strain_tracking=True))
    seen = observe(enrich(ticket(comments, assignee=tracked), context), CARE.hard_interaction_at)
    assert seen.agent_key == "test::a1"
    assert [(i.comment_key, i.weight) for i in seen.interactions] == [
        ("test::1#2", 0.9),
        ("test::1#4", 0.0),
    ]
    assert seen.past_ticket is not None
    assert seen.past_ticket.negative is True
    untracked = Agent(id="a1")
    seen = observe(enrich(ticket(comments, assignee=untracked), context), CARE.hard_interaction_at)
    assert (seen.agent_key, seen.interactions) == (None, ())


# -- customer memory --------------------------------------------------------------------------


def _past(key: str, days_ago: float, sentiment: float, negative: bool = False) -> PastTicket:
    return PastTicket(key, NOW - timedelta(days=days_ago), sentiment, negative)


def test_past_sentiment_decays_by_half_life() -> None:
    past = [_past("t:1", 30, -1.0, True), _past("t:2", 0, 1.0)]
    memory = memory_of(ticket(), past, NOW, CustomerFieldMapping(), MemorySettings())
    assert memory.past_sentiment == pytest.approx((-0.5 + 1.0) / 1.5, abs=1e-6)
    assert (memory.past_tickets, memory.past_negative_tickets) == (2, 1)
    assert memory.days_since_last_ticket == 0
    fast = memory_of(ticket(), past, NOW, CustomerFieldMapping(), MemorySettings(half_life_days=1))
    assert fast.past_sentiment == pytest.approx(1.0, abs=1e-6)


def test_the_current_ticket_and_future_tickets_are_not_memory() -> None:
    item = ticket()
    past = [_past(item.key, 2, -1.0, True), _past("t:9", -1, -1.0, True), _past("t:3", 10, 0.5)]
    memory = memory_of(item, past, NOW, CustomerFieldMapping(), MemorySettings())
    assert (memory.past_tickets, memory.past_sentiment) == (1, 0.5)
    assert memory.days_since_last_ticket == pytest.approx(10)
    empty = memory_of(item, [], NOW, CustomerFieldMapping(), MemorySettings())
    assert (empty.past_tickets, empty.past_sentiment, empty.days_since_last_ticket) == (
        0,
        None,
        None,
    )


def test_field_mapping_and_tier_aliases() -> None:
    mapping = CustomerFieldMapping(
        tier_field="plan",
        lifetime_value_field="ltv",
        order_count_field="orders",
        tier_aliases={"VIP": "Platinum"},
    )
    customer = Customer(id="c1", fields={"plan": " vip ", "orders": "12"})
    item = ticket(requester=customer, custom_fields={"ltv": "1200.50", "plan": "gold"})
    memory = memory_of(item, [], NOW, mapping, MemorySettings())
    assert (memory.tier, memory.lifetime_value, memory.order_count) == ("platinum", 1200.5, 12)
    direct = Customer(
        id="c1", loyalty_tier="Gold", lifetime_value=10, order_count=1, fields={"plan": "vip"}
    )
    memory = memory_of(ticket(requester=direct), [], NOW, mapping, MemorySettings())
    assert (memory.tier, memory.lifetime_value, memory.order_count) == ("gold", 10, 1)
    junk = Customer(id="c1", fields={"ltv": "lots", "orders": True})
    memory = memory_of(ticket(requester=junk), [], NOW, mapping, MemorySettings())
    assert (memory.tier, memory.lifetime_value, memory.order_count) == (None, None, None)


# -- service recovery -------------------------------------------------------------------------

POLICY = RecoveryPolicy()
_CALM = emotion_of([MessageSignals("1", 0.0, 0.0, ())], EmotionSettings())
_SMOOTH = friction_of(ticket([comment("1", 10)]), NOW, FRICTION)
_NEW = CustomerMemory("gold", None, None, 0, 0, None, None)


def _recovery(
    friction: Friction = _SMOOTH, memory: CustomerMemory = _NEW, emotion: Emotion = _CALM
) -> tuple[str, tuple[str, ...], float | None]:
    found = recovery_of(emotion, friction, memory, POLICY)
    return found.severity, found.reasons, found.credit


def test_severity_steps_with_the_number_of_reasons() -> None:
    assert _recovery() == ("none", (), None)
    assert _recovery(replace(_SMOOTH, breached=True)) == ("minor", ("sla_breach",), None)
    two = replace(_SMOOTH, breached=True, reopens=1)
    assert _recovery(two) == ("moderate", ("sla_breach", "reopened"), 12.5)
    three = replace(_SMOOTH, breached=True, reopens=2, reassignments=2)
    assert _recovery(three) == ("severe", ("sla_breach", "reopened", "repeated_contact"), 25.0)


def test_negative_turn_and_threats_are_reasons() -> None:
    turned = emotion_of(
        [MessageSignals("1", 0.2, 0.0, ()), MessageSignals("2", -0.4, 0.4, ())], EmotionSettings()
    )
    assert _recovery(emotion=turned)[1] == ("negative_turn",)
    slightly = emotion_of(
        [MessageSignals("1", 0.2, 0.0, ()), MessageSignals("2", -0.2, 0.2, ())], EmotionSettings()
    )
    assert _recovery(emotion=slightly)[0] == "none"
    legal = _emotion([("I will call my lawyer", -0.8, 0.9)])
    assert _recovery(emotion=legal)[:2] == ("severe", ("threat",))  # legal is always severe


def test_strained_history_moves_severity_up_one_step() -> None:
    strained = replace(_NEW, past_tickets=2, past_negative_tickets=1)
    assert _recovery(replace(_SMOOTH, reopens=1), strained)[0] == "moderate"
    sour = replace(_NEW, past_tickets=2, past_sentiment=-0.3)
    assert recovery_of(_CALM, replace(_SMOOTH, reopens=1), sour, POLICY).history == "strained"
    good = replace(_NEW, past_tickets=2, past_sentiment=0.4)
    found = recovery_of(_CALM, replace(_SMOOTH, reopens=1), good, POLICY)
    assert (found.history, found.severity) == ("good", "minor")
    assert _recovery(memory=strained)[0] == "none"  # no reason, no bump


@pytest.mark.parametrize(
    ("tier", "moderate", "severe"),
    [
        ("gold", 12.5, 25.0),
        ("platinum", 50.0, 50.0),  # a valued tier: moderate becomes severe
        ("silver", 5.0, 10.0),
        ("standard", None, None),
        (None, None, None),
        ("diamond", None, None),
    ],
)
def test_credit_is_capped_by_tier(
    tier: str | None, moderate: float | None, severe: float | None
) -> None:
    memory = replace(_NEW, tier=tier)
    assert _recovery(replace(_SMOOTH, breached=True, reopens=1), memory)[2] == moderate
    assert (
        _recovery(replace(_SMOOTH, breached=True, reopens=1, reassignments=3), memory)[2] == severe
    )
    minor = _recovery(replace(_SMOOTH, breached=True), memory)
    if tier == "platinum":  # one step up for a valued customer: moderate, half the cap
        assert minor[0] == "moderate"
        assert minor[2] == 25.0
    else:
        assert minor[2] is None  # minor: no credit


def test_recovery_policy_settings_apply() -> None:
    policy = RecoveryPolicy(credit_cap={"standard": 4.0}, currency="GBP")
    found = recovery_of(
        _CALM, replace(_SMOOTH, breached=True, reopens=1), replace(_NEW, tier=None), policy
    )
    assert (found.credit, found.currency) == (2.0, "GBP")
    assert found.gesture is not None
    assert "a committed follow-up time" in found.gesture


def test_strain_reads_the_history_it_is_given() -> None:
    """Two histories with the same agent and comment keys but different weights (two
    tenants, two test cases, a replay) must not share a computed strain."""
    agent = Agent(id="a1", opt_in=AgentOptIns(strain_tracking=True))
    loads = []
    for weight in (1.0, 0.5, 1.0):
        history = MemoryHistory()
        history.record_interactions("test::a1", _replies(*[(m, weight) for m in (80, 60, 40, 20)]))
        signals = enrich(ticket([comment("1", 10)], assignee=agent), stub_context(history=history))
        loads.append(signals.strain.load)
    assert loads == [4.0, 2.0, 4.0]
