"""From plans to the outbox, pure: agent prompts are held back from the helpdesk.

Sync and the webhook workers call :func:`hold_prompts` before applying a page: every
``agent_prompt`` leaves the plan (it is never written to a ticket) and becomes a
:class:`~empathy_firewall.channels.outbox.QueuedPrompt` for the agent's private digest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from empathy_firewall.actions import AgentPrompt, Plan
from empathy_firewall.channels.outbox import AgentRef, QueuedPrompt
from empathy_firewall.engine.rules import RuleSet
from empathy_firewall.models import Agent

__all__ = ["feature_of", "hold_prompts"]


def feature_of(rule_ids: Sequence[str], rules: RuleSet | None) -> str:
    """Which opt-in a prompt depends on: ``recognition`` or ``breaks``.

    Read from the opt-in paths the firing rules' conditions test
    (``agent.recognition``, ``agent.break_prompts``); ``breaks`` when none says.
    """
    for rule_id in rule_ids:
        rule = rules.get(rule_id) if rules is not None else None
        paths = set(rule.condition.paths) if rule is not None and rule.condition else set()
        if "agent.recognition" in paths:
            return "recognition"
    return "breaks"


def hold_prompts(
    plans: Sequence[Plan],
    *,
    connector: str,
    account: str,
    assignees: Mapping[str, Agent | None],
    rules: RuleSet | None,
) -> tuple[list[Plan], list[QueuedPrompt]]:
    """The plans without agent prompts, and the prompts to queue (in plan order).

    ``assignees`` maps a ticket key to the agent it was evaluated with (for the e-mail
    address the helpdesk gave). A plan left with no actions is dropped.
    """
    kept: list[Plan] = []
    held: list[QueuedPrompt] = []
    for plan in plans:
        rest = []
        for planned in plan.actions:
            action = planned.action
            if not isinstance(action, AgentPrompt):
                rest.append(planned)
                continue
            agent = assignees.get(plan.ticket.key)
            same = agent is not None and agent.id == action.agent_id
            email = agent.email if agent is not None and same else None
            name = agent.name if agent is not None and same else None
            rule_ids = tuple(m.rule_id for m in planned.because)
            held.append(
                QueuedPrompt(
                    agent=AgentRef(connector, account, action.agent_id),
                    prompt_key=planned.key,
                    ticket_key=plan.ticket.key,
                    ticket_id=plan.ticket.external_id,
                    ticket_url=plan.ticket.url,
                    feature=feature_of(rule_ids, rules),
                    rules=rule_ids,
                    body=action.body,
                    email=email,
                    evaluated_at=plan.evaluated_at,
                    name=name,
                )
            )
        if len(rest) == len(plan.actions):
            kept.append(plan)
        elif rest:
            kept.append(plan.model_copy(update={"actions": tuple(rest)}))
    return kept, held
