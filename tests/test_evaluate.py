"""Evaluation: deterministic plans, merging into one coherent change, gates, idempotency
keys, Python extensions, and explanations that never leak an agent's private signals.

Texts are analysed by a stub (see ``_engine_support``), so nothing here depends on the
fitted sentiment scorer.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from _engine_support import NOW, comment, load_pack, stub_context, ticket

from empathy_firewall.actions import (
    AddTags,
    DraftReply,
    InternalNote,
    Plan,
    PublicReply,
    RemoveTags,
    SetPriority,
)
from empathy_firewall.engine.evaluate import Engine, record_plan
from empathy_firewall.engine.loader import load_rule_packs
from empathy_firewall.engine.registry import default_registry
from empathy_firewall.errors import RulePackError
from empathy_firewall.models import Agent, AgentOptIns, Customer, Priority, Role, TicketStatus
from empathy_firewall.pipeline import Pipeline
from empathy_firewall.settings import FirewallSettings, ReplySettings
from empathy_firewall.signals.enrich import Signals, observation_of
from empathy_firewall.signals.history import MemoryHistory
from empathy_firewall.signals.memory import PastTicket
from empathy_firewall.signals.strain import Interaction
from empathy_firewall.sync.decide import learn
from empathy_firewall.ticketfile import iter_tickets

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "sample_helpdesk.jsonl"

MERGE_PACK = """\
pack: merge
rules:
  - id: alpha
    priority: 60
    when: {ticket.is_open: true}
    actions:
      - add_tags: [t_alpha, t_shared]
      - remove_tags: [t_old, t_beta]
      - internal_note: Alpha says hello.
      - set_priority: high
      - draft_reply: Draft from alpha.
  - id: beta
    priority: 50
    when: {ticket.is_open: true}
    actions:
      - add_tags: [t_beta, t_shared]
      - remove_tags: [t_old, t_absent]
      - internal_note: Beta says hello.
      - set_priority: urgent
      - public_reply: Public from beta.
  - id: quiet
    priority: 40
    when: {ticket.is_open: false}
    actions:
      - add_tags: [t_never]
"""


def _only(plan: Plan, kind: str) -> object:
    found = plan.of_kind(kind)  # type: ignore[arg-type]
    assert len(found) == 1, [p.action.kind for p in plan.actions]
    return found[0].action


@pytest.fixture
def merged(tmp_path: Path) -> Plan:
    rules = load_pack(tmp_path, MERGE_PACK)
    item = ticket([comment("1", 30, "Where is my parcel?")], tags=("t_beta", "t_old"))
    return Engine(rules).evaluate(item, stub_context())


def test_tags_are_one_union_minus_present_and_remove_only_present(merged: Plan) -> None:
    add = _only(merged, "add_tags")
    remove = _only(merged, "remove_tags")
    assert isinstance(add, AddTags)
    assert isinstance(remove, RemoveTags)
    assert add.tags == ("t_alpha", "t_shared")  # t_beta is already there
    assert remove.tags == ("t_old",)  # t_absent is not there; t_beta is being added


def test_one_internal_note_combines_every_rule_with_its_reasons(merged: Plan) -> None:
    note = _only(merged, "internal_note")
    assert isinstance(note, InternalNote)
    body = note.body
    assert body.index("Alpha says hello.") < body.index("Beta says hello.")
    assert "\n\n---\n\n" in body
    footer = body.split("Why empathy-firewall added this:\n", 1)[1]
    # one "why" line per rule, and the switch-off hint once for the whole note
    assert footer.splitlines() == [
        "- alpha (merge): ticket.is_open = true.",
        "- beta (merge): ticket.is_open = true.",
        "To switch one of these off: set `enabled: false` on it in pack 'merge' (pack.yaml).",
    ]
    assert body.count("To switch") == 1
    [planned] = merged.of_kind("internal_note")
    assert [m.rule_id for m in planned.because] == ["alpha", "beta"]


def test_highest_priority_rule_sets_the_priority(merged: Plan) -> None:
    action = _only(merged, "set_priority")
    assert isinstance(action, SetPriority)
    assert action.priority is Priority.HIGH
    reasons = {s.rule_id: s.reason for s in merged.suppressed}
    assert reasons["beta"] in {
        "alpha (higher priority) already sets the priority",
        "alpha (higher priority) already sets the customer-facing text",
    }


def test_at_most_one_customer_facing_text(merged: Plan) -> None:
    draft = _only(merged, "draft_reply")
    assert isinstance(draft, DraftReply)
    assert draft.body == "Draft from alpha."
    assert merged.of_kind("public_reply") == ()
    reasons = [s.reason for s in merged.suppressed if s.rule_id == "beta"]
    assert "alpha (higher priority) already sets the customer-facing text" in reasons
    assert "alpha (higher priority) already sets the priority" in reasons


def test_plan_order_matches_and_only_firing_rules(merged: Plan) -> None:
    kinds = [p.action.kind for p in merged.actions]
    assert kinds == ["remove_tags", "add_tags", "set_priority", "internal_note", "draft_reply"]
    assert [m.rule_id for m in merged.matches] == ["alpha", "beta"]


def test_priority_already_in_place_is_not_planned(tmp_path: Path) -> None:
    rules = load_pack(tmp_path, MERGE_PACK)
    item = ticket([comment("1", 30)], priority=Priority.HIGH)
    plan = Engine(rules).evaluate(item, stub_context())
    action = _only(plan, "set_priority")
    assert isinstance(action, SetPriority)
    assert action.priority is Priority.URGENT  # alpha's "high" is no change; beta's applies


PUBLIC_PACK = """\
pack: replies
rules:
  - id: pub
    when: {friction.waiting: true}
    actions:
      - public_reply: "Hi {{ customer.first_name }}, we are on it."
