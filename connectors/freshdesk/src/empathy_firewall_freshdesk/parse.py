"""Pure parsers: Freshdesk API v2 JSON -> the core models. No I/O.

Mappings (docs/freshdesk.md has the table with sources):

* status: 2 Open, 3 Pending, 4 Resolved (solved), 5 Closed; custom statuses (6+) are open
  unless ``custom_statuses`` maps them;
* priority: 1 Low, 2 Medium (normal), 3 High, 4 Urgent;
* source (channel): 1 Email, 2 Portal, 3 Phone, 4 Forum, 5 Twitter, 6 Facebook, 7 Chat,
  8 MobiHelp, 9 Feedback Widget, 10 Outbound Email, 11 Ecommerce; unknown codes -> other.

The ticket's first message is not a conversation: it is ``description_text`` (or the
early-v2 plain ``description``), normalized as the first comment. SLA fields (``due_by``,
``fr_due_by``, ``nr_due_by``) become :class:`SlaInfo`, escalation flags become
``sla_warning`` events, and ``stats`` timestamps become reopen events and ticket metrics.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from empathy_firewall.connectors.base import HttpResponse
from empathy_firewall.connectors.http import describe_error_body
from empathy_firewall.connectors.parsing import field_value, parse_time
from empathy_firewall.connectors.people import CustomerFieldNames, customer_record, scalar_fields
from empathy_firewall.errors import InputError
from empathy_firewall.models import (
    Agent,
    Channel,
    Comment,
    Customer,
    EventType,
    FieldValue,
    Priority,
    Role,
    SlaInfo,
    SourceRef,
    Ticket,
    TicketEvent,
    TicketMetrics,
    TicketStatus,
)

__all__ = [
    "CONNECTOR",
    "PRIORITY_CODES",
    "ParseContext",
    "TicketList",
    "agent_of",
    "channel_of",
    "customer_of",
    "describe_freshdesk_error",
    "html_to_text",
    "index_by_id",
    "next_link",
    "normalize_ticket",
    "parse_conversations",
    "parse_ticket_list",
    "parse_time",
    "priority_of",
    "status_of",
    "ticket_stamp",
]

CONNECTOR = "freshdesk"

_STATUS = {
    2: TicketStatus.OPEN,
    3: TicketStatus.PENDING,
    4: TicketStatus.SOLVED,
    5: TicketStatus.CLOSED,
}
_PRIORITY = {1: Priority.LOW, 2: Priority.NORMAL, 3: Priority.HIGH, 4: Priority.URGENT}
#: the numeric priority Freshdesk expects for each core priority
PRIORITY_CODES = {Priority.LOW: 1, Priority.NORMAL: 2, Priority.HIGH: 3, Priority.URGENT: 4}
_SOURCE = {
    1: Channel.EMAIL,
    2: Channel.WEB,
    3: Channel.PHONE,
    4: Channel.WEB,
    5: Channel.SOCIAL,
    6: Channel.SOCIAL,
    7: Channel.CHAT,
    8: Channel.MESSAGING,
    9: Channel.WEB,
    10: Channel.EMAIL,
}
#: conversation ``source``: 0 reply, 2 note, 5 tweet, 6 survey feedback, 7 Facebook,
#: 8 forwarded email, 9 phone, 11 e-commerce
_CONVERSATION_SOURCE = {
    0: Channel.EMAIL,
    5: Channel.SOCIAL,
    6: Channel.WEB,
    7: Channel.SOCIAL,
    8: Channel.EMAIL,
    9: Channel.PHONE,
}
_TAG = re.compile(r"<[^>]*>")
_BREAK = re.compile(r"<\s*(br|/p|/div|/li|/h[1-6])\s*/?>", re.IGNORECASE)
_LINK = re.compile(r'<(?P<url>[^>]+)>\s*;\s*rel="?next"?', re.IGNORECASE)


def _id(value: object) -> str | None:
    """Ids are integers (sometimes strings); None, "", 0 and booleans mean none."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if value > 0 else None
    if isinstance(value, str):
        text = value.strip()
        return text if text.isdigit() and text.strip("0") else None
    return None


