"""HTTP paths through the real requests transport, with `responses` serving real shapes."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
import responses
from freshdesk_fixtures import load
from freshdesk_plans import plan
from responses import matchers

from empathy_firewall.actions import AddTags, InternalNote
from empathy_firewall.errors import AuthenticationError
from empathy_firewall.testing import FakeClock
from empathy_firewall_freshdesk import FreshdeskConnector
from empathy_firewall_freshdesk.testing import FakeFreshdesk

BASE = "https://acme.freshdesk.com"
RATE = {
    "X-Ratelimit-Total": "200",
    "X-Ratelimit-Remaining": "199",
    "X-Ratelimit-Used-Currentrequest": "1",
}


def make(clock: FakeClock | None = None, **config: Any) -> FreshdeskConnector:
    connector = FreshdeskConnector.from_config(
        {"domain": "acme", **config}, clock=clock or FakeClock(), env={"FRESHDESK_API_KEY": "k3y"}
    )
    assert isinstance(connector, FreshdeskConnector)
    return connector


@responses.activate
def test_check_sends_basic_auth_with_the_api_key() -> None:
    agent = load("agents_list_real_freshly_2016.json")[1]
    expected = "Basic " + base64.b64encode(b"k3y:X").decode()
    responses.get(
        f"{BASE}/api/v2/agents/me",
        json=agent,
        headers=RATE,
        match=[matchers.header_matcher({"Authorization": expected, "Accept": "application/json"})],
    )
    connector = make()
    connector.check()
    assert connector.client.observed_total == 200
    assert connector.client.list_budget.limit == 20  # Growth: 200/min, 20 list calls


@responses.activate
def test_invalid_credentials_are_an_authentication_error() -> None:
    responses.get(
        f"{BASE}/api/v2/agents/me",
        status=401,
        json={"code": "invalid_credentials", "message": "You have to be logged in"},
    )
    with pytest.raises(AuthenticationError, match="invalid_credentials") as info:
        make().check()
    assert "k3y" not in str(info.value)


@responses.activate
def test_poll_normalizes_a_real_ticket_and_its_conversations() -> None:
    ticket = load("ticket_show_real_freshly_2016.json")
    responses.get(re.compile(rf"{BASE}/api/v2/tickets\?.*"), json=[ticket], headers=RATE)
    responses.get(f"{BASE}/api/v2/agents", json=load("agents_list_real_freshly_2016.json"))
    responses.get(f"{BASE}/api/v2/groups", json=load("groups_list_real_freshly_2016.json"))
    responses.get(
        f"{BASE}/api/v2/tickets/4/conversations",
        json=[
            load("note_created_real_freshly_2016.json"),
            load("reply_created_real_freshly_2016.json"),
        ],
    )
    # the contact view, shaped as the API reference's "View a Contact" example
    responses.get(
        f"{BASE}/api/v2/contacts/{ticket['requester_id']}",
        json={
            "id": ticket["requester_id"],
            "name": "Sam Duke",
            "email": "sam@example.com",
            "active": True,
            "company_id": None,
            "language": "de",
            "custom_fields": {"loyalty_tier": "Gold", "orders": "14", "ltv": None},
            "created_at": "2016-02-09T21:13:25Z",
            "updated_at": "2016-03-16T23:07:08Z",
        },
    )
    (page,) = make(initial_lookback_minutes=60 * 24 * 365 * 20).poll(None)
    (normalized,) = page.tickets
    customer = normalized.requester
    assert (customer.loyalty_tier, customer.order_count, customer.lifetime_value) == (
        "Gold",
        14,
        None,
    )
    assert customer.language == "de"
    assert [c.text for c in normalized.comments] == [
        "I am testing the api",
        "this is a test reply to a test conversation",
        "this is a test note on a ticket",
    ]
    assert normalized.comments[2].public is False
    listed = responses.calls[0].request.url
    assert "updated_since=" in listed
    assert "order_by=updated_at" in listed
    assert "order_type=asc" in listed
    assert "include=stats%2Crequester%2Cdescription" in listed


@responses.activate
def test_a_validation_error_skips_that_ticket_with_freshdesks_reason() -> None:
    responses.get(f"{BASE}/api/v2/tickets/4", json=load("ticket_show_real_freshly_2016.json"))
    responses.put(
        f"{BASE}/api/v2/tickets/4",
        status=400,
        json=load("error_400_validation_failed_real_freshly.json"),
    )
    (result,) = make().apply([plan(4, AddTags(tags=("ef_x",)))])
    (skipped,) = result.skipped
    assert "Validation failed" in skipped.reason
    assert "[missing_field]" in skipped.reason


@responses.activate
def test_a_429_waits_for_retry_after_before_the_retry() -> None:
    clock = FakeClock()
    url = f"{BASE}/api/v2/tickets/4/notes"
    responses.post(url, status=429, headers={"Retry-After": "38"}, body="")
    responses.post(url, status=201, json=load("note_private_python_freshdesk.json"))
    (result,) = make(clock).apply([plan(4, InternalNote(body="n"))])
    assert result.applied
    assert clock.sleeps
    assert max(clock.sleeps) >= 38
    sent = json.loads(responses.calls[-1].request.body)
    assert sent["private"] is True


@responses.activate
def test_a_whitespace_404_skips_with_not_found() -> None:
    responses.post(f"{BASE}/api/v2/tickets/9/notes", status=404, body=" ")
    (result,) = make().apply([plan(9, InternalNote(body="n"))])
    assert "404: not found" in result.skipped[0].reason


def test_the_fake_served_through_responses_end_to_end() -> None:
    fake = FakeFreshdesk(base_url=BASE)
    tid = fake.add_ticket(tags=("vip",))
    fake.clock.advance(30)
    connector = FreshdeskConnector.from_config(
        fake.connector_config(), clock=fake.clock, env=fake.env
    )
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake.install(rsps)
        (page,) = connector.poll(None)
        assert [t.source.external_id for t in page.tickets] == [str(tid)]
        (result,) = connector.apply([plan(tid, AddTags(tags=("ef_x",)), InternalNote(body="n"))])
    assert len(result.applied) == 2
    assert set(fake.tags(tid)) == {"vip", "ef_x"}
    assert len(fake.notes(tid)) == 1
