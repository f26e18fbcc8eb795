"""The kit's change builder and outcome bookkeeping: one set of rules for every vendor."""

from __future__ import annotations

from empathy_firewall.actions import (
    AddTags,
    AgentPrompt,
    ApplyMacro,
    InternalNote,
    PublicReply,
    RemoveTags,
    SetPriority,
)
from empathy_firewall.connectors import markers_in
from empathy_firewall.connectors.change import LATER_PRIORITY_WON, merge_tags, ticket_change
from empathy_firewall.connectors.outcome import Outcome
from empathy_firewall.models import Priority, SourceRef
from empathy_firewall.testing.plans import make_plan

REF = SourceRef(connector="x", external_id="7", account="acme")


def test_a_tag_added_and_removed_is_added_and_blanks_are_stripped() -> None:
    plan = make_plan(REF, [AddTags(tags=(" ef_a ", "ef_b")), RemoveTags(tags=("ef_a", "ef_c"))])
    change = ticket_change(plan, vendor="X")
    assert change.add_tags == ("ef_a", "ef_b")
    assert change.remove_tags == ("ef_c",)
    assert change.tag_keys == tuple(p.key for p in plan.actions)


def test_the_last_priority_change_wins_and_the_earlier_one_is_reported() -> None:
    plan = make_plan(
        REF, [SetPriority(priority=Priority.HIGH), SetPriority(priority=Priority.URGENT)]
    )
    change = ticket_change(plan, vendor="X")
    first, last = (p.key for p in plan.actions)
    assert change.priority is Priority.URGENT
    assert change.field_keys == (last,)
    assert [(o.key, o.reason) for o in change.unsupported] == [(first, LATER_PRIORITY_WON)]


def test_note_sections_end_with_their_marker_in_the_vendor_markup() -> None:
    plan = make_plan(REF, [InternalNote(body="one"), InternalNote(body="two")])
    change = ticket_change(plan, vendor="X", mark=lambda text, marker: f"<p>{text}</p>{marker}")
    for key, section in change.notes:
        assert section.endswith(f"[empathy-firewall:{key}]")
        assert section.startswith("<p>")
        assert markers_in(section) == {key}


def test_what_the_vendor_does_not_write_comes_back_as_outcomes() -> None:
    plan = make_plan(
        REF,
        [
            ApplyMacro(macro="42"),
            PublicReply(body="hi"),
            AgentPrompt(agent_id="5", body="take a break"),
        ],
    )
    plain = ticket_change(plan, vendor="RT")
    assert [o.key for o in plain.unsupported] == [p.key for p in plan.actions]
    assert "RT connector does not write apply_macro" in plain.unsupported[0].reason
    full = ticket_change(plan, vendor="Zendesk", macros=True, public_replies=True)
    assert full.macro_keys == (plan.actions[0].key,)
    assert full.public_reply == (plan.actions[1].key, "hi")
    assert [o.key for o in full.unsupported] == [plan.actions[2].key]
    assert full.without_keys([plan.actions[1].key]).public_reply is None


def test_merge_keeps_foreign_tags_in_order() -> None:
    assert merge_tags(["vip", "old", "ef_b"], ["ef_a"], ["ef_b"]) == ("vip", "old", "ef_a")


def test_an_outcome_settles_each_key_once() -> None:
    outcome = Outcome()
    outcome.applied += ["a", "a"]
    outcome.already += ["a", "b"]
    outcome.skip(["a", "b", "c"], "gone")
    result = outcome.result(REF)
    assert result.applied == ("a",)
    assert result.already == ("b",)
    assert [(o.key, o.reason) for o in result.skipped] == [("c", "gone")]
