"""The fake keeps Freshdesk's SLA due times as the connector reads them."""

from __future__ import annotations

from datetime import timedelta

from empathy_firewall.testing import FakeClock
from empathy_firewall_freshdesk import FreshdeskConnector
from empathy_firewall_freshdesk.testing import FakeFreshdesk


def test_a_new_wait_after_an_answer_gets_its_next_response_due() -> None:
    fake = FakeFreshdesk(clock=FakeClock())
    agent = fake.add_agent(name="Ana", email="ana@example.com")
    customer = fake.add_contact(name="Cy", email="cy@example.com")
    tid = fake.add_ticket(requester_id=customer, fr_due_minutes=60, nr_due_minutes=120)
    connector = fake.connect(FreshdeskConnector)

    def sla() -> tuple[str | None, float | None]:
        (ticket,) = connector.fetch([str(tid)])
        assert ticket.sla is not None
        return ticket.sla.policy, ticket.sla.reply_target_minutes

    assert sla() == ("first_response", 60.0)
    fake.clock.advance(600)
    fake.add_conversation(tid, "On it", user_id=agent)
    # answered, nobody waiting: due_by (resolution) is no reply target
    assert "nr_due_by" not in fake.ticket(tid)
    assert sla() == ("resolution", None)
    fake.clock.advance(600)
    fake.add_conversation(tid, "Still broken", user_id=customer, incoming=True)
    due = fake.ticket(tid)["nr_due_by"]
    assert due == (fake.clock.wall() + timedelta(minutes=120)).strftime("%Y-%m-%dT%H:%M:%SZ")
    fake.clock.advance(600)
    fake.add_conversation(tid, "And again", user_id=customer, incoming=True)
    assert fake.ticket(tid)["nr_due_by"] == due  # the wait began at the first message
    assert sla()[0] == "next_response"
