"""Pure rendering: plans -> Freshdesk ticket changes -> requests.

Every plan becomes one :class:`TicketChange`:

* tags are *merged*: Freshdesk's ``PUT /api/v2/tickets/{id}`` replaces the whole list and
  there is no add-tag endpoint, so apply reads the current tags, adds and removes ours,
  writes the full list only when it changed, and re-reads to catch a concurrent overwrite;
* ``SetPriority`` becomes Freshdesk's numeric priority (1 low .. 4 urgent), sent in the same
  ``PUT`` as the tags, or, for priority-only changes across several tickets, in one
  ``bulk_update`` job;
* internal notes, draft replies, routing suggestions and canned responses become sections
  of ONE private note (``POST /api/v2/tickets/{id}/notes``, ``private: true``), each ending
  with its idempotency marker ``[empathy-firewall:<key>]``; the text is HTML-escaped
  (customers' words flow into note templates);
* a ``PublicReply`` (only in plans whose admin opted in) goes through ``/reply`` after a
  marker *tag* ``efr_<key>`` was merged, so it is sent at most once;
* an ``AgentPrompt`` is private to one agent and never written to the ticket.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
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
    why_line,
)
from empathy_firewall_freshdesk.parse import PRIORITY_CODES

__all__ = [
    "CANNED_HEADING",
    "DRAFT_HEADING",
    "REPLY_TAG_PREFIX",
    "ROUTING_HEADING",
    "TicketChange",
    "bulk_groups",
    "bulk_priority_request",
    "canned_section",
    "merge_tags",
    "note_html",
    "reply_html",
    "reply_tag",
    "ticket_change",
    "ticket_requests",
]

CANNED_HEADING = "Canned response suggested"


def _escape(text: str) -> str:
    return html.escape(text, quote=False).replace("\n", "<br>")


def _marked(inner_html: str, key: str) -> str:
    return f"<div>{inner_html}</div><div>{note_marker(key)}</div>"


def canned_section(title: str, content_html: str, planned: PlannedAction, *, as_draft: bool) -> str:
    """A note section carrying a canned response's content (admin-authored HTML, kept).

    Freshdesk fills placeholders such as ``{{ticket.agent.name}}`` only when an agent
    inserts the response from the editor; the section says so.
    """
    heading = DRAFT_HEADING if as_draft else f"{CANNED_HEADING}: {title}"
    hint = (
        f"Canned response “{title}”: insert it from the canned responses menu to send it; "
        "placeholders are filled in then."
    )
    head = _escape(f"{heading}\n{hint}")
    return _marked(f"{head}<br><br>{content_html}<br><br>{_escape(why_line(planned))}", planned.key)


@dataclass(frozen=True, slots=True)
class TicketChange:
    """What one plan asks of one Freshdesk ticket, split by how it is written."""

    ticket_id: str
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()
    tag_keys: tuple[str, ...] = ()
    priority: int | None = None
    priority_key: str | None = None
    note_keys: tuple[str, ...] = ()
    note_sections: tuple[str, ...] = ()
    canned: tuple[tuple[str, PlannedAction], ...] = ()
    public_reply: tuple[str, str] | None = None
    unsupported: tuple[ActionOutcome, ...] = ()

    @property
    def field_keys(self) -> tuple[str, ...]:
        """Keys written by the ticket ``PUT`` (tags and priority)."""
        return self.tag_keys + ((self.priority_key,) if self.priority_key else ())

    @property
    def marker_keys(self) -> tuple[str, ...]:
        """Keys that leave a marker (note sections, canned responses, the public reply)."""
        keys = [*self.note_keys, *(p.key for _, p in self.canned)]
        if self.public_reply is not None:
            keys.append(self.public_reply[0])
        return tuple(keys)

    @property
    def needs_tags(self) -> bool:
        """True when the tag list must be read and merged."""
        return bool(self.add_tags or self.remove_tags or self.public_reply)

    def without_keys(self, keys: Iterable[str]) -> TicketChange:
        """A copy without the note sections, canned responses and reply of ``keys``."""
        drop = set(keys)
        pairs = [
            (k, s) for k, s in zip(self.note_keys, self.note_sections, strict=True) if k not in drop
        ]
        reply = self.public_reply
        return replace(
            self,
            note_keys=tuple(k for k, _ in pairs),
            note_sections=tuple(s for _, s in pairs),
            canned=tuple(c for c in self.canned if c[1].key not in drop),
            public_reply=None if reply is not None and reply[0] in drop else reply,
        )


def ticket_change(plan: Plan) -> TicketChange:
    """Split a plan into the parts Freshdesk writes differently. Pure."""
    sections: list[tuple[str, str]] = []
    add: dict[str, None] = {}
    remove: dict[str, None] = {}
    tag_keys: list[str] = []
    priority: int | None = None
    priority_key: str | None = None
    canned: list[tuple[str, PlannedAction]] = []
    public: tuple[str, str] | None = None
    unsupported: list[ActionOutcome] = []
    for planned in plan.actions:
        action = planned.action
        text = note_text(planned)
        if text is not None:
            sections.append((planned.key, _marked(_escape(text), planned.key)))
        elif isinstance(action, AddTags):
            add.update(dict.fromkeys(t.strip() for t in action.tags))
            tag_keys.append(planned.key)
        elif isinstance(action, RemoveTags):
            remove.update(dict.fromkeys(t.strip() for t in action.tags))
            tag_keys.append(planned.key)
        elif isinstance(action, SetPriority):
            if priority_key is not None:
                unsupported.append(ActionOutcome(priority_key, "a later priority change won"))
            priority = PRIORITY_CODES[action.priority]
            priority_key = planned.key
        elif isinstance(action, ApplyMacro):
            canned.append((action.macro, planned))
        elif isinstance(action, PublicReply):
            if public is not None:
                unsupported.append(second_reply_outcome(planned.key))
            else:
                public = (planned.key, action.body)
        elif isinstance(action, AgentPrompt):
            unsupported.append(agent_prompt_outcome(planned.key, "Freshdesk"))
        else:  # pragma: no cover - the Action union is exhaustive above
            unsupported.append(ActionOutcome(planned.key, f"unsupported action {action.kind}"))
    return TicketChange(
        ticket_id=plan.ticket.external_id,
        add_tags=tuple(add),
        remove_tags=tuple(t for t in remove if t not in add),
        tag_keys=tuple(tag_keys),
        priority=priority,
        priority_key=priority_key,
        note_keys=tuple(k for k, _ in sections),
        note_sections=tuple(s for _, s in sections),
        canned=tuple(canned),
        public_reply=public,
        unsupported=tuple(unsupported),
    )


def merge_tags(
    current: Sequence[str], add: Sequence[str], remove: Sequence[str]
) -> tuple[str, ...]:
    """``current`` plus ``add`` minus ``remove``, order kept, no duplicates. Pure.

    Every tag someone else put on the ticket stays unless we own it and remove it.
    """
    dropped = set(remove)
    merged = dict.fromkeys(t for t in current if t not in dropped)
    merged.update(dict.fromkeys(t for t in add if t not in dropped))
    return tuple(merged)


def note_html(sections: Sequence[str]) -> str:
    """One private note from its sections (each already ends with its marker)."""
    return "<hr>".join(sections)


def reply_html(body: str) -> str:
    """A public reply's HTML body (escaped text, line breaks kept, no marker)."""
    return f"<div>{_escape(body)}</div>"


