"""Run the sample helpdesk through a Pipeline that remembers customers, agents and firings.

Run from the repository root::

    python examples/pipeline_sample.py

This is what ``empathy-firewall simulate`` does, written with the public API: a
``Pipeline`` over an ``Engine`` and a ``MemoryHistory``. Processing the same tickets a
second time shows the gates at work: rules that already acted are held back.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from empathy_firewall import (
    Engine,
    FirewallSettings,
    MemoryHistory,
    Pipeline,
    Ticket,
)

SAMPLE = Path(__file__).resolve().parent / "sample_helpdesk.jsonl"
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def read_tickets(path: Path) -> list[Ticket]:
    """One Ticket per line; blank and '#' lines are skipped, as the file source does."""
    tickets = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            tickets.append(Ticket.model_validate_json(line))
    return tickets


def main() -> None:
    settings = FirewallSettings.model_validate({"customer_fields": {"tier_field": "plan"}})
    history = MemoryHistory(max_tickets=settings.memory.max_tickets)
    pipeline = Pipeline(Engine(), settings, history)
    tickets = read_tickets(SAMPLE)

    fired: Counter[str] = Counter()
    for processed in pipeline.run(tickets, NOW):
        fired.update(match.rule_id for match in processed.plan.matches)
    print(f"first pass: {len(tickets)} tickets, {sum(fired.values())} rule firings")
    for rule_id, count in fired.most_common():
        print(f"  {rule_id}: {count}")

    again = [pipeline.process(ticket, NOW).plan for ticket in tickets]
    acted = sum(len(plan.matches) for plan in again)
    held: Counter[str] = Counter(item.rule_id for plan in again for item in plan.suppressed)
    print(f"second pass, same time: {acted} rule firings, {sum(held.values())} held back")
    for rule_id, count in held.most_common(3):
        print(f"  held back {rule_id}: {count}")


if __name__ == "__main__":
    main()
