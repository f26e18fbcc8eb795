"""Pure normalization: REST 2 ticket records and their history -> the core's :class:`Ticket`.

* Messages come from the history: ``Create`` (the customer's request), ``Correspond``
  (public: the customer's if a requestor wrote it, else an agent's) and ``Comment``
  (internal). Their bodies come from the ticket's attachments listing (the first
  ``text/plain`` part of the transaction, else its ``text/html`` part without markup).
  ``EmailRecord`` transactions (autoreplies, notifications) repeat the customer's words and
  are ignored.
* History: ``Set Queue`` (the group), owner changes (``Set``/``Take``/``Give``/... on
  ``Owner``; Nobody is no owner), ``Status`` and ``Set Priority`` transactions are only
  read here, as field changes; the events they make (``reassigned``, ``status_changed``,
  ``reopened``, ``priority_changed``) come from the core's one rule set
  (:func:`empathy_firewall.signals.transitions.replay`; a first take from Nobody is an
  assignment, not a reassignment). RT writes queue and owner changes as numeric ids:
  ``names`` resolves them. RT's history does not say the owner and queue a ticket was
  created with, so a step's from/to hold them only once a change has shown them.
* Tags live in one multi-value custom field (``tags_field``); other custom fields become
  ``custom_fields``. Priority is a number mapped to the nearest level at or below it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from empathy_firewall.connectors.parsing import parse_time
from empathy_firewall.errors import InputError
from empathy_firewall.models import (
    Agent,
    Comment,
    Customer,
    EventType,
    Priority,
    Role,
    SourceRef,
    Ticket,
    TicketEvent,
    TicketStatus,
)
from empathy_firewall.signals.transitions import FieldChange, TrackedField, replay

__all__ = ["custom_field_values", "normalize_ticket", "priority_level", "ref_id"]

#: fields asked for in ticket searches and reads
TICKET_FIELDS = "Subject,Status,Priority,Created,LastUpdated,Queue,Owner,Requestor,CustomFields"
#: fields asked for in history listings
HISTORY_FIELDS = "Type,Created,Creator,Field,OldValue,NewValue"
#: RT's user for "no owner"
NOBODY = "Nobody"
SYSTEM_USERS = frozenset({"RT_System"})
_S = TicketStatus
#: RT's default lifecycle; statuses of custom lifecycles read as open
STATUSES = {"new": _S.NEW, "open": _S.OPEN, "stalled": _S.ON_HOLD, "resolved": _S.SOLVED}
STATUSES |= {"rejected": _S.CLOSED, "deleted": _S.CLOSED}
_TAG = re.compile(r"<[^>]+>")

#: resolves a numeric user or queue id from the history to its name
NameOf = Callable[[str, str], str]


def ref_id(value: object) -> str | None:
    """The ``id`` of a REST 2 object reference (``{"id": "root", "type": "user"}``)."""
    if isinstance(value, Mapping):
        value = value.get("id")
    return str(value) if value not in (None, "") else None


def custom_field_values(record: Mapping[str, Any], name: str) -> tuple[str, ...] | None:
    """The values of custom field ``name`` on a ticket record; None if it is not applied."""
    for field in record.get("CustomFields") or []:
        if isinstance(field, Mapping) and field.get("name") == name:
            values = field.get("values") or []
            return tuple(str(v) for v in values if str(v).strip())
    return None


def priority_level(value: object, levels: Mapping[Priority, int]) -> Priority:
    """The highest level whose number ``value`` reaches (the lowest level below them all)."""
    try:
        number = int(str(value))
    except ValueError:
        return Priority.NORMAL
    reached = [p for p, n in levels.items() if number >= n]
    if not reached:
        return min(levels, key=lambda p: levels[p])
    return max(reached, key=lambda p: levels[p])


def _time(value: object, what: str) -> datetime:
    parsed = parse_time(value)
    if parsed is None:
        raise InputError(f"{what} is not a time")
    return parsed


def _bodies(attachments: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Transaction id -> message text (first text/plain part, else text/html unmarked)."""
    plain: dict[str, str] = {}
    rich: dict[str, str] = {}
    for item in attachments:
        txn, kind = ref_id(item.get("TransactionId")), str(item.get("ContentType") or "")
        content = item.get("Content")
        if txn is None or not isinstance(content, str) or not content.strip():
            continue
        if kind.startswith("text/plain"):
            plain.setdefault(txn, content.strip())
        elif kind.startswith("text/html"):
            rich.setdefault(txn, html.unescape(_TAG.sub("", content)).strip())
    return {**rich, **plain}


def _status(value: object) -> TicketStatus | None:
    return STATUSES.get(str(value)) if value else None


#: transaction types that change the owner (``Set`` with ``Field: Owner`` and RT's verbs)
_OWNER_TYPES = frozenset({"Set", "Take", "Untake", "Give", "Steal", "Force"})