def _ticket_url(base_url: str, ticket_id: str) -> str:
    return f"{base_url}/api/v2/tickets/{ticket_id}"


def ticket_requests(base_url: str, change: TicketChange) -> tuple[HttpRequest, ...]:
    """The requests apply sends for one change, in order, as far as they are known
    without reading the ticket (the merged tag list is completed at apply time)."""
    tid = change.ticket_id
    out: list[HttpRequest] = []
    update: dict[str, Any] = {}
    if change.needs_tags:
        out.append(
            HttpRequest(
                "GET", _ticket_url(base_url, tid), purpose="read_tags (for the merge)", item=tid
            )
        )
        added = [*change.add_tags]
        if change.public_reply is not None:
            added.append(reply_tag(change.public_reply[0]))
        update["tags"] = {"merge_add": added, "merge_remove": list(change.remove_tags)}
    if change.priority is not None:
        update["priority"] = change.priority
    if update:
        out.append(
            HttpRequest(
                "PUT",
                _ticket_url(base_url, tid),
                json_body=update,
                purpose="update_ticket (tags: current list merged at apply time)"
                if change.needs_tags
                else "update_ticket",
                item=tid,
                idempotent=True,
            )
        )
    for ref, _planned in change.canned:
        path = (
            f"/api/v2/canned_responses/{ref}"
            if ref.isdigit()
            else "/api/v2/canned_response_folders"
        )
        out.append(
            HttpRequest("GET", f"{base_url}{path}", purpose=f"canned_response {ref!r}", item=tid)
        )
    if change.note_sections or change.canned:
        body = note_html(change.note_sections) if change.note_sections else "(canned response)"
        out.append(
            HttpRequest(
                "POST",
                f"{_ticket_url(base_url, tid)}/notes",
                json_body={"body": body, "private": True},
                purpose="private_note",
                item=tid,
                idempotent=False,
            )
        )
    if change.public_reply is not None:
        out.append(
            HttpRequest(
                "POST",
                f"{_ticket_url(base_url, tid)}/reply",
                json_body={"body": reply_html(change.public_reply[1])},
                purpose="public_reply",
                item=tid,
                idempotent=False,
            )
        )
    return tuple(out)


def bulk_priority_request(base_url: str, ids: Sequence[str], priority: int) -> HttpRequest:
    """``POST /api/v2/tickets/bulk_update`` setting one priority on several tickets."""
    return HttpRequest(
        "POST",
        f"{base_url}/api/v2/tickets/bulk_update",
        json_body={
            "bulk_action": {
                "ids": [int(i) if i.isdigit() else i for i in ids],
                "properties": {"priority": priority},
            }
        },
        purpose="bulk_update (priority)",
        idempotent=True,
    )


def bulk_groups(changes: Sequence[TicketChange], *, min_tickets: int) -> dict[int, list[str]]:
    """Priority-only changes worth one ``bulk_update`` per priority: ``{priority: ids}``.

    A change qualifies when its priority is its only ticket-field change (a change that
    also merges tags sends the priority in that same ``PUT`` for free); a group qualifies
    with at least ``min_tickets`` distinct tickets. Pure.
    """
    groups: dict[int, dict[str, None]] = {}
    for change in changes:
        if change.priority is not None and not change.needs_tags:
            groups.setdefault(change.priority, {})[change.ticket_id] = None
    return {p: list(ids) for p, ids in groups.items() if len(ids) >= min_tickets}
