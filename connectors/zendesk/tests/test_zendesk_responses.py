"""The production transport (requests) against `responses`, on recorded payload shapes."""

from __future__ import annotations

import re

import pytest
import requests
import responses
from zendesk_fixtures import load
from zendesk_plans import plan

from empathy_firewall.actions import AddTags, InternalNote
from empathy_firewall.errors import AuthenticationError
from empathy_firewall.testing import FakeClock
from empathy_firewall_zendesk import ZendeskConnector
from empathy_firewall_zendesk.testing import FakeZendesk

BASE = "https://company.zendesk.com"
#: organisations are sideloaded where Zendesk honours it, else read with show_many
ORGS = {"organizations": [{"id": 509974, "name": "Acme", "organization_fields": {"tier": "Gold"}}]}
ENV = {"ZENDESK_EMAIL": "admin@company.test", "ZENDESK_API_TOKEN": "t0k3n"}


def make(clock: FakeClock | None = None, **config: object) -> ZendeskConnector:
    settings = {"subdomain": "company", "history": "comments", "fetch_agents": False, **config}
    connector = ZendeskConnector.from_config(settings, clock=clock or FakeClock(), env=ENV)
    assert isinstance(connector, ZendeskConnector)
    return connector


@responses.activate
def test_poll_on_the_documented_export_and_comment_payloads() -> None:
    responses.get(
        f"{BASE}/api/v2/incremental/tickets/cursor.json",
        json=load("oas_incremental_tickets_cursor.json"),
    )
    responses.get(f"{BASE}/api/v2/organizations/show_many.json", json=ORGS)
    responses.get(
        f"{BASE}/api/v2/tickets/35436/comments.json",
        json=load("ticket_comments_list_zendesk_go.json"),
    )
    (page,) = list(make().poll(None))
    (ticket,) = page.tickets
    assert [c.text for c in ticket.comments] == ["Please help!", "Looking into an issue."]
    export_call = responses.calls[0].request
    assert "start_time=" in export_call.url
    assert "support_type_scope=all" in export_call.url
    assert "include=users%2Cgroups%2Corganizations%2Cmetric_sets" in export_call.url
    assert export_call.headers["Authorization"].startswith("Basic ")


@responses.activate
def test_history_from_the_documented_audits_payload() -> None:
    """The OAS audits example (offset pagination, a private comment and a status change
    made by a trigger) becomes a comment and a status_changed event; the comments
    endpoint is not called."""
    responses.get(
        f"{BASE}/api/v2/incremental/tickets/cursor.json",
        json=load("oas_incremental_tickets_cursor.json"),
    )
    responses.get(f"{BASE}/api/v2/organizations/show_many.json", json=ORGS)
    responses.get(
        f"{BASE}/api/v2/tickets/35436/audits.json", json=load("oas_ticket_audits_for_ticket.json")
    )
    (page,) = list(make(history="audits").poll(None))
    (ticket,) = page.tickets
    (comment,) = ticket.comments
    assert (comment.text, comment.public, comment.author_id) == (
        "This is a new private comment",
        False,
        "5246746",
    )
    changes = [(e.type.value, e.from_status, e.to_status) for e in ticket.events]
    assert ("status_changed", "new", "open") in changes
    assert not any("/comments" in call.request.url for call in responses.calls)


@responses.activate
def test_a_plain_text_429_then_success() -> None:
    url = f"{BASE}/api/v2/incremental/tickets/cursor.json"
    responses.get(
        url,
        body="Number of allowed API requests per minute exceeded",
        status=429,
        headers={"Retry-After": "30"},
        content_type="text/plain",
    )
    responses.get(url, json=load("oas_incremental_tickets_cursor.json"))
    responses.get(f"{BASE}/api/v2/organizations/show_many.json", json=ORGS)
    responses.get(re.compile(rf"{BASE}/api/v2/tickets/\d+/comments.json.*"), json={"comments": []})
    clock = FakeClock()
    (page,) = list(make(clock).poll(None))
    assert len(page.tickets) == 1
    assert clock.now() >= 30


@responses.activate
def test_401_body_fails_fast_with_a_clear_message() -> None:
    responses.get(
        f"{BASE}/api/v2/users/me.json", json=load("error_401_zendesk_go.json"), status=401
    )
    with pytest.raises(AuthenticationError, match="Couldn't authenticate you") as info:
        make().check()
    assert len(responses.calls) == 1
    assert "t0k3n" not in str(info.value)


@responses.activate
def test_bulk_write_back_on_documented_job_shapes() -> None:
    job = load("oas_job_status_update_many.json")
    responses.put(
        f"{BASE}/api/v2/tickets/update_many.json",
        json={"job_status": {**job["job_status"], "status": "queued", "results": None}},
    )
    responses.get(
        f"{BASE}/api/v2/job_statuses/show_many.json", json={"job_statuses": [job["job_status"]]}
    )
    results = make().apply([plan(244, AddTags(tags=("a",))), plan(245, InternalNote(body="n"))])
    assert all(r.applied for r in results)
    sent = responses.calls[0].request
    assert b'"additional_tags"' in sent.body
    assert b'"tags"' not in sent.body


@responses.activate
def test_a_read_timeout_is_retried_and_a_connect_error_too() -> None:
    url = f"{BASE}/api/v2/users/me.json"
    responses.get(url, body=requests.ReadTimeout("slow"))
    responses.get(url, body=requests.ConnectionError("refused"))
    responses.get(url, json={"user": {"id": 1, "role": "admin"}})
    make().check()
    assert len(responses.calls) == 3


def test_the_fake_serves_through_responses_too() -> None:
    fake = FakeZendesk(base_url=BASE)
    tid = fake.add_ticket()
    fake.clock.advance(120)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake.install(rsps)
        connector = ZendeskConnector.from_config(
            {"subdomain": "company"}, clock=fake.clock, env=fake.env
        )
        (page,) = list(connector.poll(None))
        p = plan(tid, InternalNote(body="hello"))
        (result,) = connector.apply([p])
    assert page.tickets[0].source.external_id == str(tid)
    assert result.applied
    assert fake.marker_count(tid, p.actions[0].key) == 1
