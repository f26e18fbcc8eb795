"""What the firewall decides to do, and why.

An :data:`Action` is one change to write back into the helpdesk. A :class:`Plan` holds the
actions for one ticket; every :class:`PlannedAction` carries the :class:`RuleMatch` objects
that explain it (rule id, pack, evidence values and quotes) and a stable idempotency
``key`` that connectors stamp into what they write, so nothing is ever applied twice.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from empathy_firewall.models import Priority, SourceRef

__all__ = [
    "Action",
    "ActionKind",
    "ActionPart",
    "AddTags",
    "AgentPrompt",
    "ApplyMacro",
    "DraftReply",
    "Evidence",
    "EvidenceValue",
    "InternalNote",
    "Plan",
    "PlannedAction",
    "PublicReply",
    "Quote",
    "RemoveTags",
    "RoutingSuggestion",
    "RuleMatch",
    "SetPriority",
    "Suppressed",
    "action_key",
]

EvidenceValue = str | int | float | bool | None | tuple[str, ...]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AddTags(_Model):
    """Add tags, leaving every other tag on the ticket alone."""

    kind: Literal["add_tags"] = "add_tags"
    tags: tuple[str, ...] = Field(min_length=1)


class RemoveTags(_Model):
    """Remove exactly these tags (the firewall only removes tags it owns)."""

    kind: Literal["remove_tags"] = "remove_tags"
    tags: tuple[str, ...] = Field(min_length=1)


class InternalNote(_Model):
    """A private note for agents. Never visible to the customer."""

    kind: Literal["internal_note"] = "internal_note"
    body: str = Field(min_length=1)


class ApplyMacro(_Model):
    """Apply a helpdesk macro (Zendesk) or canned response (Freshdesk) by name or id."""

    kind: Literal["apply_macro"] = "apply_macro"
    macro: str = Field(min_length=1)


class DraftReply(_Model):
    """A suggested customer-facing reply, written for the agent to review and send."""

    kind: Literal["draft_reply"] = "draft_reply"
    body: str = Field(min_length=1)


class PublicReply(_Model):
    """A reply sent to the customer. Only produced when the admin opted in."""

    kind: Literal["public_reply"] = "public_reply"
    body: str = Field(min_length=1)


class SetPriority(_Model):
    """Change the ticket's priority."""

    kind: Literal["set_priority"] = "set_priority"
    priority: Priority


class RoutingSuggestion(_Model):
    """Suggest who should (not) take this ticket next. Suggested, never enforced."""

    kind: Literal["routing_suggestion"] = "routing_suggestion"
    reason: str = Field(min_length=1)
    avoid_agent_ids: tuple[str, ...] = ()
    prefer_agent_ids: tuple[str, ...] = ()
    prefer_group: str | None = None


class AgentPrompt(_Model):
    """A private message for one agent (a break prompt, a note of recognition).

    Never written onto the ticket: connectors deliver it only through a channel that agent
    alone sees, and otherwise leave it to the firewall's own per-agent report.
    """

    kind: Literal["agent_prompt"] = "agent_prompt"
    agent_id: str = Field(min_length=1)
    body: str = Field(min_length=1)


Action = Annotated[
    AddTags
    | RemoveTags
    | InternalNote
    | ApplyMacro
    | DraftReply
    | PublicReply
    | SetPriority
    | RoutingSuggestion
    | AgentPrompt,
    Field(discriminator="kind"),
]

ActionKind = Literal[
    "add_tags",
    "remove_tags",
    "internal_note",
    "apply_macro",
    "draft_reply",
    "public_reply",
    "set_priority",
    "routing_suggestion",
    "agent_prompt",
]


class Evidence(_Model):
    """A signal or field value a rule's conditions looked at."""

    path: str
    value: EvidenceValue
    private: bool = False
    """Agent-private evidence (strain figures): never written where colleagues can read it."""


class Quote(_Model):
    """A customer's words that support a decision, located in a comment."""

    comment_id: str
    cue: str
    text: str
    """The exact words that matched, ``comment.text[start:end]``."""
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    context: str = ""
    """The sentence around them, trimmed, for quoting in notes."""


class RuleMatch(_Model):
    """Why an action is in the plan: which rule fired and on what evidence."""

    rule_id: str
    pack: str
    description: str = ""
    evidence: tuple[Evidence, ...] = ()
    quotes: tuple[Quote, ...] = ()
    episode: str | None = None
    """For rules that act once per episode: which episode (e.g. when the wait began)."""
    scope: str | None = None
    """Whose history the rule's cooldown reads: a ticket, agent or customer key."""

    @property
    def disable_hint(self) -> str:
        """How an admin switches this rule off."""
        return f"set `enabled: false` on rule '{self.rule_id}' in pack '{self.pack}'"


class ActionPart(_Model):
    """One part of a planned action (a tag, a note section) with its own idempotency key."""

    key: str
    rule_id: str | None = None
    """The rule that wrote this part (note sections), None where several may share it."""


class PlannedAction(_Model):
    """One action with the rule matches that explain it and its idempotency key."""

    action: Action
    because: tuple[RuleMatch, ...] = Field(min_length=1)
    key: str
    parts: tuple[ActionPart, ...] = ()
    """The action's parts, in order: one per tag of an ``add_tags``, one per section of a
    merged internal note (each section ends with its marker). A part already on the ticket
    or in the ledger is dropped, so a re-run never repeats a section or a tag even when the
    rules that fired together changed (see :mod:`empathy_firewall.sync.dedupe`)."""


class Suppressed(_Model):
    """A rule whose conditions held but that did not act, and why (cooldown, once, opt-out)."""

    rule_id: str
    pack: str
    reason: str


class Plan(_Model):
    """Everything the firewall wants done to one ticket, in a deterministic order."""

    ticket: SourceRef
    evaluated_at: AwareDatetime
    actions: tuple[PlannedAction, ...] = ()
    matches: tuple[RuleMatch, ...] = ()
    suppressed: tuple[Suppressed, ...] = ()

    @property
    def is_empty(self) -> bool:
        """True when there is nothing to write back."""
        return not self.actions

    def of_kind(self, kind: ActionKind) -> tuple[PlannedAction, ...]:
        """The planned actions of one kind, in plan order."""
        return tuple(p for p in self.actions if p.action.kind == kind)


def action_key(ticket_key: str, kind: str, rule_ids: tuple[str, ...], anchor: str) -> str:
    """A stable idempotency key for one firing of some rules on one ticket.

    It deliberately ignores the action's wording and the evaluation time, so a re-run after
    a crash (when the helpdesk may already hold the note but our ledger does not) produces
    the same key, and the connector can find its own marker and skip the duplicate.
    ``anchor`` names the episode: ``"once"`` for once-per-ticket rules, otherwise the id of
    the newest comment the evaluation saw.
    """
    digest = hashlib.sha256(
        "\x00".join((ticket_key, kind, ",".join(sorted(rule_ids)), anchor)).encode()
    )
    return "ef1-" + digest.hexdigest()[:24]
