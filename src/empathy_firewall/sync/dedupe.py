"""Drop what is already done, part by part: whole actions, single tags, note sections.

An action's idempotency key names the set of rules that fired together, so when that set
changes between two runs (a rule's cooldown, a crash between the write and the ledger, a
later ``now``) the merged note gets a new key. Its parts keep theirs
(:attr:`~empathy_firewall.actions.PlannedAction.parts`): each tag and each note section
has a key of its own, every written section ends with its marker, and :func:`fresh_action`
drops the parts found in the ledger or on the ticket, rebuilding the note from the rest.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Set

from empathy_firewall.actions import (
    AddTags,
    InternalNote,
    PlannedAction,
    RemoveTags,
    SetPriority,
    action_key,
)
from empathy_firewall.engine.evaluate import NOTE_SEPARATOR, SWITCH_OFF_PREFIX, WHY_HEADING
from empathy_firewall.engine.rules import RuleSet
from empathy_firewall.models import EventType, Ticket
from empathy_firewall.settings import FirewallSettings

__all__ = ["after_plan", "decision_digest", "done_keys", "fingerprint", "fresh_action"]

_FOOTER_LINE = re.compile(r"^- (\S+) \(")
#: history events whose effect the ticket's own fields show (see :func:`fingerprint`)
_FIELD_EVENTS = frozenset({EventType.PRIORITY_CHANGED, EventType.STATUS_CHANGED})


def done_keys(planned: PlannedAction) -> tuple[str, ...]:
    """The keys the ledger records once ``planned`` is applied: its own and its parts'."""
    return (planned.key, *(p.key for p in planned.parts))


def fresh_action(planned: PlannedAction, known: Set[str], ticket_key: str) -> PlannedAction | None:
    """``planned`` without the parts in ``known``; None when nothing new is left."""
    if planned.key in known:
        return None
    if not any(p.key in known for p in planned.parts):
        return planned
    rule_ids = tuple(m.rule_id for m in planned.because)
    action = planned.action
    if isinstance(action, AddTags) and len(planned.parts) == len(action.tags):
        kept = [
            (t, p) for t, p in zip(action.tags, planned.parts, strict=True) if p.key not in known
        ]
        if not kept:
            return None
        tags = tuple(t for t, _ in kept)
        return planned.model_copy(
            update={
                "action": AddTags(tags=tags),
                "parts": tuple(p for _, p in kept),
                "key": action_key(ticket_key, "add_tags", rule_ids, "+".join(sorted(tags))),
            }
        )
    if isinstance(action, InternalNote):
        return _fresh_note(planned, action, known, ticket_key)
    return planned


def _fresh_note(
    planned: PlannedAction, action: InternalNote, known: Set[str], ticket_key: str
) -> PlannedAction | None:
    head, found, footer = action.body.rpartition("\n\n" + WHY_HEADING + "\n")
    sections = head.split(NOTE_SEPARATOR) if found else []
    if len(sections) != len(planned.parts):
        return planned  # not a note the engine merged: keep it whole
    kept = [(s, p) for s, p in zip(sections, planned.parts, strict=True) if p.key not in known]
    if not kept:
        return None
    rules = {p.rule_id for _, p in kept}
    lines = [
        line
        for line in footer.split("\n")
        if _rule_of(line) in rules or line.startswith(SWITCH_OFF_PREFIX)
    ]
    body = NOTE_SEPARATOR.join(s for s, _ in kept) + "\n\n" + WHY_HEADING + "\n" + "\n".join(lines)
    because = tuple(m for m in planned.because if m.rule_id in rules) or planned.because
    anchor = "|".join(p.key for _, p in kept)
    return planned.model_copy(
        update={
            "action": InternalNote(body=body),
            "because": because,
            "parts": tuple(p for _, p in kept),
            "key": action_key(
                ticket_key, "internal_note", tuple(m.rule_id for m in because), anchor
            ),
        }
    )


def _rule_of(line: str) -> str | None:
    match = _FOOTER_LINE.match(line)
    return match.group(1) if match else None


def decision_digest(rules: RuleSet, settings: FirewallSettings) -> str:
    """A digest of what decides besides the ticket: the rules (as written) and settings.

    Part of every :func:`fingerprint`, so a changed rule pack or setting makes every
    ticket worth evaluating again.
    """
    described = [
        {
            "id": r.id,
            "pack": r.pack,
            "enabled": r.enabled,
            "priority": r.priority,
            "raw": r.raw,
            "python": None if r.python is None else _qualified(r.python.fn),
        }
        for r in rules.rules
    ]
    data = json.dumps([described, settings.model_dump(mode="json")], sort_keys=True, default=str)
    return hashlib.sha256(data.encode()).hexdigest()[:16]


def fingerprint(view: Ticket, salt: str = "") -> str:
    """A digest of what the helpdesk holds for a ticket, as the engine reads it.

    Taken over the evaluation view (the firewall's own notes left out), without
    ``updated_at`` and ``raw``, which the firewall's own writes move, and ``salt`` (the
    :func:`decision_digest`). Two reads with the same fingerprint hold the same helpdesk
    data under the same rules: a ticket read back after the firewall's own write has
    nothing new to plan.
    """
    # Priority and status changes are left to the fields themselves: the firewall's own
    # priority write comes back as a history event (Zendesk audits), which must not make
    # the ticket look new; an agent's change still shows in the field.
    events = tuple(e for e in view.events if e.type not in _FIELD_EVENTS)
    ordered = view.model_copy(update={"tags": tuple(sorted(view.tags)), "events": events})
    data = salt + ordered.model_dump_json(exclude={"updated_at", "raw"})
    return hashlib.sha256(data.encode()).hexdigest()[:32]


def after_plan(view: Ticket, actions: Iterable[PlannedAction]) -> Ticket:
    """``view`` as it reads once ``actions`` are applied (tags and priority; notes are
    left out of every evaluation view)."""
    tags = list(view.tags)
    priority = view.priority
    for planned in actions:
        action = planned.action
        if isinstance(action, AddTags):
            tags += [t for t in action.tags if t not in tags]
        elif isinstance(action, RemoveTags):
            tags = [t for t in tags if t not in action.tags]
        elif isinstance(action, SetPriority):
            priority = action.priority
    if tuple(tags) == view.tags and priority == view.priority:
        return view  # nothing the helpdesk will show differently
    return view.model_copy(update={"tags": tuple(tags), "priority": priority})


def _qualified(fn: object) -> str:
    """A Python rule's function by name (stable across processes, unlike its repr)."""
    module = getattr(fn, "__module__", "")
    return f"{module}.{getattr(fn, '__qualname__', type(fn).__qualname__)}"
