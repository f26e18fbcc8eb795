"""Customers from contacts and companies, agents with e-mail and groups, and the backlog
count, through the fake Freshdesk."""

from __future__ import annotations

from empathy_firewall.testing import FakeClock
from empathy_firewall_freshdesk import FreshdeskConnector
from empathy_firewall_freshdesk.testing import FakeFreshdesk


def test_contact_and_company_fields_reach_the_ticket_and_agents_are_listed() -> None:
    fake = FakeFreshdesk(clock=FakeClock())
    billing = fake.add_group("billing")
    agent = fake.add_agent(name="Ana", email="ana@corp.test", group_ids=[billing])
    company = fake.add_company("Acme", custom_fields={"ltv": "2,400"}, account_tier="Premium")
    contact = fake.add_contact(
        name="Bo", language="fr", company_id=company, custom_fields={"orders": 3}
    )
    fake.add_ticket(requester_id=contact, responder_id=agent, status=2, age_seconds=600)
    fake.add_ticket(requester_id=contact, responder_id=agent, status=4, age_seconds=500)
    fake.clock.advance(60)
    connector = fake.connect(FreshdeskConnector, initial_lookback_minutes=60)
    (page,) = list(connector.poll(None))
    ticket = page.tickets[0]
    person = ticket.requester
    assert (person.loyalty_tier, person.lifetime_value, person.order_count) == (
        "Premium",
        2400.0,
        3,
    )
    assert (person.language, person.organization) == ("fr", "Acme")
    assert ticket.assignee is not None
    assert (ticket.assignee.email, ticket.assignee.groups) == ("ana@corp.test", ("billing",))
    # one contact view and one company view for the two tickets of the run
    assert fake.count(f"/api/v2/contacts/{contact}") == 1
    assert fake.count(f"/api/v2/companies/{company}") == 1
    listed = {a.id: a for a in connector.list_agents()}
    assert listed[str(agent)].email == "ana@corp.test"
    fake.unseen_open[agent] = 4
    assert connector.count_open_by_assignee([str(agent), "x"]) == {str(agent): 5}
    assert connector.count_open(str(agent)) == 5  # the core's cold-store hook


def test_a_contact_that_vanished_is_an_unknown_customer_not_an_error() -> None:
    fake = FakeFreshdesk(clock=FakeClock())
    contact = fake.add_contact(name="Gone")
    fake.add_ticket(requester_id=contact, age_seconds=600)
    del fake.state.contacts[contact]
    fake.clock.advance(60)
    connector = fake.connect(FreshdeskConnector, initial_lookback_minutes=60)
    (page,) = list(connector.poll(None))
    (ticket,) = page.tickets
    assert ticket.requester.loyalty_tier is None
    assert ticket.requester.id == str(contact)


def test_contacts_are_read_again_after_the_cache_period() -> None:
    fake = FakeFreshdesk(clock=FakeClock())
    contact = fake.add_contact(name="Bo", custom_fields={"tier": "gold"})
    tid = fake.add_ticket(requester_id=contact, age_seconds=600)
    connector = fake.connect(FreshdeskConnector, people_cache_seconds=600)
    (first,) = connector.fetch([str(tid)])
    fake.state.contacts[contact]["custom_fields"]["tier"] = "platinum"
    (cached,) = connector.fetch([str(tid)])
    assert first.requester.loyalty_tier == cached.requester.loyalty_tier == "gold"
    fake.clock.advance(601)
    (fresh,) = connector.fetch([str(tid)])
    assert fresh.requester.loyalty_tier == "platinum"
    assert fake.count(f"/api/v2/contacts/{contact}") == 2
