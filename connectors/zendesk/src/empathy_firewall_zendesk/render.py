"""Pure rendering: plans -> Zendesk ticket changes -> bulk requests.

Every plan becomes one :class:`TicketChange`:

* tags go in ``additional_tags`` / ``remove_tags`` (never ``tags``, which replaces the list);
* internal notes, draft replies and routing suggestions become sections of ONE private
  comment, each section ending with its idempotency marker ``[empathy-firewall:<key>]``;
* ``SetPriority`` sets ``priority``;
* a ``PublicReply`` (only in plans whose admin opted in) is a separate public comment,
  written in a second round, with a marker *tag* ``efr_<key>`` instead of a visible marker;
* ``ApplyMacro`` is applied separately (preview, then a conflict-safe update).

Batch items are chunked into ``PUT /api/v2/tickets/update_many`` requests of at most 100.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from empathy_firewall.actions import (
    AddTags,
    AgentPrompt,
    ApplyMacro,
    Plan,
    PlannedAction,
    PublicReply,
    RemoveTags,
    SetPriority,
)
from empathy_firewall.connectors.base import ActionOutcome, HttpRequest, note_marker
from empathy_firewall.connectors.notes import (
    DRAFT_HEADING,
    REPLY_TAG_PREFIX,
    ROUTING_HEADING,
    agent_prompt_outcome,
    note_text,
    reply_tag,
    second_reply_outcome,
)

__all__ = [
    "DRAFT_HEADING",
    "REPLY_TAG_PREFIX",
    "ROUTING_HEADING",
    "TicketChange",
    "batch_item",
    "public_item",
    "reply_tag",
    "ticket_change",
    "update_many_requests",
]

_SEPARATOR = "\n\n---\n\n"


def _section(planned: PlannedAction) -> str | None:
    text = note_text(planned)
    return None if text is None else f"{text}\n{note_marker(planned.key)}"


@dataclass(frozen=True, slots=True)
class TicketChange:
    """What one plan asks of one Zendesk ticket, split by how it is written."""

    ticket_id: str
    note_keys: tuple[str, ...] = ()
    note_sections: tuple[str, ...] = ()
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()
    priority: str | None = None
    field_keys: tuple[str, ...] = ()
    public_reply: tuple[str, str] | None = None
    macros: tuple[tuple[str, str], ...] = ()
    unsupported: tuple[ActionOutcome, ...] = ()

    @property
    def batch_keys(self) -> tuple[str, ...]:
        """Keys written by the round-one batch item."""
        return self.field_keys + self.note_keys

    def without_keys(self, keys: Iterable[str]) -> TicketChange:
        """A copy with the note sections and public reply of ``keys`` removed."""
        drop = set(keys)
        pairs = [
            (k, s) for k, s in zip(self.note_keys, self.note_sections, strict=True) if k not in drop
        ]
        reply = self.public_reply
        if reply is not None and reply[0] in drop:
            reply = None
        return TicketChange(
            ticket_id=self.ticket_id,
            note_keys=tuple(k for k, _ in pairs),
            note_sections=tuple(s for _, s in pairs),
            add_tags=self.add_tags,
            remove_tags=self.remove_tags,
            priority=self.priority,
            field_keys=self.field_keys,
            public_reply=reply,
            macros=tuple(m for m in self.macros if m[1] not in drop),
            unsupported=self.unsupported,
        )


def ticket_change(plan: Plan) -> TicketChange:
    """Split a plan into the parts Zendesk writes differently. Pure."""
    notes: list[tuple[str, str]] = []
    add: dict[str, None] = {}
    remove: dict[str, None] = {}
    field_keys: list[str] = []
    priority: str | None = None
    public: tuple[str, str] | None = None
    macros: list[tuple[str, str]] = []
    unsupported: list[ActionOutcome] = []
    for planned in plan.actions:
        action = planned.action
        section = _section(planned)
        if section is not None:
            notes.append((planned.key, section))
        elif isinstance(action, AddTags):
            add.update(dict.fromkeys(action.tags))
            field_keys.append(planned.key)
        elif isinstance(action, RemoveTags):
            remove.update(dict.fromkeys(action.tags))
            field_keys.append(planned.key)
        elif isinstance(action, SetPriority):
            priority = action.priority.value
            field_keys.append(planned.key)
        elif isinstance(action, PublicReply):
            if public is not None:
                unsupported.append(second_reply_outcome(planned.key))
            else:
                public = (planned.key, action.body)
        elif isinstance(action, ApplyMacro):
            macros.append((action.macro, planned.key))
        elif isinstance(action, AgentPrompt):
            unsupported.append(agent_prompt_outcome(planned.key, "Zendesk"))
        else:  # pragma: no cover - the Action union is exhaustive above
            unsupported.append(ActionOutcome(planned.key, f"unsupported action {action.kind}"))
    return TicketChange(
        ticket_id=plan.ticket.external_id,
        note_keys=tuple(k for k, _ in notes),
        note_sections=tuple(s for _, s in notes),
        add_tags=tuple(add),
        remove_tags=tuple(t for t in remove if t not in add),
        priority=priority,
        field_keys=tuple(field_keys),
        public_reply=public,
        macros=tuple(macros),
        unsupported=tuple(unsupported),
    )


def _numeric_id(ticket_id: str) -> int | str:
    return int(ticket_id) if ticket_id.isdigit() else ticket_id


def batch_item(change: TicketChange) -> dict[str, Any] | None:
    """The round-one ``update_many`` item for a change, or None when it has nothing."""
    item: dict[str, Any] = {"id": _numeric_id(change.ticket_id)}
    if change.note_sections:
        item["comment"] = {"body": _SEPARATOR.join(change.note_sections), "public": False}
    if change.add_tags:
        item["additional_tags"] = list(change.add_tags)
    if change.remove_tags:
        item["remove_tags"] = list(change.remove_tags)
    if change.priority is not None:
        item["priority"] = change.priority
    return item if len(item) > 1 else None


def public_item(change: TicketChange) -> dict[str, Any] | None:
    """The round-two item carrying the public reply and its marker tag, if any."""
    if change.public_reply is None:
        return None
    key, body = change.public_reply
    return {
        "id": _numeric_id(change.ticket_id),
        "comment": {"body": body, "public": True},
        "additional_tags": [reply_tag(key)],
    }


def update_many_requests(
    base_url: str, items: Sequence[Mapping[str, Any]], *, size: int = 100
) -> tuple[HttpRequest, ...]:
    """``PUT /api/v2/tickets/update_many`` requests of at most ``size`` (<= 100) items."""
    size = max(1, min(size, 100))
    requests = []
    for start in range(0, len(items), size):
        chunk = [dict(i) for i in items[start : start + size]]
        has_comment = any("comment" in i for i in chunk)
        requests.append(
            HttpRequest(
                method="PUT",
                url=f"{base_url}/api/v2/tickets/update_many.json",
                json_body={"tickets": chunk},
                purpose="update_many",
                idempotent=not has_comment,
            )
        )
    return tuple(requests)
