"""Plan builders for the Freshdesk tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from empathy_firewall.actions import Plan
from empathy_firewall.models import SourceRef
from empathy_firewall.testing.plans import MATCH, make_plan

__all__ = ["MATCH", "plan", "ref"]


def ref(ticket_id: int | str) -> SourceRef:
    return SourceRef(
        connector="freshdesk", external_id=str(ticket_id), account="fake.freshdesk.test"
    )


def plan(ticket_id: int | str, *actions: Any, anchor: str = "once") -> Plan:
    return make_plan(
        ref(ticket_id), actions, anchor=anchor, evaluated_at=datetime(2026, 1, 5, tzinfo=UTC)
    )
