"""End to end against the stateful fake Zendesk: outcomes, not request counts alone."""

from __future__ import annotations

import pytest
from zendesk_fixtures import connect
from zendesk_plans import plan

from empathy_firewall.actions import (
    AddTags,
    ApplyMacro,
    DraftReply,
    InternalNote,
    PublicReply,
    SetPriority,
)
from empathy_firewall.errors import AuthenticationError, RateLimitedError
from empathy_firewall.models import Priority
from empathy_firewall_zendesk import ZendeskConnector
from empathy_firewall_zendesk.testing import FakeZendesk


def poll_all(connector: ZendeskConnector, bookmark=None):  # type: ignore[no-untyped-def]
    return list(connector.poll(bookmark))


def test_poll_then_apply_leaves_the_note_once(
    fake: FakeZendesk, connector: ZendeskConnector
) -> None:
    tid = fake.add_ticket(subject="Refund, third time asking", body="THIRD time I ask!!!")
    fake.clock.advance(120)
    (page,) = poll_all(connector)
    (ticket,) = page.tickets
    p = plan(
        ticket.source.external_id,
        AddTags(tags=("ef_frustrated",)),
        InternalNote(body="Third contact."),
        SetPriority(priority=Priority.HIGH),
    )
    (result,) = connector.apply([p])
    assert set(result.applied) == {a.key for a in p.actions}
    note_key = p.actions[1].key
    assert fake.marker_count(tid, note_key) == 1
    assert "ef_frustrated" in fake.tags(tid)
    assert fake.ticket(tid)["priority"] == "high"
    # the cron job runs again and the same plan comes out: nothing is written twice
    fake.clock.advance(120)
    (again,) = poll_all(connector, page.bookmark)
    assert note_key in connector.applied_keys(again.tickets[0])
    connector.apply([p], verify=True)
    assert fake.marker_count(tid, note_key) == 1


def test_existing_tags_survive(fake: FakeZendesk, connector: ZendeskConnector) -> None:
    tid = fake.add_ticket(tags=("vip", "billing"))
    connector.apply([plan(tid, AddTags(tags=("ef_angry",)))])
    assert fake.tags(tid) == ["vip", "billing", "ef_angry"]


def test_a_lost_bulk_response_does_not_duplicate_notes(
    fake: FakeZendesk, connector: ZendeskConnector
) -> None:
    ids = [fake.add_ticket() for _ in range(3)]
    plans = [plan(t, InternalNote(body="note"), AddTags(tags=("ef_x",))) for t in ids]
    fake.timeout_next(processed=True, path="update_many")
    results = connector.apply(plans)
    for tid, p, result in zip(ids, plans, results, strict=True):
        assert fake.marker_count(tid, p.actions[0].key) == 1
        assert set(result.done) == {a.key for a in p.actions}


def test_a_lost_bulk_answer_while_the_job_is_still_queued_sends_nothing_twice(
    fake: FakeZendesk, connector: ZendeskConnector
) -> None:
    """Issue 11 item 2: Zendesk runs update_many asynchronously; right after a lost answer
    the notes are not on the tickets yet, so re-reading at once would send them again."""
    fake.async_jobs = True
    fake.job_seconds = 3.0
    ids = [fake.add_ticket() for _ in range(3)]
    plans = [plan(t, InternalNote(body="note"), AddTags(tags=("ef_x",))) for t in ids]
    fake.timeout_next(processed=True, path="update_many")
    results = connector.apply(plans)
    fake.clock.advance(10)
    fake.count()  # let the fake finish every queued job
    connector.apply([])
    for tid, p, result in zip(ids, plans, results, strict=True):
        assert fake.marker_count(tid, p.actions[0].key) == 1
        assert set(result.done) == {a.key for a in p.actions}
    assert fake.count("update_many") == 1


def test_a_bulk_request_that_never_arrived_is_sent_again(
    fake: FakeZendesk, connector: ZendeskConnector
) -> None:
    tid = fake.add_ticket()
    p = plan(tid, InternalNote(body="note"))
    fake.timeout_next(processed=False, path="update_many")
    (result,) = connector.apply([p])
    assert result.applied == (p.actions[0].key,)
    assert fake.marker_count(tid, p.actions[0].key) == 1


