"""Evaluate one ticket built in Python and print its plan, with the reason for every action.

Run from the repository root::

    python examples/evaluate_one_ticket.py

Uses only the public API: the models, ``EvaluationContext`` and ``evaluate``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from empathy_firewall import (
    Agent,
    Comment,
    Customer,
    DraftReply,
    EvaluationContext,
    EventType,
    InternalNote,
    Role,
    SourceRef,
    Ticket,
    TicketEvent,
    evaluate,
)

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def build_ticket() -> Ticket:
    """A gold customer, bounced between two groups, waiting for five hours."""
    return Ticket(
        source=SourceRef(connector="example", external_id="1001"),
        subject="Order never arrived",
        created_at=NOW - timedelta(hours=26),
        updated_at=NOW - timedelta(hours=5),
        requester=Customer(id="c-42", name="Alex Rivera", loyalty_tier="gold"),
        assignee=Agent(id="a-7", name="Sam Lee", open_tickets=12),
        group="support",
        comments=(
            Comment(
                id="c1",
                author_role=Role.CUSTOMER,
                created_at=NOW - timedelta(hours=26),
                text="My order #48213 never arrived. I already checked with my neighbours.",
            ),
            Comment(
                id="c2",
                author_role=Role.AGENT,
                author_id="a-1",
                created_at=NOW - timedelta(hours=24),
                text="Sorry about that! I'm passing this to our shipping team.",
            ),
            Comment(
                id="c3",
                author_role=Role.CUSTOMER,
                created_at=NOW - timedelta(hours=5),
                text=(
                    "This is the third time I write. Still no answer!!! I want to cancel my order."
                ),
            ),
        ),
        events=(
            TicketEvent(
                type=EventType.REASSIGNED,
                at=NOW - timedelta(hours=24),
                from_group="sales",
                to_group="shipping",
            ),
            TicketEvent(
                type=EventType.REASSIGNED,
                at=NOW - timedelta(hours=6),
                from_group="shipping",
                to_group="support",
            ),
        ),
    )


def main() -> None:
    plan = evaluate(build_ticket(), EvaluationContext(now=NOW))
    print(f"plan for ticket {plan.ticket.external_id}: {len(plan.actions)} action(s)")
    for planned in plan.actions:
        rules = ", ".join(match.rule_id for match in planned.because)
        print(f"- {planned.action.kind} <- {rules}")
    print()
    for match in plan.matches:
        facts = "; ".join(f"{e.path} = {e.value}" for e in match.evidence if not e.private)
        print(f"{match.rule_id}: {facts}")
    for planned in plan.actions:
        if isinstance(planned.action, InternalNote | DraftReply):
            print()
            print(f"--- {planned.action.kind} ---")
            print(planned.action.body)


if __name__ == "__main__":
    main()
