"""The dry run: exactly the writes apply sends (nothing written), HTML safety, marker
placement, bulk grouping."""

from __future__ import annotations

from freshdesk_plans import plan
from hypothesis import given
from hypothesis import strategies as st

from empathy_firewall.actions import (
    AddTags,
    AgentPrompt,
    DraftReply,
    InternalNote,
    RoutingSuggestion,
    SetPriority,
)
from empathy_firewall.connectors import markers_in
from empathy_firewall.connectors.change import merge_tags
from empathy_firewall.connectors.notes import DRAFT_HEADING
from empathy_firewall.models import Priority
from empathy_firewall_freshdesk import FreshdeskConnector
from empathy_firewall_freshdesk.apply import bulk_groups, ticket_change
from empathy_firewall_freshdesk.testing import FakeFreshdesk

FAKE = FakeFreshdesk()
IDS = [str(FAKE.add_ticket(subject=f"t{n}", tags=("vip",))) for n in range(5)]


def connector() -> FreshdeskConnector:
    return FAKE.connect(FreshdeskConnector)


def test_render_shows_the_merged_update_and_the_note_without_credentials() -> None:
    p = plan(
        IDS[0],
        AddTags(tags=("ef_frustrated",)),
        InternalNote(body="Third contact."),
        SetPriority(priority=Priority.URGENT),
    )
    before = FAKE.snapshot()
    requests = connector().render([p])
    assert FAKE.snapshot() == before
    assert [(r.method, r.path) for r in requests] == [
        ("PUT", f"/api/v2/tickets/{IDS[0]}"),
        ("POST", f"/api/v2/tickets/{IDS[0]}/notes"),
    ]
    assert requests[0].json_body == {"tags": ["vip", "ef_frustrated"], "priority": 4}
    note = requests[1].json_body
    assert note["private"] is True
    assert markers_in(note["body"]) == {p.actions[1].key}
    assert all(not r.headers for r in requests)


def test_customer_words_are_escaped_and_drafts_are_headed() -> None:
    p = plan(IDS[1], DraftReply(body="<script>alert(1)</script> & thanks"))
    (request,) = connector().render([p])
    body = request.json_body["body"]
    assert "<script>" not in body
    assert "&lt;script&gt;" in body
    assert DRAFT_HEADING.split(" (")[0] in body
    assert "Why: frustration.repeat_contact (core)" in body


def test_routing_suggestion_is_a_note_section() -> None:
    p = plan(IDS[1], RoutingSuggestion(reason="needs billing", prefer_group="Billing"))
    (request,) = connector().render([p])
    assert "Prefer group: Billing" in request.json_body["body"]


def test_agent_prompts_are_not_rendered() -> None:
    p = plan(IDS[1], AgentPrompt(agent_id="9", body="Breathe"))
    assert connector().render([p]) == ()
    (skipped,) = ticket_change(p).unsupported
    assert "private" in skipped.reason


def test_priority_only_plans_render_as_one_bulk_job() -> None:
    plans = [plan(n, SetPriority(priority=Priority.HIGH)) for n in IDS[:3]]
    plans.append(plan(IDS[3], SetPriority(priority=Priority.LOW)))
    requests = connector().render(plans)
    bulk = [r for r in requests if r.path.endswith("bulk_update")]
    assert len(bulk) == 1
    ids = [int(n) for n in IDS[:3]]
    assert bulk[0].json_body == {"bulk_action": {"ids": ids, "properties": {"priority": 3}}}
    assert [r.path for r in requests if r.method == "PUT"] == [f"/api/v2/tickets/{IDS[3]}"]


def test_bulk_groups_skip_changes_that_write_tags_anyway() -> None:
    changes = [
        ticket_change(plan(str(n), SetPriority(priority=Priority.HIGH), AddTags(tags=("x",))))
        for n in range(5)
    ]
    assert bulk_groups(changes, min_tickets=2) == {}


tag = st.text(alphabet="abcxyz_", min_size=1, max_size=4)


@given(st.lists(tag, max_size=8), st.lists(tag, max_size=4), st.lists(tag, max_size=4))
def test_merge_keeps_every_foreign_tag(
    current: list[str], add: list[str], remove: list[str]
) -> None:
    merged = merge_tags(current, add, remove)
    assert len(merged) == len(set(merged))
    assert set(merged) == (set(current) | set(add)) - set(remove)
    kept = [t for t in merged if t in current]
    assert kept == [t for t in dict.fromkeys(current) if t not in remove]  # order kept