def test_429_with_retry_after_is_waited_out(fake: FakeZendesk, connector: ZendeskConnector) -> None:
    tid = fake.add_ticket()
    fake.fail_next(
        429,
        retry_after=45,
        path="update_many",
        body="Number of allowed API requests per minute exceeded",
        content_type="text/plain",
    )
    (result,) = connector.apply([plan(tid, InternalNote(body="n"))])
    assert result.applied
    assert not fake.violations
    assert fake.clock.now() >= 45


def test_an_endless_rate_limit_stops_the_run_without_a_storm(
    fake: FakeZendesk, connector: ZendeskConnector
) -> None:
    tid = fake.add_ticket()
    fake.fail_next(429, retry_after=4000, path="update_many")
    with pytest.raises(RateLimitedError):
        connector.apply([plan(tid, InternalNote(body="n"))])
    assert fake.count("update_many") == 1
    assert fake.notes(tid) == []


def test_500_and_timeouts_on_reads_are_retried(
    fake: FakeZendesk, connector: ZendeskConnector
) -> None:
    fake.add_ticket()
    fake.clock.advance(120)
    fake.fail_next(500, path="incremental")
    fake.timeout_next(path="comments")
    (page,) = poll_all(connector)
    assert len(page.tickets) == 1


def test_job_status_500_is_retried(fake: FakeZendesk, connector: ZendeskConnector) -> None:
    tid = fake.add_ticket()
    fake.fail_next(500, path="job_statuses")
    (result,) = connector.apply([plan(tid, AddTags(tags=("a",)))])
    assert result.applied


def test_partial_job_failures_are_reported_per_ticket(
    fake: FakeZendesk, connector: ZendeskConnector
) -> None:
    ok, flaky, closed = fake.add_ticket(), fake.add_ticket(), fake.add_ticket(status="closed")
    fake.fail_job_item(flaky, times=1)
    plans = [plan(t, InternalNote(body="n")) for t in (ok, flaky, closed)]
    results = connector.apply(plans)
    assert results[0].applied
    assert results[1].applied
    assert fake.marker_count(flaky, plans[1].actions[0].key) == 1
    assert not results[2].applied
    assert "closed prevents ticket update" in results[2].skipped[0].reason


def test_a_missing_ticket_is_skipped_and_the_rest_applied(
    fake: FakeZendesk, connector: ZendeskConnector
) -> None:
    tid = fake.add_ticket()
    results = connector.apply(
        [plan(999_999, InternalNote(body="n")), plan(tid, InternalNote(body="n"))]
    )
    assert not results[0].applied
    assert "RecordNotFound" in results[0].skipped[0].reason
    assert results[1].applied


def test_macro_is_previewed_then_applied_safely_and_privately(
    fake: FakeZendesk, connector: ZendeskConnector
) -> None:
    tid = fake.add_ticket(tags=("vip",))
    fake.add_macro(
        "Escalate to tier 2",
        {
            "status": "pending",
            "comment": {"body": "Escalated.", "public": True},
            "add_tags": ["tier2"],
        },
    )
    fake.conflict_next(tid)  # someone edits the ticket between our read and our write
    p = plan(tid, ApplyMacro(macro="Escalate to tier 2"))
    (result,) = connector.apply([p])
    assert result.applied == (p.actions[0].key,)
    assert fake.ticket(tid)["status"] == "pending"
    assert fake.tags(tid) == ["vip", "tier2"]
    assert fake.notes(tid) == [f"Escalated.\n\n[empathy-firewall:{p.actions[0].key}]"]
    assert fake.count("/apply") == 2
    assert fake.count(f"/tickets/{tid}.json", "PUT") == 2


def test_unknown_macro_is_skipped(fake: FakeZendesk, connector: ZendeskConnector) -> None:
    tid = fake.add_ticket()
    (result,) = connector.apply([plan(tid, ApplyMacro(macro="Nope"))])
    assert "not found" in result.skipped[0].reason


def test_public_reply_only_once(fake: FakeZendesk, connector: ZendeskConnector) -> None:
    tid = fake.add_ticket()
    p = plan(tid, DraftReply(body="draft"), PublicReply(body="Sorry for the wait."))
    connector.apply([p])
    connector.apply([p], verify=True)
    public = [c for c in fake.comments(tid) if c["public"] and c["body"] == "Sorry for the wait."]
    assert len(public) == 1


