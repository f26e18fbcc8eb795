"""Plan builders for connector tests and benchmarks: plans keyed as the engine keys them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from empathy_firewall.actions import Action, Plan, PlannedAction, RuleMatch, action_key
from empathy_firewall.models import SourceRef

__all__ = ["MATCH", "make_plan"]

#: the rule every built action is attributed to
MATCH = RuleMatch(rule_id="frustration.repeat_contact", pack="core")


def make_plan(
    ticket: SourceRef,
    actions: Iterable[Action],
    *,
    anchor: str = "once",
    evaluated_at: datetime | None = None,
    match: RuleMatch = MATCH,
) -> Plan:
    """A plan for ``ticket`` with ``actions`` in order, each attributed to ``match`` and keyed
    by its position (two actions of the same kind get different keys).

    ``evaluated_at`` defaults to now.
    """
    planned = tuple(
        PlannedAction(
            action=a,
            because=(match,),
            key=action_key(ticket.key, a.kind, (match.rule_id, str(n)), anchor),
        )
        for n, a in enumerate(actions)
    )
    return Plan(ticket=ticket, evaluated_at=evaluated_at or datetime.now(UTC), actions=planned)
