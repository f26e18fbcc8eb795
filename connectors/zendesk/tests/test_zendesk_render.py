"""The dry run: plans -> exactly the Zendesk write requests apply sends (nothing written)."""

from __future__ import annotations

from zendesk_plans import plan

from empathy_firewall.actions import (
    AddTags,
    AgentPrompt,
    ApplyMacro,
    DraftReply,
    InternalNote,
    PublicReply,
    RemoveTags,
    RoutingSuggestion,
    SetPriority,
)
from empathy_firewall.connectors import markers_in
from empathy_firewall.connectors.notes import DRAFT_HEADING, ROUTING_HEADING, reply_tag
from empathy_firewall.models import Priority
from empathy_firewall_zendesk import ZendeskConnector
from empathy_firewall_zendesk.testing import FakeZendesk

FAKE = FakeZendesk()  # bulk updates need no read: the fake only answers macro reads
CONNECTOR = FAKE.connect(ZendeskConnector)


def items(plans: list) -> list[dict]:
    return [
        i
        for r in CONNECTOR.render(plans)
        if r.purpose == "update_many"
        for i in r.json_body["tickets"]
    ]


def test_tags_are_added_and_removed_never_replaced() -> None:
    (item,) = items([plan(7, AddTags(tags=("ef_angry", "ef_vip")), RemoveTags(tags=("ef_calm",)))])
    assert item == {"id": 7, "additional_tags": ["ef_angry", "ef_vip"], "remove_tags": ["ef_calm"]}
    assert all(
        "tags" not in i
        for r in CONNECTOR.render([plan(7, AddTags(tags=("x",)))])
        for i in r.json_body["tickets"]
    )


def test_note_draft_and_routing_share_one_private_comment_each_with_its_marker() -> None:
    p = plan(
        8,
        InternalNote(body="Third contact about the same refund."),
        DraftReply(body="I am sorry this took three tries."),
        RoutingSuggestion(reason="Agent 5 handled 9 hard tickets today", avoid_agent_ids=("5",)),
    )
    (item,) = items([p])
    comment = item["comment"]
    assert comment["public"] is False
    assert markers_in(comment["body"]) == {a.key for a in p.actions}
    assert DRAFT_HEADING in comment["body"]
    assert ROUTING_HEADING in comment["body"]
    assert "frustration.repeat_contact" in comment["body"]
    assert "enabled: false" in comment["body"]
    assert "assignee_id" not in item
    assert "group_id" not in item


def test_priority_is_set() -> None:
    assert items([plan(9, SetPriority(priority=Priority.URGENT))]) == [
        {"id": 9, "priority": "urgent"}
    ]


def test_public_reply_is_a_separate_public_comment_with_a_marker_tag() -> None:
    p = plan(10, InternalNote(body="n"), PublicReply(body="We are on it."))
    first, second = items([p])
    assert first["comment"]["public"] is False
    key = p.actions[1].key
    assert second == {
        "id": 10,
        "comment": {"body": "We are on it.", "public": True},
        "additional_tags": [reply_tag(key)],
    }
    assert "empathy-firewall" not in second["comment"]["body"]


def test_bulk_requests_hold_at_most_100_tickets() -> None:
    requests = CONNECTOR.render([plan(i, AddTags(tags=("a",))) for i in range(1, 251)])
    assert [len(r.json_body["tickets"]) for r in requests] == [100, 100, 50]
    assert all(
        r.method == "PUT" and r.url.endswith("/api/v2/tickets/update_many.json") for r in requests
    )
    assert all(r.is_idempotent for r in requests)  # tags only: safe to resend


def test_requests_with_comments_are_marked_non_idempotent() -> None:
    (request,) = CONNECTOR.render([plan(1, InternalNote(body="n"))])
    assert not request.is_idempotent


def test_a_macro_is_the_put_of_its_preview_and_nothing_is_written() -> None:
    tid = FAKE.add_ticket(subject="macro")
    mid = FAKE.add_macro("Escalate", {"priority": "high"})
    before = FAKE.snapshot()
    (request,) = CONNECTOR.render([plan(tid, ApplyMacro(macro=str(mid)))])
    assert request.method == "PUT"
    assert request.url.endswith(f"/api/v2/tickets/{tid}.json")
    assert request.json_body["ticket"]["macro_id"] == mid
    assert request.json_body["ticket"]["priority"] == "high"
    assert FAKE.snapshot() == before


def test_render_output_has_no_credentials() -> None:
    for request in CONNECTOR.render([plan(1, InternalNote(body="n"))]):
        assert not request.headers


def test_agent_prompts_are_never_written_to_the_ticket() -> None:
    p = plan(
        9,
        AddTags(tags=("ef_at_risk",)),
        AgentPrompt(agent_id="5", body="You handled many hard conversations; take ten minutes."),
    )
    rendered = CONNECTOR.render([p])
    assert all("ten minutes" not in str(r.json_body) for r in rendered)
    (item,) = items([p])
    assert item == {"id": 9, "additional_tags": ["ef_at_risk"]}