def _field_change(
    txn: Mapping[str, Any],
    at: datetime,
    actor: str | None,
    names: NameOf,
    levels: Mapping[Priority, int],
) -> FieldChange | None:
    """A transaction's change of a tracked field in the core's terms, else None."""
    kind, field = txn.get("Type"), txn.get("Field")
    old, new = str(txn.get("OldValue") or ""), str(txn.get("NewValue") or "")

    def change(name: TrackedField, before: str | None, after: str | None) -> FieldChange:
        return FieldChange(field=name, before=before, after=after, at=at, actor=actor)

    if kind == "Set" and field == "Queue":
        return change(
            TrackedField.GROUP,
            names("queue", old) if old else None,
            names("queue", new) if new else None,
        )
    if kind in _OWNER_TYPES and field == "Owner":
        before, after = (names("user", v) if v else NOBODY for v in (old, new))
        return change(
            TrackedField.ASSIGNEE,
            None if before == NOBODY else before,
            None if after == NOBODY else after,
        )
    if kind == "Status":
        start, end = _status(old), _status(new)
        return change(
            TrackedField.STATUS,
            start.value if start is not None else None,
            end.value if end is not None else None,
        )
    if kind == "Set" and field == "Priority" and old and new:
        return change(
            TrackedField.PRIORITY,
            priority_level(old, levels).value,
            priority_level(new, levels).value,
        )
    return None


def normalize_ticket(
    record: Mapping[str, Any],
    history: Sequence[Mapping[str, Any]],
    attachments: Sequence[Mapping[str, Any]],
    *,
    account: str,
    web_url: str,
    tags_field: str,
    levels: Mapping[Priority, int],
    names: NameOf,
) -> Ticket:
    """One RT ticket, normalized (see the module docstring). Pure apart from ``names``."""
    tid = ref_id(record.get("id"))
    if tid is None:
        raise InputError("ticket record without an id")
    requestors = [r for r in map(ref_id, record.get("Requestor") or []) if r]
    owner = ref_id(record.get("Owner"))
    queue = record.get("Queue")
    group = queue.get("Name") if isinstance(queue, Mapping) else None
    if group is None and (qid := ref_id(queue)) is not None:
        group = names("queue", qid)
    bodies = _bodies(attachments)
    comments: list[Comment] = []
    events: list[TicketEvent] = []
    changes: list[FieldChange] = []
    for txn in history:
        txn_id, kind = ref_id(txn.get("id")), txn.get("Type")
        at = parse_time(txn.get("Created"))
        if txn_id is None or at is None:
            continue
        creator = ref_id(txn.get("Creator"))
        if kind in ("Create", "Correspond", "Comment"):
            if kind == "Create":
                events.append(TicketEvent(type=EventType.CREATED, at=at, actor_id=creator))
            role = Role.AGENT
            if creator in SYSTEM_USERS:
                role = Role.SYSTEM
            elif kind == "Create" or (kind == "Correspond" and creator in requestors):
                role = Role.CUSTOMER
            text = bodies.get(txn_id, "")
            if text or kind != "Create":
                comments.append(
                    Comment(
                        id=txn_id,
                        author_role=role,
                        author_id=creator,
                        public=kind != "Comment",
                        created_at=at,
                        text=text,
                    )
                )
        elif (change := _field_change(txn, at, creator, names, levels)) is not None:
            changes.append(change)
    customer = requestors[0] if requestors else f"ticket-{tid}"
    tags = custom_field_values(record, tags_field) or ()
    fields = {
        str(f.get("name")): ",".join(str(v) for v in f.get("values") or [])
        for f in record.get("CustomFields") or []
        if isinstance(f, Mapping) and f.get("name") and f.get("name") != tags_field
    }
    created = _time(record.get("Created"), "Created")
    return Ticket(
        source=SourceRef(
            connector="rt",
            external_id=tid,
            account=account,
            url=f"{web_url}/Ticket/Display.html?id={tid}",
        ),
        subject=str(record.get("Subject") or ""),
        status=_status(record.get("Status")) or TicketStatus.OPEN,
        priority=priority_level(record.get("Priority"), levels),
        created_at=created,
        updated_at=max(_time(record.get("LastUpdated"), "LastUpdated"), created),
        requester=Customer(id=customer, email=customer if "@" in customer else None),
        assignee=Agent(id=owner, name=owner) if owner and owner != NOBODY else None,
        group=str(group) if group else None,
        tags=tags,
        comments=tuple(comments),
        # history events follow the core's one rule set (signals.transitions)
        events=tuple(sorted([*events, *replay(changes)], key=lambda e: e.at)),
        custom_fields=fields,
        raw=dict(record),
    )
