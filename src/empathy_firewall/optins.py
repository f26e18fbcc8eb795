"""Agent opt-ins: the features an agent can switch on or off, and how stored choices merge.

An agent's opt-ins reach the firewall from two places: what the connector delivered on the
:class:`~empathy_firewall.models.Agent` (the sample file, or a named helpdesk agent field)
and what the agent chose through ``empathy-firewall agents opt-in|opt-out`` or a digest's
opt-out link, kept in the state store. :func:`merge_opt_ins` is the one rule that combines
them: a stored choice overrides the delivered value, so a stored opt-out always wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, get_args

from empathy_firewall.models import AgentOptIns, Ticket

__all__ = [
    "FEATURES",
    "FEATURE_FIELDS",
    "Feature",
    "apply_stored_opt_ins",
    "merge_opt_ins",
]

Feature = Literal["strain", "breaks", "recognition"]
#: every feature an agent can opt in to, in display order
FEATURES: tuple[Feature, ...] = get_args(Feature)
#: the :class:`~empathy_firewall.models.AgentOptIns` field each feature sets
FEATURE_FIELDS: Mapping[Feature, str] = {
    "strain": "strain_tracking",
    "breaks": "break_prompts",
    "recognition": "recognition",
}


def merge_opt_ins(delivered: AgentOptIns, stored: Mapping[str, bool]) -> AgentOptIns:
    """The opt-ins to evaluate with: each stored choice replaces the delivered value.

    ``stored`` maps a feature (``strain``, ``breaks``, ``recognition``) to the agent's
    stored choice; features without a stored choice keep what the connector delivered.
    A stored ``False`` therefore always wins over a helpdesk field that says yes.
    """
    update = {FEATURE_FIELDS[f]: on for f, on in stored.items() if f in FEATURE_FIELDS}  # type: ignore[index]
    if not update:
        return delivered
    return delivered.model_copy(update=update)


def apply_stored_opt_ins(ticket: Ticket, stored: Mapping[str, Mapping[str, bool]]) -> Ticket:
    """``ticket`` with its assignee's opt-ins merged with ``stored`` (keyed by agent id)."""
    agent = ticket.assignee
    if agent is None or agent.id not in stored:
        return ticket
    merged = merge_opt_ins(agent.opt_in, stored[agent.id])
    if merged == agent.opt_in:
        return ticket
    return ticket.model_copy(update={"assignee": agent.model_copy(update={"opt_in": merged})})