def test_per_ticket_update_limit_is_respected(fake: FakeZendesk) -> None:
    connector = connect(fake, ticket_updates_per_window=2)
    tid = fake.add_ticket()
    results = [connector.apply([plan(tid, AddTags(tags=(f"t{n}",)))])[0] for n in range(3)]
    assert results[0].applied
    assert results[1].applied
    assert "per-ticket update limit" in results[2].skipped[0].reason


def test_deleted_and_ai_agent_tickets(fake: FakeZendesk, connector: ZendeskConnector) -> None:
    gone = fake.add_ticket()
    ai = fake.add_ticket(ai_agent=True)
    fake.delete_ticket(gone)
    fake.clock.advance(120)
    (page,) = poll_all(connector)
    assert [t.source.external_id for t in page.tickets] == [str(ai)]
    assert page.removed == (str(gone),)


def test_export_pages_duplicates_and_its_own_rate_limit(fake: FakeZendesk) -> None:
    connector = connect(fake, per_page=2)
    ids = [fake.add_ticket() for _ in range(25)]
    fake.export_duplicates = True
    fake.clock.advance(120)
    pages = poll_all(connector)
    seen = [t.source.external_id for p in pages for t in p.tickets]
    assert sorted(seen) == sorted(str(i) for i in ids)  # each once
    assert len(pages) == 13
    assert not fake.violations
    assert fake.count("/incremental/") == 13  # never answered 429: the budget spaced them
    assert fake.clock.now() >= 60


def test_wrong_credentials_fail_fast(fake: FakeZendesk) -> None:
    connector = ZendeskConnector.from_config(
        fake.connector_config(),
        transport=fake,
        clock=fake.clock,
        env={**fake.env, "ZENDESK_API_TOKEN": "wrong"},
    )
    with pytest.raises(AuthenticationError) as info:
        connector.check()
    assert fake.count() == 1
    assert "wrong" not in str(info.value)


def test_fetch_reads_tickets_after_a_webhook(
    fake: FakeZendesk, connector: ZendeskConnector
) -> None:
    tid = fake.add_ticket(subject="from webhook")
    (ticket,) = connector.fetch([str(tid), "123456789"])
    assert ticket.subject == "from webhook"
    assert ticket.comments


def test_the_fake_notices_a_request_sent_before_retry_after_expired(fake: FakeZendesk) -> None:
    from empathy_firewall.connectors import HttpRequest

    fake.fail_next(429, retry_after=30)
    request = HttpRequest("GET", f"{fake.base_url}/api/v2/users/me.json")
    assert fake(request).status == 429
    fake.clock.advance(10)
    fake(request)  # too early: a client that ignores Retry-After
    assert len(fake.violations) == 1


def test_a_500_on_a_bulk_write_is_checked_then_resent_once(
    fake: FakeZendesk, connector: ZendeskConnector
) -> None:
    tid = fake.add_ticket()
    p = plan(tid, InternalNote(body="note"))
    fake.fail_next(500, path="update_many")
    (result,) = connector.apply([p])
    assert result.applied == (p.actions[0].key,)
    assert fake.marker_count(tid, p.actions[0].key) == 1
    assert fake.count("/comments") == 1  # the re-read that found nothing there yet


def test_two_plans_for_one_ticket_go_in_separate_jobs(
    fake: FakeZendesk, connector: ZendeskConnector
) -> None:
    tid = fake.add_ticket()
    first = plan(tid, InternalNote(body="one"), anchor="a")
    second = plan(tid, InternalNote(body="two"), anchor="b")
    results = connector.apply([first, second])
    assert all(r.applied for r in results)
    assert len(fake.notes(tid)) == 2
    assert fake.count("update_many") == 2


def test_the_last_minute_is_picked_up_by_the_next_run(
    fake: FakeZendesk, connector: ZendeskConnector
) -> None:
    old = fake.add_ticket(age_seconds=600)
    fresh = fake.add_ticket(age_seconds=30)  # inside the minute the export leaves out
    (page,) = poll_all(connector)
    assert [t.source.external_id for t in page.tickets] == [str(old)]
    fake.clock.advance(60)
    (later,) = poll_all(connector, page.bookmark)
    assert [t.source.external_id for t in later.tickets] == [str(fresh)]