def _code(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def html_to_text(value: str) -> str:
    """Plain text from Freshdesk's HTML bodies: line breaks kept, tags dropped, unescaped."""
    text = _BREAK.sub("\n", value)
    text = _TAG.sub("", text)
    return html.unescape(text).strip()


def status_of(value: object, custom: Mapping[int, TicketStatus] | None = None) -> TicketStatus:
    """The normalized status; custom statuses (6+) map through ``custom`` or count as open."""
    code = _code(value)
    if code is None:
        return TicketStatus.OPEN
    if custom and code in custom:
        return custom[code]
    return _STATUS.get(code, TicketStatus.OPEN)


def priority_of(value: object) -> Priority:
    """The normalized priority; missing or unknown means normal."""
    code = _code(value)
    return _PRIORITY.get(code, Priority.NORMAL) if code is not None else Priority.NORMAL


def channel_of(source: object) -> Channel:
    """The channel of a ticket ``source`` code; unknown codes are ``other``."""
    code = _code(source)
    return _SOURCE.get(code, Channel.OTHER) if code is not None else Channel.OTHER


@dataclass(frozen=True, slots=True)
class ParseContext:
    """What normalization may look up: agents, groups and contacts cached for the run."""

    account: str | None = None
    base_url: str | None = None
    agents: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    groups: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    contacts: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    custom_statuses: Mapping[int, TicketStatus] = field(default_factory=dict)
    companies: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    customer_fields: CustomerFieldNames = field(default_factory=CustomerFieldNames)

    def group_name(self, group_id: str | None) -> str | None:
        """A group's name when known, else its id."""
        if group_id is None:
            return None
        return _str(self.groups.get(group_id, {}).get("name")) or group_id


def customer_of(
    requester_id: str | None, embedded: object, company_id: str | None, ctx: ParseContext
) -> Customer:
    """The requester from their contact (custom fields, language) and company (custom
    fields, ``account_tier``), read through the mapping; missing fields are unknown."""
    contact = ctx.contacts.get(requester_id or "", {})
    person: Mapping[str, Any] = {
        **(embedded if isinstance(embedded, Mapping) else {}),
        **contact,
    }
    company_key = company_id or _id(person.get("company_id"))
    company = ctx.companies.get(company_key or "", {})
    org_fields = scalar_fields(company.get("custom_fields"))
    tier = _str(company.get("account_tier"))
    if tier is not None:
        org_fields.setdefault("account_tier", tier)
    return customer_record(
        id=requester_id or "unknown",
        name=_str(person.get("name")),
        email=_str(person.get("email")),
        organization=_str(company.get("name")) or company_key,
        language=_str(person.get("language")),
        person_fields=scalar_fields(person.get("custom_fields")),
        organization_fields=org_fields,
        names=ctx.customer_fields,
    )


def agent_of(agent_id: str, ctx: ParseContext, *, group: str | None = None) -> Agent:
    """An agent with name, e-mail (from the agent's contact) and groups (``group_ids``,
    else the ticket's group)."""
    record = ctx.agents.get(agent_id, {})
    contact = record.get("contact")
    email = _str(contact.get("email")) if isinstance(contact, Mapping) else None
    ids = record.get("group_ids")
    groups = tuple(
        dict.fromkeys(
            n
            for g in (ids if isinstance(ids, list) else ())
            if (n := ctx.group_name(_id(g))) is not None
        )
    )
    if not groups and group:
        groups = (group,)
    return Agent(
        id=agent_id,
        name=_agent_name(record),
        email=email if email is not None and "@" in email else None,
        groups=groups,
    )


def index_by_id(records: object) -> dict[str, Mapping[str, Any]]:
    """Index a list of records by (string) id, ignoring malformed entries."""
    out: dict[str, Mapping[str, Any]] = {}
    if isinstance(records, list):
        for record in records:
            if isinstance(record, Mapping):
                rid = _id(record.get("id"))
                if rid is not None:
                    out[rid] = record
    return out


def _agent_name(agent: Mapping[str, Any]) -> str | None:
    contact = agent.get("contact")
    if isinstance(contact, Mapping):
        return _str(contact.get("name"))
    return _str(agent.get("name"))


def _role(
    record: Mapping[str, Any], author: str | None, requester: str | None, ctx: ParseContext
) -> Role:
    if record.get("private") is True:
        return Role.AGENT  # only agents write private notes
    if author is not None and author == requester:
        return Role.CUSTOMER
    if author is not None and author in ctx.agents:
        return Role.AGENT
    if record.get("incoming") is True:
        return Role.CUSTOMER  # from the customer or someone outside (a CC)
    return Role.AGENT if author is not None else Role.SYSTEM


def _body_text(record: Mapping[str, Any], *keys: str) -> str:
    for key in keys:
        value = record.get(key)
        if isinstance(value, str) and value.strip():
            return html_to_text(value) if key in ("body", "description") else value.strip()
    return ""


def parse_conversations(
    records: Iterable[object], *, requester_id: str | None, ctx: ParseContext
) -> tuple[Comment, ...]:
    """Normalize a ticket's conversations (``body_text`` preferred over the HTML ``body``)."""
    out: list[Comment] = []
    for record in records:
        if not isinstance(record, Mapping):
            continue
        cid = _id(record.get("id"))
        created = parse_time(record.get("created_at"))
        if cid is None or created is None:
            continue
        author = _id(record.get("user_id"))
        code = _code(record.get("source"))
        out.append(
            Comment(
                id=cid,
                author_role=_role(record, author, requester_id, ctx),
                author_id=author,
                public=record.get("private") is not True,
                channel=_CONVERSATION_SOURCE.get(code, Channel.OTHER)
                if code is not None
                else Channel.OTHER,
                created_at=created,
                text=_body_text(record, "body_text", "body"),
            )
        )
    return tuple(out)


def _description(data: Mapping[str, Any], tid: str, created: datetime) -> Comment | None:
    # Current API: description (HTML) + description_text; early v2: description (plain)
    # + description_html. Either way the text is the customer's first message.
    text = _body_text(data, "description_text")
    if not text:
        raw = data.get("description")
        if isinstance(raw, str) and raw.strip():
            text = html_to_text(raw) if "<" in raw else raw.strip()
    if not text:
        return None
    requester = _id(data.get("requester_id"))
    return Comment(
        id=f"{tid}-description",
        author_role=Role.CUSTOMER,
        author_id=requester,
        public=True,
        channel=channel_of(data.get("source")),
        created_at=created,
        text=text,
    )


def _minutes(later: datetime, earlier: datetime) -> float | None:
    delta = (later - earlier).total_seconds() / 60.0
    return delta if delta > 0 else None


def _stats(data: Mapping[str, Any]) -> Mapping[str, Any]:
    stats = data.get("stats")
    return stats if isinstance(stats, Mapping) else {}


def _sla(data: Mapping[str, Any], created: datetime, status: TicketStatus) -> SlaInfo | None:
    """The target that applies to the customer's current wait.

    No first response yet: ``fr_due_by``. Answered before: ``nr_due_by`` (newer SLA engine)
    when present. Otherwise the helpdesk holds no target for the current wait: ``due_by``
    is the *resolution* due, counted from creation, not a reply target (taken as one, an
    answered ticket would get days of "reply target"). It is kept as the policy name only;
    the configured reply target for the priority applies, and ``is_escalated`` still
    becomes an ``sla_warning`` event.
    """
    if status in (TicketStatus.SOLVED, TicketStatus.CLOSED):
        return None
    stats = _stats(data)
    responded = parse_time(stats.get("first_responded_at")) if stats else None
    candidates: list[tuple[str, object]] = []
    if responded is None:
        candidates.append(("first_response", data.get("fr_due_by")))
    candidates.append(("next_response", data.get("nr_due_by")))
    for policy, value in candidates:
        breach = parse_time(value)
        if breach is None:
            continue
        target = _minutes(breach, created) if policy == "first_response" else None
        return SlaInfo(policy=policy, reply_target_minutes=target, breach_at=breach)
    if parse_time(data.get("due_by")) is not None:
        return SlaInfo(policy="resolution")
    return None


def _events(
    data: Mapping[str, Any], created: datetime, updated: datetime, status: TicketStatus
) -> tuple[TicketEvent, ...]:
    events = [TicketEvent(type=EventType.CREATED, at=created)]
    stats = _stats(data)
    reopened = parse_time(stats.get("reopened_at"))
    if reopened is not None:
        events.append(TicketEvent(type=EventType.REOPENED, at=reopened))
    changed = parse_time(stats.get("status_updated_at"))
    if changed is not None and changed > created:
        events.append(TicketEvent(type=EventType.STATUS_CHANGED, at=changed, to_status=status))
    for flag, due, what in (
        ("fr_escalated", "fr_due_by", "first response overdue (fr_escalated)"),
        ("nr_escalated", "nr_due_by", "next response overdue (nr_escalated)"),
        ("is_escalated", "due_by", "resolution overdue (is_escalated)"),
    ):
        if data.get(flag) is True:
            at = parse_time(data.get(due)) or updated
            events.append(TicketEvent(type=EventType.SLA_WARNING, at=min(at, updated), detail=what))
    return tuple(events)


def _metrics(data: Mapping[str, Any], created: datetime) -> TicketMetrics | None:
    stats = _stats(data)
    if not stats:
        return None
    first = parse_time(stats.get("first_responded_at"))
    return TicketMetrics(
        reopens=1 if parse_time(stats.get("reopened_at")) is not None else 0,
        first_reply_minutes=_minutes(first, created) if first is not None else None,
    )


def normalize_ticket(
    data: Mapping[str, Any],
    *,
    conversations: Sequence[object] | None = None,
    ctx: ParseContext | None = None,
) -> Ticket:
    """Normalize one ticket (list item, single view or ``include=conversations`` view).

    ``conversations`` defaults to an embedded ``conversations`` list when present. Raises
    :class:`InputError` naming the ticket id when required fields are missing.
    """
    ctx = ctx or ParseContext()
    tid = _id(data.get("id"))
    if tid is None:
        raise InputError("Freshdesk ticket without an id")
    created = parse_time(data.get("created_at"))
    updated = parse_time(data.get("updated_at")) or created
    if created is None or updated is None:
        raise InputError(f"Freshdesk ticket {tid}: created_at/updated_at missing or invalid")
    status = status_of(data.get("status"), ctx.custom_statuses)
    requester_id = _id(data.get("requester_id"))
    requester = customer_of(requester_id, data.get("requester"), _id(data.get("company_id")), ctx)
    group = ctx.group_name(_id(data.get("group_id")))
    responder = _id(data.get("responder_id"))
    assignee = agent_of(responder, ctx, group=group) if responder is not None else None
    tags = data.get("tags")
    custom = data.get("custom_fields")
    fields: dict[str, FieldValue] = (
        {str(k): field_value(v) for k, v in custom.items()} if isinstance(custom, Mapping) else {}
    )
    if conversations is None:
        embedded_conversations = data.get("conversations")
        conversations = embedded_conversations if isinstance(embedded_conversations, list) else ()
    comments = parse_conversations(conversations, requester_id=requester_id, ctx=ctx)
    first = _description(data, tid, created)
    url = f"{ctx.base_url}/a/tickets/{tid}" if ctx.base_url else None
    subject = data.get("subject")
    raw = {k: v for k, v in data.items() if k != "conversations"}
    return Ticket(
        source=SourceRef(connector=CONNECTOR, external_id=tid, account=ctx.account, url=url),
        subject=subject if isinstance(subject, str) else "",
        status=status,
        priority=priority_of(data.get("priority")),
        channel=channel_of(data.get("source")),
        created_at=created,
        updated_at=updated,
        requester=requester,
        assignee=assignee,
        group=group,
        tags=tuple(t for t in tags if isinstance(t, str) and t.strip())
        if isinstance(tags, list)
        else (),
        comments=((first,) if first is not None else ()) + comments,
        events=_events(data, created, updated, status),
        sla=_sla(data, created, status),
        metrics=_metrics(data, created),
        custom_fields=fields,
        raw=raw,
    )


def ticket_stamp(ticket: Mapping[str, Any]) -> str:
    """A ticket copy's freshness: its ``updated_at`` string ("" when missing)."""
    updated = ticket.get("updated_at")
    return updated if isinstance(updated, str) else ""


@dataclass(frozen=True, slots=True)
class TicketList:
    """One page of ``GET /api/v2/tickets``, deduplicated.

    ``tickets`` keeps one copy per ticket (the newest), in list order; ``newest`` is the
    largest ``updated_at`` on the page (None when empty); ``duplicates`` counts dropped
    copies (repeats on the page, or copies no newer than ``seen``).
    """

    tickets: tuple[Mapping[str, Any], ...]
    newest: datetime | None
    count: int
    duplicates: int = 0


def parse_ticket_list(body: object, *, seen: Mapping[str, str] | None = None) -> TicketList:
    """Parse a ticket list page. ``seen`` maps ids to the ``updated_at`` already handed out;
    copies no newer than that are dropped (the overlap of ``updated_since`` restarts)."""
    if not isinstance(body, list):
        raise InputError("Freshdesk ticket list is not a JSON array")
    seen = seen or {}
    latest: dict[str, Mapping[str, Any]] = {}
    duplicates = 0
    newest: datetime | None = None
    for record in body:
        if not isinstance(record, Mapping):
            continue
        tid = _id(record.get("id"))
        updated = parse_time(record.get("updated_at"))
        if tid is None or updated is None:
            continue
        newest = updated if newest is None or updated > newest else newest
        previous = latest.get(tid)
        if previous is not None:
            duplicates += 1
            if (parse_time(ticket_stamp(previous)) or updated) >= updated:
                continue
        known = parse_time(seen.get(tid))
        if known is not None and updated <= known:
            duplicates += 1
            continue
        latest[tid] = record
    return TicketList(
        tickets=tuple(latest.values()), newest=newest, count=len(body), duplicates=duplicates
    )


def next_link(headers: Mapping[str, str]) -> str | None:
    """The ``rel="next"`` URL of a ``Link`` header, if any."""
    value = headers.get("link") or headers.get("Link")
    if not value:
        return None
    match = _LINK.search(value)
    return match.group("url").strip() if match else None


def describe_freshdesk_error(response: HttpResponse) -> str:
    """Freshdesk's error shapes as one safe line.

    ``{"description": "Validation failed", "errors": [{field, message, code}]}`` (400s),
    ``{"code": "...", "message": "..."}`` (others), empty or whitespace 404 bodies, plain
    text and HTML pages.
    """
    data = response.json_or_none()
    if isinstance(data, Mapping):
        errors = data.get("errors")
        if isinstance(errors, list) and errors:
            parts = []
            for item in errors[:3]:
                if isinstance(item, Mapping):
                    name = _str(item.get("field"))
                    code = _str(item.get("code"))
                    message = _str(item.get("message"))
                    text = ": ".join(p for p in (name, message) if p)
                    parts.append(f"{text} [{code}]" if code else text)
            head = _str(data.get("description")) or "request refused"
            detail = "; ".join(p for p in parts if p)
            return _clip(f"{head} ({detail})" if detail else head)
        code = _str(data.get("code"))
        message = _str(data.get("message"))
        if code or message:
            return _clip(": ".join(p for p in (code, message) if p))
    if response.status == 404 and not response.text.strip():
        return "not found"
    return describe_error_body(response)


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
