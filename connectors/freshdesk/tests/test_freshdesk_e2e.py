"""End to end against the stateful fake Freshdesk: outcomes on the fake's state."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta

import pytest
from freshdesk_fixtures import connect
from freshdesk_plans import plan

from empathy_firewall.actions import (
    AddTags,
    AgentPrompt,
    ApplyMacro,
    DraftReply,
    InternalNote,
    PublicReply,
    RemoveTags,
    SetPriority,
)
from empathy_firewall.connectors import Bookmark, HttpRequest, HttpResponse, Page
from empathy_firewall.connectors.notes import reply_tag
from empathy_firewall.errors import AuthenticationError, RateLimitedError
from empathy_firewall.models import EventType, Priority, Role
from empathy_firewall_freshdesk import FreshdeskConnector
from empathy_firewall_freshdesk.testing import FakeFreshdesk


def poll_all(connector: FreshdeskConnector, bookmark: Bookmark | None = None) -> list[Page]:
    return list(connector.poll(bookmark))


def ids(pages: list[Page]) -> list[str]:
    return [t.source.external_id for p in pages for t in p.tickets]


# -- write-back ----------------------------------------------------------------------------


def test_poll_then_apply_leaves_tags_priority_and_the_note_once(
    fake: FakeFreshdesk, connector: FreshdeskConnector
) -> None:
    tid = fake.add_ticket(subject="Refund, third time", body="THIRD time I ask!!!", tags=("vip",))
    fake.clock.advance(1)  # the cron job runs a moment later
    (page,) = poll_all(connector)
    (ticket,) = page.tickets
    assert ticket.comments[0].text == "THIRD time I ask!!!"
    p = plan(
        tid,
        AddTags(tags=("ef_frustrated",)),
        InternalNote(body="Third contact."),
        SetPriority(priority=Priority.HIGH),
    )
    (result,) = connector.apply([p])
    assert set(result.applied) == {a.key for a in p.actions}
    assert set(fake.tags(tid)) == {"vip", "ef_frustrated"}
    assert fake.ticket(tid)["priority"] == 3
    assert fake.marker_count(tid, p.actions[1].key) == 1
    assert all(c["private"] for c in fake.conversations(tid))
    # the cron job runs again: the note is found, nothing is written twice
    fake.clock.advance(5)
    (again,) = poll_all(connector, page.bookmark)
    assert p.actions[1].key in connector.applied_keys(again.tickets[0])
    before = fake.count()
    (second,) = connector.apply([p], verify=True)
    assert set(second.done) == {a.key for a in p.actions}
    assert fake.marker_count(tid, p.actions[1].key) == 1
    assert fake.count() - before == 1  # one read (ticket + conversations), no writes


def test_a_tag_added_after_the_poll_survives(
    fake: FakeFreshdesk, connector: FreshdeskConnector
) -> None:
    tid = fake.add_ticket(tags=("billing",))
    poll_all(connector)
    fake.add_tag_externally(tid, "escalated_by_lead")  # between our poll and our write
    connector.apply([plan(tid, AddTags(tags=("ef_angry",)))])
    assert set(fake.tags(tid)) == {"billing", "escalated_by_lead", "ef_angry"}


def test_a_concurrent_overwrite_is_caught_by_the_recheck_and_merged_again(
    fake: FakeFreshdesk, connector: FreshdeskConnector
) -> None:
    tid = fake.add_ticket(tags=("vip",))
    # another integration read ["vip"] earlier, adds "crm_synced" and replaces the list
    fake.clobber_after_next_write(tid, ["vip", "crm_synced"])
    p = plan(tid, AddTags(tags=("ef_angry",)))
    (result,) = connector.apply([p])
    assert result.applied == (p.actions[0].key,)
    assert set(fake.tags(tid)) == {"vip", "crm_synced", "ef_angry"}


def test_a_list_that_keeps_being_overwritten_is_reported_not_lost(fake: FakeFreshdesk) -> None:
    connector = connect(fake, tag_attempts=2)
    tid = fake.add_ticket(tags=("vip",))
    fake.clobber_after_next_write(tid, ["vip", "a"])
    fake.clobber_after_next_write(tid, ["vip", "a", "b"])
    p = plan(tid, AddTags(tags=("ef_angry",)))
    (result,) = connector.apply([p])
    assert not result.applied
    assert "kept being overwritten" in result.skipped[0].reason
    assert {"vip", "a", "b"} <= set(fake.tags(tid))


def test_remove_tags_only_removes_ours(fake: FakeFreshdesk, connector: FreshdeskConnector) -> None:
    tid = fake.add_ticket(tags=("vip", "ef_frustration_high"))
    connector.apply(
        [plan(tid, RemoveTags(tags=("ef_frustration_high",)), AddTags(tags=("ef_calm",)))]
    )
    assert fake.tags(tid) == ["vip", "ef_calm"]


def test_unchanged_tags_are_not_written(fake: FakeFreshdesk, connector: FreshdeskConnector) -> None:
    tid = fake.add_ticket(tags=("ef_x",))
    connector.apply([plan(tid, AddTags(tags=("ef_x",)))])
    assert fake.count(method="PUT") == 0


def test_a_lost_note_answer_does_not_duplicate_the_note(
    fake: FakeFreshdesk, connector: FreshdeskConnector
) -> None:
    tid = fake.add_ticket()
    p = plan(tid, InternalNote(body="note"))
    fake.timeout_next(processed=True, path="/notes")
    (result,) = connector.apply([p])
    assert result.applied == (p.actions[0].key,)
    assert fake.marker_count(tid, p.actions[0].key) == 1


def test_a_note_that_never_arrived_is_sent_again(
    fake: FakeFreshdesk, connector: FreshdeskConnector
) -> None:
    tid = fake.add_ticket()
    p = plan(tid, InternalNote(body="note"))
    fake.timeout_next(processed=False, path="/notes")
    (result,) = connector.apply([p])
    assert result.applied == (p.actions[0].key,)
    assert fake.marker_count(tid, p.actions[0].key) == 1


def test_a_500_on_the_note_is_checked_then_resent_once(
    fake: FakeFreshdesk, connector: FreshdeskConnector
) -> None:
    tid = fake.add_ticket()
    p = plan(tid, InternalNote(body="note"))
    fake.fail_next(500, path="/notes")
    connector.apply([p])
    assert fake.marker_count(tid, p.actions[0].key) == 1


def test_a_note_that_keeps_failing_is_retried_with_backoff_then_skipped_alone(
    fake: FakeFreshdesk, connector: FreshdeskConnector
) -> None:
    """Issue 11 item 3: 500s on the note are retried with pauses, then only that ticket
    is skipped (with a reason) and the run goes on with the next ticket."""
    bad, good = fake.add_ticket(), fake.add_ticket()
    p_bad, p_good = plan(bad, InternalNote(body="note")), plan(good, InternalNote(body="n2"))
    fake.fail_next(500, times=20, path=f"/tickets/{bad}/notes")
    started = fake.clock.now()
    r_bad, r_good = connector.apply([p_bad, p_good])
    posts = [r for r in fake.log if r.path.endswith(f"/tickets/{bad}/notes")]
    assert len(posts) >= 3
    assert all(b.at - a.at >= 0.5 for a, b in itertools.pairwise(posts))
    assert fake.clock.now() - started < 120
    assert r_bad.applied == ()
    assert [o.key for o in r_bad.skipped] == [p_bad.actions[0].key]
    assert "500" in r_bad.skipped[0].reason or "error" in r_bad.skipped[0].reason.lower()
    assert r_good.applied == (p_good.actions[0].key,)
    assert fake.marker_count(good, p_good.actions[0].key) == 1
    assert fake.marker_count(bad, p_bad.actions[0].key) == 0


def test_a_completed_bulk_job_is_verified_ticket_by_ticket(
    fake: FakeFreshdesk, connector: FreshdeskConnector
) -> None:
    """Issue 11 item 3: Freshdesk reports a bulk job completed even when it skipped a
    ticket; the priority counts as applied only on tickets that now hold it."""
    tids = [fake.add_ticket() for _ in range(4)]
    plans = [plan(t, SetPriority(priority=Priority.URGENT)) for t in tids]
    fake.delete_ticket(tids[1])
    results = connector.apply(plans)
    assert fake.count("/bulk_update") == 1
    assert [bool(r.applied) for r in results] == [True, False, True, True]
    assert results[1].skipped
    assert "priority" in results[1].skipped[0].reason


def test_notes_drafts_and_canned_responses_share_one_private_note(
    fake: FakeFreshdesk, connector: FreshdeskConnector
) -> None:
    tid = fake.add_ticket(subject="Where is my order?")
    fake.add_canned_response(
        "Delay apology", "<div>Sorry about ticket {{ticket.id}}, {{ticket.agent.name}}</div>"
    )
    p = plan(
        tid,
        InternalNote(body="Customer <b>waited</b> 3 days"),
        DraftReply(body="We are sorry for the wait."),
        ApplyMacro(macro="delay apology"),
    )
    (result,) = connector.apply([p])
    assert set(result.applied) == {a.key for a in p.actions}
    (note,) = fake.notes(tid)
    assert "&lt;b&gt;waited&lt;/b&gt;" in note  # customer words are escaped
    assert "Suggested reply" in note
    assert "NOT sent" in note
    assert f"Sorry about ticket {tid}, {{{{ticket.agent.name}}}}" in note
    for action in p.actions:
        assert fake.marker_count(tid, action.key) == 1
    assert not fake.replies(tid)


def test_canned_response_by_id_and_a_missing_one(
    fake: FakeFreshdesk, connector: FreshdeskConnector
) -> None:
    tid = fake.add_ticket()
    rid = fake.add_canned_response("Thanks", "<p>Thank you!</p>")
    p = plan(tid, ApplyMacro(macro=str(rid)), ApplyMacro(macro="no such response"))
    (result,) = connector.apply([p])
    assert result.applied == (p.actions[0].key,)
    assert "not found" in result.skipped[0].reason
    assert "Thank you!" in fake.notes(tid)[0]


def test_public_reply_is_sent_once_with_its_marker_tag(
    fake: FakeFreshdesk, connector: FreshdeskConnector
) -> None:
    tid = fake.add_ticket()
    p = plan(tid, PublicReply(body="We are on it & will call you."))
    (result,) = connector.apply([p])
    assert result.applied == (p.actions[0].key,)
    assert reply_tag(p.actions[0].key) in fake.tags(tid)
    (reply,) = fake.replies(tid)
    assert "&amp;" in reply
    assert "[empathy-firewall:" not in reply
    (second,) = connector.apply([p])  # even without verify: the tag is read first
    assert second.already == (p.actions[0].key,)
    assert len(fake.replies(tid)) == 1


def test_a_lost_reply_answer_is_never_resent(
    fake: FakeFreshdesk, connector: FreshdeskConnector
) -> None:
    tid = fake.add_ticket()
    p = plan(tid, PublicReply(body="Hello"))
    fake.timeout_next(processed=True, path="/reply")
    (result,) = connector.apply([p])
    assert "may not have been sent" in result.skipped[0].reason
    connector.apply([p], verify=True)
    assert len(fake.replies(tid)) == 1


def test_agent_prompts_never_reach_the_ticket(
    fake: FakeFreshdesk, connector: FreshdeskConnector
) -> None:
    tid = fake.add_ticket()
    p = plan(tid, AgentPrompt(agent_id="7", body="Take a break"))
    (result,) = connector.apply([p])
    assert "private" in result.skipped[0].reason
    assert fake.conversations(tid) == []
    assert fake.count(method="POST") == 0


def test_priority_only_changes_share_one_bulk_job(
    fake: FakeFreshdesk, connector: FreshdeskConnector
) -> None:
    tids = [fake.add_ticket() for _ in range(4)]
    plans = [plan(t, SetPriority(priority=Priority.URGENT)) for t in tids]
    results = connector.apply(plans)
    assert all(r.applied for r in results)
    assert [fake.ticket(t)["priority"] for t in tids] == [4, 4, 4, 4]
    assert fake.count("/bulk_update") == 1
    assert fake.count(method="PUT") == 0


def test_a_missing_ticket_is_skipped_with_the_reason(
    fake: FakeFreshdesk, connector: FreshdeskConnector
) -> None:
    tid = fake.add_ticket()
    fake.delete_ticket(tid)
    (result,) = connector.apply([plan(tid, AddTags(tags=("x",)), InternalNote(body="n"))])
    assert len(result.skipped) == 2
    assert "404" in result.skipped[0].reason


def test_bad_credentials_are_an_authentication_error(fake: FakeFreshdesk) -> None:
    connector = FreshdeskConnector.from_config(
        fake.connector_config(), transport=fake, clock=fake.clock, env={"FRESHDESK_API_KEY": "no"}
    )
    with pytest.raises(AuthenticationError, match="401"):
        connector.check()


# -- polling -------------------------------------------------------------------------------


def test_poll_reads_conversations_agents_and_groups_once_per_run(fake: FakeFreshdesk) -> None:
    agent = fake.add_agent(name="Dana")
    group = fake.add_group("Billing")
    tids = [fake.add_ticket(responder_id=agent, group_id=group) for _ in range(3)]
    customer = fake.ticket(tids[0])["requester_id"]
    fake.add_conversation(tids[0], "Any news??", user_id=customer, incoming=True)
    fake.add_conversation(tids[0], "Looking into it", user_id=agent)
    fake.clock.advance(1)
    connector = connect(fake)
    pages = poll_all(connector)
    tickets = {t.source.external_id: t for p in pages for t in p.tickets}
    first = tickets[str(tids[0])]
    assert [c.author_role for c in first.comments] == [Role.CUSTOMER, Role.CUSTOMER, Role.AGENT]
    assert first.assignee is not None
    assert first.assignee.name == "Dana"
    assert first.group == "Billing"
    assert fake.count("/api/v2/agents") == 1
    assert fake.count("/api/v2/groups") == 1
    assert fake.count("/conversations") == 3


def test_an_overdue_first_response_is_a_friction_signal(
    fake: FakeFreshdesk, connector: FreshdeskConnector
) -> None:
    tid = fake.add_ticket(age_seconds=7200, fr_due_minutes=60)
    fake.ticket(tid)["fr_escalated"] = True
    (page,) = poll_all(connector)
    (ticket,) = page.tickets
    assert ticket.sla is not None
    assert ticket.sla.breach_at is not None
    assert ticket.sla.breach_at < fake.clock.wall()
    assert any(e.type is EventType.SLA_WARNING for e in ticket.events)


def test_old_tickets_updated_recently_are_found_beyond_the_30_day_window(
    fake: FakeFreshdesk,
) -> None:
    tid = fake.add_ticket(age_seconds=90 * 86400)
    fake.clock.advance(60)
    fake.touch(tid)
    fake.clock.advance(1)
    connector = connect(fake, initial_lookback_minutes=5)
    assert ids(poll_all(connector)) == [str(tid)]
    assert all("updated_since" in r.params for r in fake.log if r.path == "/api/v2/tickets")


def test_write_back_between_pages_never_skips_a_ticket(fake: FakeFreshdesk) -> None:
    tids = []
    for _ in range(25):
        tids.append(fake.add_ticket())
        fake.clock.advance(2)
    connector = connect(fake, per_page=10)
    seen: list[str] = []
    for page in connector.poll(None):
        seen.extend(t.source.external_id for t in page.tickets)
        # the sync job applies each page before the next: updated_at moves to "now"
        connector.apply([plan(t.source.external_id, InternalNote(body="n")) for t in page.tickets])
        fake.clock.advance(1)
    assert {str(t) for t in tids} <= set(seen)


def test_a_dense_second_turns_pages_and_stops_at_the_cap(fake: FakeFreshdesk) -> None:
    for _ in range(35):
        fake.add_ticket()  # all within the same second
    fake.clock.advance(30)
    later = fake.add_ticket()
    connector = connect(fake, per_page=10, max_pages=3)
    pages = poll_all(connector)
    assert len(set(ids(pages))) == 30
    assert any("rest of that window was skipped" in n for p in pages for n in p.notes)
    assert not pages[-1].more
    fake.clock.advance(30)
    rest = poll_all(connector, pages[-1].bookmark)  # the next run is not stuck there
    assert ids(rest) == [str(later)]


def test_the_fake_enforces_freshdesk_page_cap(fake: FakeFreshdesk) -> None:
    fake.page_cap = 2
    for _ in range(35):
        fake.add_ticket()
    fake.clock.advance(1)
    connector = connect(fake, per_page=10, max_pages=3)
    with pytest.raises(Exception, match="beyond the 2th page"):
        poll_all(connector)


def test_a_ticket_deleted_mid_poll_is_reported_removed(fake: FakeFreshdesk) -> None:
    a, b = fake.add_ticket(), fake.add_ticket()
    fake.clock.advance(1)
    fake.fail_next(404, body=" ", path=f"/tickets/{b}/conversations")
    (page,) = poll_all(connect(fake))
    assert ids([page]) == [str(a)]
    assert page.removed == (str(b),)


# -- rate limits ---------------------------------------------------------------------------


def test_retry_after_is_honoured_and_nothing_arrives_early(fake: FakeFreshdesk) -> None:
    tid = fake.add_ticket()
    connector = connect(fake)
    fake.fail_next(429, retry_after=35, path="/notes")
    connector.apply([plan(tid, InternalNote(body="n"))])
    assert fake.violations == []
    assert max(fake.clock.sleeps) >= 35
    assert len(fake.notes(tid)) == 1


def test_a_retry_after_beyond_the_bound_stops_the_run(fake: FakeFreshdesk) -> None:
    tid = fake.add_ticket()
    connector = connect(fake, max_total_wait_seconds=20)
    fake.fail_next(429, retry_after=60, path="/notes")
    with pytest.raises(RateLimitedError):
        connector.apply([plan(tid, InternalNote(body="n"))])


def test_polling_stays_inside_the_budget_and_the_list_sub_limit() -> None:
    fake = FakeFreshdesk(requests_per_minute=50, list_per_minute=3)
    for _ in range(120):
        fake.add_ticket()
        fake.clock.advance(1)
    connector = connect(fake, per_page=10)
    found = ids(poll_all(connector))
    assert len(set(found)) == 120
    assert fake.over_budget == 0
    assert fake.violations == []
    assert connector.client.list_budget.limit == 3 or connector.client.observed_total == 50


def test_a_second_consumer_of_the_budget_is_taken_into_account() -> None:
    fake = FakeFreshdesk(requests_per_minute=60, list_per_minute=None)
    tid = fake.add_ticket()
    connector = connect(fake)
    connector.check()
    # another app spends 50 credits this minute
    for _ in range(50):
        fake._account.append((fake.clock.now(), 1))
    for _ in range(15):
        connector.apply([plan(tid, SetPriority(priority=Priority.HIGH))])
    assert fake.over_budget == 0


def test_configured_budget_below_the_header_is_kept(fake: FakeFreshdesk) -> None:
    connector = connect(fake, requests_per_minute=30, reserve_per_minute=5)
    connector.check()
    assert connector.client.account_budget.limit == 25


# -- webhooks ------------------------------------------------------------------------------


def test_webhook_hint_then_re_read(fake: FakeFreshdesk, connector: FreshdeskConnector) -> None:
    tid = fake.add_ticket(body="My parcel is lost")
    fake.add_conversation(tid, "Hello?", user_id=fake.ticket(tid)["requester_id"], incoming=True)
    request = fake.webhook(
        {"empathy_firewall": 1, "event": "ticket.updated", "ticket_id": str(tid)}
    )
    connector.verifier().verify(request)
    event = connector.parse_webhook(request)
    assert event.snapshot is None  # the body is only a hint
    assert event.ticket is not None
    (ticket,) = connector.fetch([event.ticket.external_id])
    assert [c.text for c in ticket.comments] == ["My parcel is lost", "Hello?"]
    assert connector.fetch(["424242"]) == ()


def test_retried_webhooks_share_a_dedupe_key(
    fake: FakeFreshdesk, connector: FreshdeskConnector
) -> None:
    """A retry resends the body, with the same ``updated_at``: one key. Without a
    delivery value, a hint five minutes later may be a new reply and gets its own key."""
    body = b'{"ticket_id": "42", "status": "Open", "updated_at": "2026-03-01T09:00:00Z"}'
    first = connector.parse_webhook(fake.webhook(body))
    fake.clock.advance(timedelta(minutes=5).total_seconds())
    again = connector.parse_webhook(fake.webhook(body))
    assert first.id == again.id
    bare = b'{"ticket_id": "42", "status": "Open"}'
    early = connector.parse_webhook(fake.webhook(bare))
    fake.clock.advance(timedelta(minutes=5).total_seconds())
    assert connector.parse_webhook(fake.webhook(bare)).id != early.id


def test_tag_writes_are_rechecked_in_one_list_call(fake: FakeFreshdesk) -> None:
    tids = [fake.add_ticket(tags=("vip",)) for _ in range(5)]
    fake.clobber_after_next_write(tids[2], ["vip", "crm"])
    connector = connect(fake)
    fake.clock.advance(30)
    results = connector.apply([plan(t, AddTags(tags=("ef_x",))) for t in tids])
    assert all(r.applied for r in results)
    lists = [r for r in fake.log if r.path == "/api/v2/tickets" and r.method == "GET"]
    assert len(lists) == 1
    assert set(fake.tags(tids[2])) == {"vip", "crm", "ef_x"}
    assert all("ef_x" in fake.tags(t) for t in tids)


def test_the_recheck_reads_tickets_the_list_leaves_out(fake: FakeFreshdesk) -> None:
    tid = fake.add_ticket(tags=("vip",))

    def without_tags_in_lists(request: HttpRequest) -> HttpResponse:
        response = fake(request)
        if request.path == "/api/v2/tickets" and response.ok:
            records = [{k: v for k, v in r.items() if k != "tags"} for r in response.json()]
            return HttpResponse(response.status, response.headers, json.dumps(records).encode())
        return response

    connector = FreshdeskConnector.from_config(
        fake.connector_config(), transport=without_tags_in_lists, clock=fake.clock, env=fake.env
    )
    fake.clobber_after_next_write(tid, ["vip", "crm"])
    (result,) = connector.apply([plan(tid, AddTags(tags=("ef_x",)))])
    assert result.applied
    assert set(fake.tags(tid)) == {"vip", "crm", "ef_x"}


def test_canned_responses_without_admin_rights_skip_only_that_action(
    fake: FakeFreshdesk, connector: FreshdeskConnector
) -> None:
    tid = fake.add_ticket()
    fake.fail_next(403, body='{"code":"access_denied","message":"no"}', path="/canned_response")
    p = plan(tid, ApplyMacro(macro="Thanks"), InternalNote(body="note"))
    (result,) = connector.apply([p])
    assert result.applied == (p.actions[1].key,)
    assert "admin" in result.skipped[0].reason


def test_freshdesk_sla_fields_drive_the_core_friction_signals(
    fake: FakeFreshdesk, connector: FreshdeskConnector
) -> None:
    from empathy_firewall.settings import FrictionSettings
    from empathy_firewall.signals.friction import friction_of

    tid = fake.add_ticket(age_seconds=3 * 3600, fr_due_minutes=60, priority=3)
    fake.ticket(tid)["_stats"]["reopened_at"] = fake.ticket(tid)["created_at"]
    (page,) = poll_all(connector)
    (ticket,) = page.tickets
    friction = friction_of(ticket, fake.clock.wall(), FrictionSettings())
    assert friction.waiting
    assert friction.breached  # fr_due_by passed without a first response
    assert friction.sla_target_minutes == 60
    assert friction.reopens == 1


def test_canned_subject_placeholder_is_escaped(
    fake: FakeFreshdesk, connector: FreshdeskConnector
) -> None:
    tid = fake.add_ticket(subject="<img src=x onerror=alert(1)>")
    fake.add_canned_response("Ack", "<p>About: {{ticket.subject}}</p>")
    connector.apply([plan(tid, ApplyMacro(macro="Ack"), AddTags(tags=("ef_x",)))])
    (note,) = fake.notes(tid)
    assert "<img" not in note
    assert "&lt;img" in note
    other = fake.add_ticket(subject="<b>x</b>")
    connector.apply([plan(other, ApplyMacro(macro="Ack"))])  # no read: left for Freshdesk
    assert "{{ticket.subject}}" in fake.notes(other)[0]


def test_webhook_fetches_reuse_agents_and_groups(
    fake: FakeFreshdesk, connector: FreshdeskConnector
) -> None:
    a, b = fake.add_ticket(), fake.add_ticket()
    connector.fetch([str(a)])
    connector.fetch([str(b)])
    assert fake.count("/api/v2/agents") == 1
    fake.clock.advance(601)
    connector.fetch([str(a)])
    assert fake.count("/api/v2/agents") == 2


def test_a_run_reads_what_changed_before_it_started_and_ends(fake: FakeFreshdesk) -> None:
    tids = [fake.add_ticket() for _ in range(6)]
    fake.clock.advance(2)
    connector = connect(fake, per_page=2, settle_seconds=1)
    seen: list[str] = []
    for page in connector.poll(None):
        seen.extend(t.source.external_id for t in page.tickets)
        fake.clock.advance(1)
        fake.touch(tids[0])  # someone keeps changing a ticket while we read
        assert len(seen) < 50
    assert sorted(seen) == sorted(str(t) for t in tids)  # each once, the run ended
    fake.clock.advance(10)
    again = poll_all(connector, page.bookmark)
    assert ids(again) == [str(tids[0])]  # the later change is the next run's


def test_the_sync_jobs_backfill_bookmark_starts_there(fake: FakeFreshdesk) -> None:
    old = fake.add_ticket(age_seconds=3 * 86400)
    fake.clock.advance(1)
    since = fake.clock.wall() - timedelta(days=4)
    backfill = Bookmark.of({"start_time": int(since.timestamp())})
    assert ids(poll_all(connect(fake), backfill)) == [str(old)]
    assert ids(poll_all(connect(fake), None)) == []  # the default lookback is 24 h