"""


@pytest.mark.parametrize(
    ("replies", "kind"),
    [
        (ReplySettings(), "draft_reply"),
        (ReplySettings(allow_public_replies=True), "public_reply"),
        (ReplySettings(allow_public_replies=True, public_reply_rules=("pub",)), "public_reply"),
        (ReplySettings(allow_public_replies=True, public_reply_rules=("other",)), "draft_reply"),
        (ReplySettings(allow_public_replies=False, public_reply_rules=("pub",)), "draft_reply"),
    ],
)
def test_public_reply_is_a_draft_unless_allowed_for_the_rule(
    tmp_path: Path, replies: ReplySettings, kind: str
) -> None:
    rules = load_pack(tmp_path, PUBLIC_PACK)
    settings = FirewallSettings(replies=replies)
    plan = Engine(rules).evaluate(ticket([comment("1", 30)]), stub_context(settings=settings))
    [planned] = [p for p in plan.actions if p.action.kind in ("draft_reply", "public_reply")]
    assert planned.action.kind == kind
    assert isinstance(planned.action, DraftReply | PublicReply)
    assert planned.action.body == "Hi Dana, we are on it."


# -- determinism and idempotency --------------------------------------------------------------


def test_same_input_gives_the_identical_plan_json(tmp_path: Path) -> None:
    rules = load_pack(tmp_path, MERGE_PACK)
    item = ticket([comment("1", 30, "Where is my parcel?")], tags=("t_beta", "t_old"))
    first = Engine(rules).evaluate(item, stub_context()).model_dump_json()
    second = Engine(rules).evaluate(item, stub_context()).model_dump_json()
    assert first == second
    assert list(json.loads(first)) == ["ticket", "evaluated_at", "actions", "matches", "suppressed"]


def test_the_default_pack_is_deterministic_on_the_sample_tickets() -> None:
    engine = Engine(load_rule_packs(include_python_rules=False))
    tickets = list(iter_tickets(SAMPLE))[:120]
    for item in tickets:
        context = stub_context({c.text: (-0.7, 0.8) for c in item.comments if "!" in c.text})
        first = engine.evaluate(item, context).model_dump_json()
        assert engine.evaluate(item, context).model_dump_json() == first


GATES_PACK = """\
pack: gates
rules:
  - id: once
    once_per_ticket: true
    when: {ticket.is_open: true}
    actions: [{add_tags: [t_once]}]
  - id: cool
    cooldown: 2h
    when: {ticket.is_open: true}
    actions: [{internal_note: "Cool note."}]
  - id: per-agent
    cooldown: 2h
    cooldown_per: agent
    when: {agent.assigned: true}
    actions: [{internal_note: "Agent note."}]
  - id: per-customer
    cooldown: 1d
    cooldown_per: customer
    when: {ticket.is_open: true}
    actions: [{add_tags: [t_customer]}]
  - id: epi
    episode: friction.waiting_since
    when: {friction.waiting: true}
    actions: [{add_tags: [t_waiting]}]
