"""Pure normalization: REST 2 ticket records and their history -> the core's :class:`Ticket`.

* Messages come from the history: ``Create`` (the customer's request), ``Correspond``
  (public: the customer's if a requestor wrote it, else an agent's) and ``Comment``
  (internal). Their bodies come from the ticket's attachments listing (the first
  ``text/plain`` part of the transaction, else its ``text/html`` part without markup).
  ``EmailRecord`` transactions (autoreplies, notifications) repeat the customer's words and
  are ignored.
* History events: ``Set Queue`` -> a reassignment between groups (queues), ``Set Owner`` ->
  a reassignment between agents (a first take from Nobody is an assignment, not a
  reassignment), ``Status`` out of resolved/rejected -> a reopen, other status changes.
  RT writes queue and owner changes as numeric ids: ``names`` resolves them.
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
_DONE = frozenset({TicketStatus.SOLVED, TicketStatus.CLOSED})
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


def _event(
    txn: Mapping[str, Any], at: datetime, actor: str | None, names: NameOf
) -> TicketEvent | None:
    kind, field = txn.get("Type"), txn.get("Field")
    old, new = str(txn.get("OldValue") or ""), str(txn.get("NewValue") or "")
    if kind == "Set" and field == "Queue":
        return TicketEvent(
            type=EventType.REASSIGNED,
            at=at,
            actor_id=actor,
            from_group=names("queue", old) if old else None,
            to_group=names("queue", new) if new else None,
        )
    if kind == "Set" and field == "Owner":
        before, after = names("user", old), names("user", new)
        if before in (NOBODY, after):
            return None  # a first take is an assignment, not a reassignment
        return TicketEvent(
            type=EventType.REASSIGNED,
            at=at,
            actor_id=actor,
            from_assignee=before,
            to_assignee=None if after == NOBODY else after,
        )
    if kind == "Status":
        start, end = _status(old), _status(new)
        reopened = start in _DONE and end is not None and end not in _DONE
        return TicketEvent(
            type=EventType.REOPENED if reopened else EventType.STATUS_CHANGED,
            at=at,
            actor_id=actor,
            from_status=start,
            to_status=end,
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
        elif (event := _event(txn, at, creator, names)) is not None:
            events.append(event)
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
        events=tuple(events),
        custom_fields=fields,
        raw=dict(record),
    )
