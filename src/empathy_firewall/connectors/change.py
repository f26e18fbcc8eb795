"""The change builder: one plan -> one typed :class:`TicketChange`, the same for every vendor.

Every connector used to split a plan itself, and the copies drifted. The rules, once:

* **tags**: added and removed tags are collected in plan order, stripped of blanks; a tag
  both added and removed is added (``remove_tags`` never holds an added tag);
* **notes**: internal notes, draft replies and routing suggestions become note sections,
  each ending with its idempotency marker (:func:`note_marker`), in the vendor's markup
  (``mark``); a connector writes them as ONE note;
* **priority**: the last ``SetPriority`` wins; each earlier one is reported as skipped with
  "a later priority change won" (never as applied: it was not written);
* **macros** (Zendesk macros, Freshdesk canned responses) and the **public reply** (at most
  one per ticket per run) are kept when the vendor writes them, else reported;
* **agent prompts** are private to one agent and never written to a ticket: an outcome.

:func:`merge_tags` is the one merge for vendors whose API replaces the whole tag list.
Everything here is pure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

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
from empathy_firewall.connectors.base import ActionOutcome, note_marker
from empathy_firewall.connectors.notes import (
    agent_prompt_outcome,
    note_text,
    second_reply_outcome,
)
from empathy_firewall.models import Priority

__all__ = [
    "LATER_PRIORITY_WON",
    "Mark",
    "TicketChange",
    "merge_tags",
    "plain_mark",
    "ticket_change",
]

#: the reason reported for a priority change overridden by a later one in the same plan
LATER_PRIORITY_WON = "a later priority change won"

#: how a vendor writes one note section: ``mark(text, marker) -> section`` (ends with marker)
Mark = Callable[[str, str], str]


def plain_mark(text: str, marker: str) -> str:
    """A plain-text note section: the text, a blank line, the marker."""
    return f"{text}\n\n{marker}"


@dataclass(frozen=True, slots=True)
class TicketChange:
    """What one plan asks of one ticket, split by how helpdesks write it.

    ``notes`` pairs each key with its section (already ending with its marker);
    ``macros`` pairs each macro reference with its planned action; ``public_reply`` is
    ``(key, body)``; ``unsupported`` holds the outcomes of actions not written at all.
    """

    ticket_id: str
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()
    tag_keys: tuple[str, ...] = ()
    priority: Priority | None = None
    priority_key: str | None = None
    notes: tuple[tuple[str, str], ...] = ()
    macros: tuple[tuple[str, PlannedAction], ...] = ()
    public_reply: tuple[str, str] | None = None
    unsupported: tuple[ActionOutcome, ...] = ()

    @property
    def field_keys(self) -> tuple[str, ...]:
        """Keys written as ticket fields (tags, then the winning priority)."""
        return self.tag_keys + ((self.priority_key,) if self.priority_key else ())

    @property
    def note_keys(self) -> tuple[str, ...]:
        """Keys of the note sections, in order."""
        return tuple(k for k, _ in self.notes)

    @property
    def note_sections(self) -> tuple[str, ...]:
        """The note sections, in order, each ending with its marker."""
        return tuple(s for _, s in self.notes)

    @property
    def macro_keys(self) -> tuple[str, ...]:
        """Keys of the macros (canned responses), in order."""
        return tuple(p.key for _, p in self.macros)

    @property
    def marker_keys(self) -> tuple[str, ...]:
        """Keys that leave a marker on the ticket (notes, macros, the public reply)."""
        reply = (self.public_reply[0],) if self.public_reply is not None else ()
        return self.note_keys + self.macro_keys + reply

    def without_keys(self, keys: Iterable[str]) -> TicketChange:
        """A copy without the note sections, macros and public reply of ``keys`` (found
        already on the ticket); tags and priority are absolute and stay."""
        drop = set(keys)
        reply = self.public_reply
        return replace(
            self,
            notes=tuple(n for n in self.notes if n[0] not in drop),
            macros=tuple(m for m in self.macros if m[1].key not in drop),
            public_reply=None if reply is not None and reply[0] in drop else reply,
        )


def ticket_change(
    plan: Plan,
    *,
    vendor: str,
    mark: Mark = plain_mark,
    macros: bool = False,
    public_replies: bool = False,
) -> TicketChange:
    """Split ``plan`` by the rules in the module docstring. ``vendor`` names the helpdesk
    in outcomes; ``macros`` / ``public_replies`` say whether it writes those. Pure."""
    notes: list[tuple[str, str]] = []
    add: dict[str, None] = {}
    remove: dict[str, None] = {}
    tag_keys: list[str] = []
    priority: Priority | None = None
    priority_key: str | None = None
    macro_list: list[tuple[str, PlannedAction]] = []
    reply: tuple[str, str] | None = None
    unsupported: list[ActionOutcome] = []
    for planned in plan.actions:
        action, key = planned.action, planned.key
        text = note_text(planned)
        if text is not None:
            notes.append((key, mark(text, note_marker(key))))
        elif isinstance(action, AddTags | RemoveTags):
            target = add if isinstance(action, AddTags) else remove
            target.update(dict.fromkeys(t.strip() for t in action.tags if t.strip()))
            tag_keys.append(key)
        elif isinstance(action, SetPriority):
            if priority_key is not None:
                unsupported.append(ActionOutcome(priority_key, LATER_PRIORITY_WON))
            priority, priority_key = action.priority, key
        elif isinstance(action, ApplyMacro) and macros:
            macro_list.append((action.macro, planned))
        elif isinstance(action, PublicReply) and public_replies:
            if reply is not None:
                unsupported.append(second_reply_outcome(key))
            else:
                reply = (key, action.body)
        elif isinstance(action, AgentPrompt):
            unsupported.append(agent_prompt_outcome(key, vendor))
        else:
            reason = f"the {vendor} connector does not write {action.kind}"
            unsupported.append(ActionOutcome(key, reason))
    return TicketChange(
        ticket_id=plan.ticket.external_id,
        add_tags=tuple(add),
        remove_tags=tuple(t for t in remove if t not in add),
        tag_keys=tuple(tag_keys),
        priority=priority,
        priority_key=priority_key,
        notes=tuple(notes),
        macros=tuple(macro_list),
        public_reply=reply,
        unsupported=tuple(unsupported),
    )


def merge_tags(
    current: Sequence[str], add: Sequence[str], remove: Sequence[str]
) -> tuple[str, ...]:
    """``current`` plus ``add`` minus ``remove``, order kept, no duplicates. Pure.

    Every tag someone else put on the ticket stays unless we remove it.
    """
    dropped = set(remove)
    merged = dict.fromkeys(t for t in current if t not in dropped)
    merged.update(dict.fromkeys(t for t in add if t not in dropped))
    return tuple(merged)