"""


def _fired(plan: Plan) -> set[str]:
    return {m.rule_id for m in plan.matches}


def _held(plan: Plan) -> dict[str, str]:
    return {s.rule_id: s.reason for s in plan.suppressed}


def test_gates_hold_back_what_already_acted(tmp_path: Path) -> None:
    engine = Engine(load_pack(tmp_path, GATES_PACK))
    history = MemoryHistory()
    agent = Agent(id="a1", name="Priya Raman")
    item = ticket([comment("1", 30)], assignee=agent)
    first = engine.evaluate(item, stub_context(history=history))
    assert _fired(first) == {"once", "cool", "per-agent", "per-customer", "epi"}
    record_plan(history, first)

    later = engine.evaluate(item, stub_context(history=history, now=NOW + timedelta(hours=1)))
    assert _fired(later) == set()
    held = _held(later)
    assert held["once"].startswith("acts once per ticket; already acted at")
    assert held["cool"].startswith("cooling down (2h) until 2026-11-20T17:00:00")
    assert held["per-agent"].startswith("cooling down (2h)")
    assert held["per-customer"].startswith("cooling down (1d)")
    assert held["epi"] == (
        "already acted for this episode (friction.waiting_since = 2026-11-20T14:30:00+00:00)"
    )

    much_later = engine.evaluate(item, stub_context(history=history, now=NOW + timedelta(hours=3)))
    assert _fired(much_later) == {"cool", "per-agent"}
    assert set(_held(much_later)) == {"once", "per-customer", "epi"}


def test_a_new_waiting_episode_acts_again(tmp_path: Path) -> None:
    engine = Engine(load_pack(tmp_path, GATES_PACK))
    history = MemoryHistory()
    item = ticket([comment("1", 300)])
    record_plan(history, engine.evaluate(item, stub_context(history=history)))
    answered = ticket(
        [
            comment("1", 300),
            comment("2", 200, "On it.", role=Role.AGENT, author="a1"),
            comment("3", 60, "Any news?"),
        ]
    )
    plan = engine.evaluate(answered, stub_context(history=history))
    assert "epi" in _fired(plan)
    assert plan.matches[-1].episode == "2026-11-20T14:00:00+00:00"


def test_cooldown_per_agent_spans_tickets_and_not_agents(tmp_path: Path) -> None:
    engine = Engine(load_pack(tmp_path, GATES_PACK))
    history = MemoryHistory()
    priya = Agent(id="a1", name="Priya Raman")
    sam = Agent(id="a2", name="Sam Lee")
    first = engine.evaluate(
        ticket([comment("1", 30)], assignee=priya), stub_context(history=history)
    )
    record_plan(history, first)
    [match] = [m for m in first.matches if m.rule_id == "per-agent"]
    assert match.scope == "agent:test::a1"

    other_ticket = ticket([comment("1", 30)], external_id="2", requester="c2", assignee=priya)
    plan = engine.evaluate(other_ticket, stub_context(history=history))
    assert "per-agent" in _held(plan)
    assert {"once", "cool", "per-customer"} <= _fired(plan)  # per ticket / other customer

    other_agent = ticket([comment("1", 30)], external_id="3", requester="c3", assignee=sam)
    assert "per-agent" in _fired(engine.evaluate(other_agent, stub_context(history=history)))


def test_cooldown_per_customer_spans_their_tickets(tmp_path: Path) -> None:
    engine = Engine(load_pack(tmp_path, GATES_PACK))
    history = MemoryHistory()
    record_plan(history, engine.evaluate(ticket([comment("1", 30)]), stub_context(history=history)))
    same_customer = ticket([comment("1", 30)], external_id="2")
    assert "per-customer" in _held(engine.evaluate(same_customer, stub_context(history=history)))
    other = ticket([comment("1", 30)], external_id="3", requester="c9")
    assert "per-customer" in _fired(engine.evaluate(other, stub_context(history=history)))


def test_rules_gated_per_agent_or_customer_act_on_their_latest_conversation(
    tmp_path: Path,
) -> None:
    """With the history observed first (a sync page), which ticket carries a rule gated per
    agent or customer depends on the data: the agent's latest reply, the customer's latest
    message; never on which ticket is evaluated first."""
    engine = Engine(load_pack(tmp_path, GATES_PACK))
    priya = Agent(id="a1", name="Priya Raman", opt_in=AgentOptIns(strain_tracking=True))
    older = ticket([comment("1", 90)], assignee=priya)
    newer = ticket([comment("1", 20)], external_id="2", assignee=priya)
    carriers = {}
    for order in ((older, newer), (newer, older)):
        history = MemoryHistory()
        history.record_interactions(
            "test::a1",
            [
                Interaction(f"{older.key}#r", NOW - timedelta(minutes=60), 0.0),
                Interaction(f"{newer.key}#r", NOW - timedelta(minutes=10), 0.0),
            ],
        )
        for item in order:
            history.record_ticket(
                "test::c1", PastTicket(item.key, item.comments[-1].created_at, 0.0, False)
            )
        context = replace(stub_context(history=history), observed_first=True)
        fired: dict[str, str] = {}
        for item in order:
            plan = engine.evaluate(item, context)
            record_plan(history, plan)
            fired.update({m.rule_id: item.key for m in plan.matches if m.scope != item.key})
            held = _held(plan)
            if item is older:
                assert (
                    held["per-agent"]
                    == f"acts on the ticket with the agent's latest reply ({newer.key})"
                )
        carriers[order[0].key] = fired
    assert (
        carriers[older.key]
        == carriers[newer.key]
        == {
            "per-agent": newer.key,
            "per-customer": newer.key,
        }
    )
    # without the history observed first (a bare evaluate, the offline pipeline), the first
    # matching ticket carries it, as the gates always did
    history = MemoryHistory()
    history.record_interactions("test::a1", [Interaction(f"{newer.key}#r", NOW, 0.0)])
    assert "per-agent" in _fired(engine.evaluate(older, stub_context(history=history)))


def test_a_ticket_reassigned_since_the_agents_latest_reply_no_longer_carries_their_rule(
    tmp_path: Path,
) -> None:
    """Priya's latest reply is on a ticket since reassigned to Sam: that ticket is evaluated
    for Sam, so Priya's rule gated per agent acts on her latest reply among the tickets
    still hers (before, it was held back everywhere: "acts on the ticket with the agent's
    latest reply" named the ticket that is Sam's now)."""
    engine = Engine(load_pack(tmp_path, GATES_PACK))
    opted = AgentOptIns(strain_tracking=True)
    priya = Agent(id="a1", name="Priya Raman", opt_in=opted)
    sam = Agent(id="a2", name="Sam Lee", opt_in=opted)
    reply = {"role": Role.AGENT, "author": "a1"}
    hers = ticket([comment("1", 90), comment("2", 60, **reply)], assignee=priya)
    moved = ticket(
        [comment("1", 40), comment("2", 10, **reply)], external_id="2", requester="c2", assignee=sam
    )
    history = MemoryHistory()
    # what an earlier page taught: Priya's reply on ticket 2 while it was hers
    history.record_interactions(
        "test::a1", [Interaction(f"{moved.key}#2", NOW - timedelta(minutes=10), 0.0)]
    )
    context = replace(stub_context(history=history), observed_first=True)
    for item in (hers, moved):  # this page, observed before any of it is evaluated
        learn(history, observation_of(item, context, 0.5))
    plan = engine.evaluate(hers, context)
    assert "per-agent" in _fired(plan), _held(plan)
    [match] = [m for m in plan.matches if m.rule_id == "per-agent"]
    assert match.scope == "agent:test::a1"
    # back with Priya, ticket 2 carries her rule again: the data decides, as last observed
    back = moved.model_copy(update={"assignee": priya})
    learn(history, observation_of(back, context, 0.5))
    assert _held(engine.evaluate(hers, context))["per-agent"] == (
        f"acts on the ticket with the agent's latest reply ({moved.key})"
    )


def test_disabled_rules_never_act(tmp_path: Path) -> None:
    rules = load_pack(
        tmp_path, GATES_PACK.replace("  - id: cool\n", "  - id: cool\n    enabled: false\n")
    )
    plan = Engine(rules).evaluate(ticket([comment("1", 30)]), stub_context())
    assert "cool" not in _fired(plan)
    assert "cool" not in _held(plan)


def test_idempotency_keys_are_stable_until_something_new_happens(tmp_path: Path) -> None:
    engine = Engine(load_pack(tmp_path, GATES_PACK + MERGE_PACK.split("rules:\n", 1)[1]))
    item = ticket([comment("1", 30)], tags=("t_old",))
    first = engine.evaluate(item, stub_context())
    later = engine.evaluate(item, stub_context(now=NOW + timedelta(minutes=40)))
    assert [p.key for p in first.actions] == [p.key for p in later.actions]
    assert all(p.key.startswith("ef1-") for p in first.actions)
    assert len({p.key for p in first.actions}) == len(first.actions)

    newer = ticket([comment("1", 30), comment("2", 10, "Hello again")], tags=("t_old",))
    after_comment = engine.evaluate(newer, stub_context())
    keys = {p.action.kind: p.key for p in first.actions}
    new_keys = {p.action.kind: p.key for p in after_comment.actions}
    assert new_keys["add_tags"] == keys["add_tags"]  # same tags, same change
    assert new_keys["internal_note"] != keys["internal_note"]  # a new turn, a new note


def test_once_per_ticket_actions_keep_their_key_across_comments(tmp_path: Path) -> None:
    pack = """\
pack: once
rules:
  - id: welcome
    once_per_ticket: true
    when: {ticket.is_open: true}
    actions: [{internal_note: "Welcome note."}]
"""
    engine = Engine(load_pack(tmp_path, pack))
    first = engine.evaluate(ticket([comment("1", 30)]), stub_context())
    second = engine.evaluate(ticket([comment("1", 30), comment("2", 5)]), stub_context())
    assert first.actions[0].key == second.actions[0].key


def test_every_action_says_why(tmp_path: Path) -> None:
    plans = [
        Engine(load_pack(tmp_path, MERGE_PACK)).evaluate(
            ticket([comment("1", 30)], tags=("t_old",)), stub_context()
        )
    ]
    engine = Engine(load_rule_packs(include_python_rules=False))
    pipeline = Pipeline(engine)
    last = max(t.last_activity_at for t in iter_tickets(SAMPLE))
    plans.extend(p.plan for p in pipeline.run(iter_tickets(SAMPLE), last))
    actions = [p for plan in plans for p in plan.actions]
    assert len(actions) > 100
    for plan in plans:
        fired = {m.rule_id for m in plan.matches}
        for planned in plan.actions:
            assert planned.because
            assert {m.rule_id for m in planned.because} <= fired
            for match in planned.because:
                assert match.rule_id
                assert match.pack
                assert match.disable_hint.startswith("set `enabled: false` on rule")
    kinds = {p.action.kind for p in actions}
    assert {"add_tags", "internal_note", "draft_reply", "agent_prompt"} <= kinds


# -- privacy ----------------------------------------------------------------------------------

PRIVATE_PACK = """\
pack: care
rules:
  - id: strained-note
    priority: 60
    when:
      all:
        - agent.tracked: true
        - agent.load: {gte: 1}
        - frustration.level: high
    actions:
      - internal_note: This customer is upset; take a moment before replying.
  - id: break
    priority: 50
    when: {agent.needs_break: true}
    actions:
      - agent_prompt: "You handled {{ strain.hard_interactions }} hard ones."
"""


def _strained_agent_plan(tmp_path: Path, pack: str) -> Plan:
    """``pack`` evaluated on an angry ticket of an opted-in agent with 5 hard replies."""
    engine = Engine(load_pack(tmp_path, pack))
    history = MemoryHistory()
    agent = Agent(id="a1", name="Priya Raman", opt_in=AgentOptIns(strain_tracking=True))
    item = ticket([comment("1", 10, "This is a disgrace")], assignee=agent)
    history.record_interactions(
        "test::a1", [Interaction(f"k{i}", NOW - timedelta(minutes=20 * i), 1.0) for i in range(5)]
    )
    return engine.evaluate(item, stub_context({"This is a disgrace": (-0.9, 0.9)}, history=history))


def test_private_evidence_never_reaches_the_note(tmp_path: Path) -> None:
    plan = _strained_agent_plan(tmp_path, PRIVATE_PACK)
    assert _fired(plan) == {"strained-note", "break"}
    note = _only(plan, "internal_note")
    assert isinstance(note, InternalNote)
    assert "agent." not in note.body
    assert "frustration.level = high" in note.body
    assert "- break (care)" not in note.body  # a private prompt is not explained in public
    [match] = [m for m in plan.matches if m.rule_id == "strained-note"]
    private = {e.path for e in match.evidence if e.private}
    assert private == {"agent.tracked", "agent.load"}
    prompt = _only(plan, "agent_prompt")
    assert prompt.agent_id == "a1"  # type: ignore[attr-defined]
    assert prompt.body == "You handled 5 hard ones."  # type: ignore[attr-defined]


def test_a_pack_rule_whose_evidence_is_all_private_is_not_called_a_python_rule(
    tmp_path: Path,
) -> None:
    pack = PRIVATE_PACK.replace("        - frustration.level: high\n", "")
    plan = _strained_agent_plan(tmp_path, pack)
    note = _only(plan, "internal_note")
    assert isinstance(note, InternalNote)
    assert "- strained-note (care): conditions not shown." in note.body
    assert "Python rule" not in note.body
    assert "agent." not in note.body


# -- Python extensions ------------------------------------------------------------------------

ACME_PACK = """\
pack: acme
rules:
  - id: refund-words
    when:
      all:
        - condition: {name: subject_mentions, args: {word: refund}}
        - ticket.is_open: true
    actions:
      - add_tags: [acme_refund]
"""


def test_python_rules_and_conditions_on_an_isolated_registry(tmp_path: Path) -> None:
    registry = default_registry.copy()

    @registry.condition("subject_mentions")
    def subject_mentions(signals: Signals, word: str) -> bool:
        """The subject mentions a word."""
        return word in signals.ticket.subject.lower()

    @registry.rule("acme-platinum", pack="acme", priority=70)
    def acme_platinum(signals: Signals) -> list[AddTags | InternalNote] | None:
        """Greet platinum customers."""
        if signals.memory.tier != "platinum":
            return None
        return [AddTags(tags=("acme_vip",)), InternalNote(body="Platinum customer.")]

    rules = load_pack(tmp_path, ACME_PACK, registry=registry)
    assert [r.id for r in rules.rules] == ["acme-platinum", "refund-words"]
    item = ticket(
        [comment("1", 30)],
        subject="Refund please",
        requester=Customer(id="c1", name="Dana Whitfield", loyalty_tier="Platinum"),
    )
    plan = Engine(rules).evaluate(item, stub_context())
    assert [m.rule_id for m in plan.matches] == ["acme-platinum", "refund-words"]
    tags = _only(plan, "add_tags")
    assert isinstance(tags, AddTags)
    assert tags.tags == ("acme_vip", "acme_refund")
    note = _only(plan, "internal_note")
    assert isinstance(note, InternalNote)
    assert "- acme-platinum (acme): Python rule.\n" in note.body
    assert "unregister Python rule 'acme-platinum'" in note.body
    assert note.body.count("To switch") == 1

    # the default registry learnt nothing
    assert "subject_mentions" not in default_registry.conditions
    assert "acme-platinum" not in default_registry.rules
    with pytest.raises(RulePackError, match="unknown condition 'subject_mentions'"):
        load_pack(tmp_path, ACME_PACK, name="again.yaml")


def test_condition_arguments_are_checked_against_the_signature(tmp_path: Path) -> None:
    registry = default_registry.copy()

    @registry.condition("subject_mentions")
    def subject_mentions(signals: Signals, word: str) -> bool:
        return word in signals.ticket.subject

    with pytest.raises(RulePackError) as caught:
        load_pack(tmp_path, ACME_PACK.replace("word: refund", "word: 3"), registry=registry)
    [problem] = caught.value.problems
    assert problem.field == "rules[0].when.all[0].condition.args.word"
    assert problem.message == "expects str, got 3"


def test_solved_tickets_are_not_open(tmp_path: Path) -> None:
    rules = load_pack(tmp_path, MERGE_PACK)
    plan = Engine(rules).evaluate(
        ticket([comment("1", 30)], status=TicketStatus.SOLVED), stub_context()
    )
    assert _fired(plan) == {"quiet"}
    tags = _only(plan, "add_tags")
    assert isinstance(tags, AddTags)
    assert tags.tags == ("t_never",)
