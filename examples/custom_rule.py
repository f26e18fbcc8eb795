"""Extend the engine in Python: a named condition for YAML packs, and a Python rule.

Run from the repository root::

    python examples/custom_rule.py

Both are registered on an isolated copy of the default registry, so nothing leaks into
``empathy_firewall.evaluate`` or other code in the same process.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from empathy_firewall import (
    Action,
    AddTags,
    Comment,
    Customer,
    Engine,
    EvaluationContext,
    Role,
    Signals,
    SourceRef,
    Ticket,
    default_registry,
    load_rule_packs,
)

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)

registry = default_registry.copy()


@registry.condition("mentions")
def mentions(signals: Signals, word: str) -> bool:
    """The latest public customer message contains ``word`` (case-insensitive)."""
    for comment in reversed(signals.ticket.comments):
        if comment.author_role is Role.CUSTOMER and comment.public:
            return word.lower() in comment.text.lower()
    return False


@registry.rule("acme-platinum", pack="acme", priority=40)
def platinum(signals: Signals) -> list[Action] | None:
    """Tag tickets from platinum customers."""
    if signals.memory.tier == "platinum":
        return [AddTags(tags=("acme_platinum",))]
    return None


PACK = """\
pack: acme
rules:
  - id: acme-refund-request
    description: Route refund requests to billing, with a short note.
    when:
      all:
        - ticket.is_open: true
        - condition: {name: mentions, args: {word: refund}}
    actions:
      - add_tags: [acme_refund]
      - internal_note: |
          {{ customer.first_name or "The customer" }} asks for a refund
          (frustration {{ frustration.level }}).
"""


def ticket(text: str, tier: str) -> Ticket:
    return Ticket(
        source=SourceRef(connector="example", external_id=tier),
        subject="Question",
        created_at=NOW - timedelta(hours=2),
        updated_at=NOW - timedelta(hours=1),
        requester=Customer(id="c-" + tier, name="Jo Park", loyalty_tier=tier),
        comments=(
            Comment(
                id="1", author_role=Role.CUSTOMER, created_at=NOW - timedelta(hours=1), text=text
            ),
        ),
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        pack = Path(tmp) / "acme.yaml"
        pack.write_text(PACK, encoding="utf-8")
        rules = load_rule_packs([pack], registry=registry)
    print("loaded rules:", ", ".join(rule.id for rule in rules.rules))
    engine = Engine(rules)
    context = EvaluationContext(now=NOW)
    for item in (
        ticket("Hello, I would like a refund for my last order, please.", "silver"),
        ticket("Can you tell me when the new catalogue comes out?", "platinum"),
    ):
        plan = engine.evaluate(item, context)
        for planned in plan.actions:
            rule_ids = ", ".join(m.rule_id for m in planned.because)
            print(f"ticket {item.source.external_id}: {planned.action.kind} <- {rule_ids}")


if __name__ == "__main__":
    main()
