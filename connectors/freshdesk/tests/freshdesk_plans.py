"""Plan builders for the Freshdesk tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from empathy_firewall.actions import Plan, PlannedAction, RuleMatch, action_key
from empathy_firewall.models import SourceRef

MATCH = RuleMatch(rule_id="frustration.repeat_contact", pack="core")


def ref(ticket_id: int | str) -> SourceRef:
    return SourceRef(
        connector="freshdesk", external_id=str(ticket_id), account="fake.freshdesk.test"
    )


def plan(ticket_id: int | str, *actions: Any, anchor: str = "once") -> Plan:
    source = ref(ticket_id)
    planned = tuple(
        PlannedAction(
            action=a,
            because=(MATCH,),
            key=action_key(source.key, a.kind, (MATCH.rule_id, str(n)), anchor),
        )
        for n, a in enumerate(actions)
    )
    return Plan(ticket=source, evaluated_at=datetime(2026, 1, 5, tzinfo=UTC), actions=planned)
