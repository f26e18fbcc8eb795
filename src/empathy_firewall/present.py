"""Human-readable rendering of plans and run summaries (pure string building)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from empathy_firewall.actions import (
    AddTags,
    AgentPrompt,
    ApplyMacro,
    DraftReply,
    InternalNote,
    Plan,
    PlannedAction,
    PublicReply,
    RemoveTags,
    RoutingSuggestion,
    SetPriority,
)
from empathy_firewall.signals.enrich import Signals

__all__ = ["RunTally", "format_plan", "format_signals_line"]

_BODY_PREVIEW_LINES = 6


def _fmt(value: float | None, pattern: str = "{:+.2f}") -> str:
    return "-" if value is None else pattern.format(value)


def format_signals_line(signals: Signals) -> str:
    """One line summarizing what the firewall understood about the ticket."""
    e, f = signals.emotion, signals.friction
    parts = [f"frustration {e.frustration_level} ({e.frustration:.2f})"]
    if e.customer_messages:
        parts.append(f"sentiment {_fmt(e.first)} -> {_fmt(e.latest)}")
    if f.waiting and f.waiting_minutes is not None:
        wait = f"waiting {f.waiting_minutes / 60:.1f} h"
        if f.sla_used_ratio is not None:
            wait += f" ({f.sla_used_ratio:.0%} of SLA{', breached' if f.breached else ''})"
        parts.append(wait)
    if f.reassignments:
        parts.append(f"{f.reassignments} reassignment(s), {f.group_hops} group hop(s)")
    if f.reopens:
        parts.append(f"{f.reopens} reopen(s)")
    if signals.recovery.severity != "none":
        parts.append(f"recovery {signals.recovery.severity}")
    return " | ".join(parts)


def _describe(planned: PlannedAction) -> tuple[str, str | None]:
    action = planned.action
    if isinstance(action, AddTags):
        return f"+ tags {', '.join(action.tags)}", None
    if isinstance(action, RemoveTags):
        return f"- tags {', '.join(action.tags)}", None
    if isinstance(action, SetPriority):
        return f"~ priority -> {action.priority.value}", None
    if isinstance(action, ApplyMacro):
        return f"~ macro {action.macro}", None
    if isinstance(action, InternalNote):
        return "# internal note", action.body
    if isinstance(action, DraftReply):
        return "> draft reply for the agent (not sent)", action.body
    if isinstance(action, PublicReply):
        return "> PUBLIC reply to the customer", action.body
    if isinstance(action, RoutingSuggestion):
        extra = (
            f" (prefer: {', '.join(action.prefer_agent_ids)})" if action.prefer_agent_ids else ""
        )
        return f"~ routing suggestion{extra}", action.reason
    assert isinstance(action, AgentPrompt)
    return f"@ private prompt for agent {action.agent_id}", action.body


def format_plan(plan: Plan, signals: Signals | None = None, *, full: bool = False) -> str:
    """A readable block for one ticket's plan, with the rules that explain each action."""
    ticket = signals.ticket if signals is not None else None
    head = f"ticket {plan.ticket.external_id}"
    if ticket is not None:
        owner = ticket.assignee.name or ticket.assignee.id if ticket.assignee else "unassigned"
        head += (
            f" [{ticket.status.value}/{ticket.priority.value}] {ticket.group or '-'}, {owner}: "
            f"{ticket.subject[:60]}"
        )
    lines = [head]
    if signals is not None:
        lines.append(f"  signals: {format_signals_line(signals)}")
    if plan.is_empty:
        lines.append("  (nothing to do)")
    for planned in plan.actions:
        title, body = _describe(planned)
        rules = ", ".join(m.rule_id for m in planned.because)
        lines.append(f"  {title}    <- {rules}")
        if body:
            body_lines = body.splitlines()
            shown = body_lines if full else body_lines[:_BODY_PREVIEW_LINES]
            lines.extend(f"      | {line}" for line in shown)
            if len(shown) < len(body_lines):
                lines.append(f"      | ... ({len(body_lines) - len(shown)} more lines; --full)")
    for item in plan.suppressed:
        lines.append(f"  (held back: {item.rule_id}: {item.reason})")
    return "\n".join(lines)


@dataclass
class RunTally:
    """Counts over a run, for the closing summary."""

    tickets: int = 0
    with_actions: int = 0
    actions: Counter[str] = field(default_factory=Counter)
    rules: Counter[str] = field(default_factory=Counter)
    suppressed: int = 0

    def add(self, plan: Plan) -> None:
        """Count one plan."""
        self.tickets += 1
        if plan.actions:
            self.with_actions += 1
        self.actions.update(p.action.kind for p in plan.actions)
        self.rules.update(m.rule_id for m in plan.matches)
        self.suppressed += len(plan.suppressed)

    def lines(self) -> Iterable[str]:
        """The summary, line by line."""
        yield f"{self.tickets} tickets evaluated, {self.with_actions} with actions"
        if self.actions:
            yield "actions: " + ", ".join(f"{k} {n}" for k, n in sorted(self.actions.items()))
        if self.rules:
            yield "rules fired: " + ", ".join(f"{k} {n}" for k, n in self.rules.most_common())
        if self.suppressed:
            yield f"held back by cooldowns or merging: {self.suppressed}"
