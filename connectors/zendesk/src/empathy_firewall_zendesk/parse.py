"""Pure parsers: Zendesk JSON (REST and webhook snapshots) -> the core models.

Nothing here does I/O. Parsers accept both the REST API's shapes (integer ids, lower-case
enums) and the event webhooks' shapes (string ids, UPPER-CASE enums), and tolerate the
fields Zendesk leaves null or omits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from empathy_firewall.connectors.base import HttpResponse
from empathy_firewall.connectors.http import describe_error_body
from empathy_firewall.connectors.parsing import field_value, parse_time
from empathy_firewall.connectors.people import (
    CustomerFieldNames,
    customer_record,
    opt_ins_from_field,
    scalar_fields,
)
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
from empathy_firewall.signals.transitions import FieldChange, TrackedField, replay

__all__ = [
    "CONNECTOR",
    "ExportPage",
    "JobItem",
    "JobStatus",
    "ParseContext",
    "agent_of",
    "describe_zendesk_error",
    "export_stamp",
    "normalize_ticket",
    "parse_audits",
    "parse_comments",
    "parse_export",
    "parse_job_status",
    "parse_time",
]

CONNECTOR = "zendesk"

_STATUS = {
    "new": TicketStatus.NEW,
    "open": TicketStatus.OPEN,
    "pending": TicketStatus.PENDING,
    "hold": TicketStatus.ON_HOLD,
    "on_hold": TicketStatus.ON_HOLD,
    "solved": TicketStatus.SOLVED,
    "closed": TicketStatus.CLOSED,
    "archived": TicketStatus.CLOSED,
}
#: statuses meaning the ticket is gone: reported as removed, never normalized
GONE_STATUSES = frozenset({"deleted", "scrubbed"})

_CHANNEL = {
    "web": Channel.WEB,
    "web_form": Channel.WEB,
    "web_widget": Channel.WEB,
    "help_center": Channel.WEB,
    "email": Channel.EMAIL,
    "mail": Channel.EMAIL,
    "api": Channel.API,
    "web_service": Channel.API,
    "chat": Channel.CHAT,
    "chat_transcript": Channel.CHAT,
    "native_messaging": Channel.MESSAGING,
    "messaging": Channel.MESSAGING,
    "sunshine_conversations_api": Channel.MESSAGING,
    "whatsapp": Channel.MESSAGING,
    "sms": Channel.MESSAGING,
    "voice": Channel.PHONE,
    "phone": Channel.PHONE,
    "phone_call_inbound": Channel.PHONE,
    "twitter": Channel.SOCIAL,
    "facebook": Channel.SOCIAL,
    "instagram_dm": Channel.SOCIAL,
}


def _id(value: object) -> str | None:
    """Ids arrive as ints (REST) or strings (webhooks); None, "", 0 and -0 mean none."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if value != 0 else None
    if isinstance(value, str):
        text = value.strip()
        return text if text and text != "0" else None
    return None


def _lower(value: object) -> str | None:
    return value.strip().lower() if isinstance(value, str) and value.strip() else None


def channel_of(via: object) -> Channel:
    """The normalized channel of a ``via`` object (``via.channel`` may be a str or an int)."""
    if isinstance(via, Mapping):
        name = _lower(via.get("channel"))
        if name is not None:
            return _CHANNEL.get(name, Channel.OTHER)
    return Channel.OTHER


def status_of(value: object) -> TicketStatus:
    """The normalized status; unknown or custom values count as open."""
    return _STATUS.get(_lower(value) or "", TicketStatus.OPEN)


def priority_of(value: object) -> Priority:
    """The normalized priority; none means normal."""
    name = _lower(value)
    try:
        return Priority(name) if name else Priority.NORMAL
    except ValueError:
        return Priority.NORMAL


@dataclass(frozen=True, slots=True)
class ParseContext:
    """What a ticket's normalization may look up: sideloaded or cached people and groups."""

    account: str | None = None
    base_url: str | None = None
    users: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    groups: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    metric_sets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    organizations: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: group ids per agent id (from group memberships), for ``Agent.groups``
    memberships: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    customer_fields: CustomerFieldNames = field(default_factory=CustomerFieldNames)
    #: the user field holding an agent's opt-ins (``None``: not read from Zendesk)
    opt_in_field: str | None = None

    def group_name(self, group_id: str | None) -> str | None:
        """A group's name when known, else its id."""
        if group_id is None:
            return None
        name = self.groups.get(group_id, {}).get("name")
        return name if isinstance(name, str) and name else group_id


def index_by_id(records: object, key: str = "id") -> dict[str, Mapping[str, Any]]:
    """Index a sideload list by (string) id, ignoring malformed entries."""
    out: dict[str, Mapping[str, Any]] = {}
    if isinstance(records, list):
        for record in records:
            if isinstance(record, Mapping):
                rid = _id(record.get(key))
                if rid is not None:
                    out[rid] = record
    return out


def _role_of(author: str | None, requester: str | None, public: bool, ctx: ParseContext) -> Role:
    if author is None or author.startswith("-"):
        return Role.SYSTEM
    if author == requester:
        return Role.CUSTOMER
    if author in ctx.memberships:
        return Role.AGENT
    user = ctx.users.get(author)
    if user is not None:
        role = _lower(user.get("role"))
        if role in ("agent", "admin"):
            return Role.AGENT
        if role == "end-user":
            return Role.CUSTOMER
    # Unknown author: only agents write private comments; other public writers are CCs.
    return Role.CUSTOMER if public else Role.AGENT


def parse_comments(
    records: Iterable[object], *, requester_id: str | None, ctx: ParseContext
) -> tuple[Comment, ...]:
    """Normalize a ticket's comments (``plain_body`` preferred over ``body``)."""
    out: list[Comment] = []
    for record in records:
        if not isinstance(record, Mapping):
            continue
        cid = _id(record.get("id"))
        created = parse_time(record.get("created_at"))
        if cid is None or created is None:
            continue
        public = record.get("public") is not False
        author = _id(record.get("author_id"))
        if isinstance(record.get("author_id"), int) and record["author_id"] < 0:
            author = str(record["author_id"])
        text = record.get("plain_body") or record.get("body") or ""
        out.append(
            Comment(
                id=cid,
                author_role=_role_of(author, requester_id, public, ctx),
                author_id=author,
                public=public,
                channel=channel_of(record.get("via")),
                created_at=created,
                text=text if isinstance(text, str) else "",
            )
        )
    return tuple(out)


def _author(value: object) -> str | None:
    if isinstance(value, int) and value < 0:
        return str(value)
    return _id(value)


def _audit_comment(
    event: Mapping[str, Any],
    audit: Mapping[str, Any],
    at: datetime,
    *,
    requester_id: str | None,
    ctx: ParseContext,
) -> Comment | None:
    cid = _id(event.get("id"))
    if cid is None:
        return None
    public = event.get("public") is not False
    author = _author(event.get("author_id", audit.get("author_id")))
    text = event.get("plain_body") or event.get("body") or ""
    return Comment(
        id=cid,
        author_role=_role_of(author, requester_id, public, ctx),
        author_id=author,
        public=public,
        channel=channel_of(event.get("via") or audit.get("via")),
        created_at=parse_time(event.get("created_at")) or at,
        text=text if isinstance(text, str) else "",
    )


_TRACKED = {
    "assignee_id": TrackedField.ASSIGNEE,
    "group_id": TrackedField.GROUP,
    "status": TrackedField.STATUS,
    "priority": TrackedField.PRIORITY,
}


def _field_value(field: TrackedField, value: object, ctx: ParseContext) -> str | None:
    if field is TrackedField.ASSIGNEE:
        return _id(value)
    if field is TrackedField.GROUP:
        return ctx.group_name(_id(value))
    if field is TrackedField.STATUS:
        return status_of(value).value if _lower(value) else None
    return priority_of(value).value  # no priority is normal, as on the ticket


def _field_change(
    name: str,
    before: object,
    after: object,
    at: datetime,
    actor: str | None,
    ctx: ParseContext,
    *,
    created: bool = False,
) -> FieldChange | None:
    """An audit's ``Create``/``Change`` of a tracked field in the core's terms (``before``
    None for a ``Create``: the ticket starts there)."""
    field = _TRACKED.get(name)
    if field is None:
        return None
    return FieldChange(
        field=field,
        before=None if created else _field_value(field, before, ctx),
        after=_field_value(field, after, ctx),
        at=at,
        actor=actor,
    )


def parse_audits(
    audits: Iterable[object], *, requester_id: str | None, ctx: ParseContext
) -> tuple[tuple[Comment, ...], tuple[TicketEvent, ...]]:
    """A ticket's comments and history events from its audits (``GET .../audits``).

    Each audit is one update: its ``Comment`` events become comments (author and time are
    the audit's), its ``Create`` events the ``created`` event and the ticket's starting
    fields. Its ``Change`` events on ``assignee_id``, ``group_id``, ``status`` and
    ``priority`` are only read here (ids and enums normalized, group names where known);
    the events they make (``reassigned``, ``status_changed``, ``reopened``,
    ``priority_changed``) come from the core's one rule set
    (:func:`empathy_firewall.signals.transitions.replay`), one step per audit. Public
    comments also give ``customer_replied``/``agent_replied`` events.
    """
    ordered = sorted(
        (a for a in audits if isinstance(a, Mapping) and parse_time(a.get("created_at"))),
        key=lambda a: (str(parse_time(a.get("created_at"))), str(a.get("id"))),
    )
    comments: list[Comment] = []
    events: list[TicketEvent] = []
    history: list[FieldChange] = []
    for audit in ordered:
        at = parse_time(audit.get("created_at"))
        assert at is not None  # filtered above
        actor = _author(audit.get("author_id"))
        actor = None if actor is None or actor.startswith("-") else actor
        items = [e for e in audit.get("events") or () if isinstance(e, Mapping)]
        created: dict[str, object] = {}
        changed: dict[str, tuple[object, object]] = {}
        for event in items:
            kind = event.get("type")
            name = event.get("field_name")
            if kind == "Comment":
                comment = _audit_comment(event, audit, at, requester_id=requester_id, ctx=ctx)
                if comment is None:
                    continue
                comments.append(comment)
                if comment.public and comment.author_role is not Role.SYSTEM:
                    replied = (
                        EventType.CUSTOMER_REPLIED
                        if comment.author_role is Role.CUSTOMER
                        else EventType.AGENT_REPLIED
                    )
                    events.append(TicketEvent(type=replied, at=at, actor_id=comment.author_id))
            elif kind == "Create" and isinstance(name, str):
                created[name] = event.get("value")
            elif kind == "Change" and isinstance(name, str):
                changed[name] = (event.get("previous_value"), event.get("value"))
        if created:
            assignee = _id(created.get("assignee_id"))
            group = _id(created.get("group_id"))
            for name, value in created.items():  # from nothing: the start, never an event
                change = _field_change(name, None, value, at, actor, ctx, created=True)
                if change is not None:
                    history.append(change)
            events.append(
                TicketEvent(
                    type=EventType.CREATED,
                    at=at,
                    actor_id=actor,
                    to_group=ctx.group_name(group),
                    to_assignee=assignee,
                )
            )
        for name, (before, after) in changed.items():
            change = _field_change(name, before, after, at, actor, ctx)
            if change is not None:
                history.append(change)
    # history events all follow the core's one rule set (signals.transitions)
    merged = sorted([*events, *replay(history)], key=lambda e: e.at)
    return tuple(comments), tuple(merged)


def customer_of(
    requester_id: str | None, organization_id: str | None, ctx: ParseContext
) -> Customer:
    """The requester with their user fields and organisation fields read through the mapping.

    Unknown people and missing fields give ``None`` values (unknown), never an error.
    """
    person = ctx.users.get(requester_id or "", {})
    org_id = organization_id or _id(person.get("organization_id"))
    org = ctx.organizations.get(org_id or "", {})
    org_name = org.get("name")

    def text(value: object) -> str | None:
        return value if isinstance(value, str) and value.strip() else None

    return customer_record(
        id=requester_id or "unknown",
        name=text(person.get("name")),
        email=text(person.get("email")),
        organization=text(org_name) or org_id,
        language=text(person.get("locale")),
        person_fields=scalar_fields(person.get("user_fields")),
        organization_fields=scalar_fields(org.get("organization_fields")),
        names=ctx.customer_fields,
    )


def agent_of(agent_id: str, ctx: ParseContext, *, group: str | None = None) -> Agent:
    """An agent with name, email, groups (memberships, else the ticket's group) and the
    opt-ins of the configured user field."""
    user = ctx.users.get(agent_id, {})
    groups = tuple(
        dict.fromkeys(
            n for g in ctx.memberships.get(agent_id, ()) if (n := ctx.group_name(g)) is not None
        )
    )
    if not groups and group:
        groups = (group,)
    opt_in = None
    if ctx.opt_in_field:
        fields = user.get("user_fields")
        if isinstance(fields, Mapping):
            opt_in = opt_ins_from_field(fields.get(ctx.opt_in_field))
    name, email = user.get("name"), user.get("email")
    return Agent(
        id=agent_id,
        name=name if isinstance(name, str) else None,
        email=email if isinstance(email, str) and "@" in email else None,
        groups=groups,
        **({"opt_in": opt_in} if opt_in is not None else {}),
    )


def _metrics(metric_set: Mapping[str, Any] | None) -> TicketMetrics | None:
    if not metric_set:
        return None

    def count(name: str) -> int | None:
        value = metric_set.get(name)
        return value if isinstance(value, int) and value >= 0 else None

    assignees = count("assignee_stations")
    groups = count("group_stations")
    reply = metric_set.get("reply_time_in_minutes")
    first_reply = reply.get("calendar") if isinstance(reply, Mapping) else None
    return TicketMetrics(
        reassignments=max(assignees - 1, 0) if assignees is not None else None,
        group_hops=max(groups - 1, 0) if groups is not None else None,
        reopens=count("reopens"),
        first_reply_minutes=float(first_reply)
        if isinstance(first_reply, int | float) and first_reply >= 0
        else None,
    )


def _sla(ticket: Mapping[str, Any]) -> SlaInfo | None:
    """The earliest upcoming breach among active SLA policy metrics (``include=slas``)."""
    slas = ticket.get("slas")
    metrics = slas.get("policy_metrics") if isinstance(slas, Mapping) else None
    if not isinstance(metrics, list):
        return None
    best: tuple[datetime, Mapping[str, Any]] | None = None
    for metric in metrics:
        if not isinstance(metric, Mapping) or _lower(metric.get("stage")) == "achieved":
            continue
        breach = parse_time(metric.get("breach_at"))
        if breach is not None and (best is None or breach < best[0]):
            best = (breach, metric)
    if best is None:
        return None
    metric = best[1]
    minutes: float | None = None
    for unit, factor in (("minutes", 1), ("hours", 60), ("days", 1440)):
        value = metric.get(unit)
        if isinstance(value, int | float) and value > 0:
            minutes = float(value) * factor
            break
    name = metric.get("metric")
    return SlaInfo(
        policy=name if isinstance(name, str) else None,
        reply_target_minutes=minutes,
        breach_at=best[0],
    )


def normalize_ticket(
    data: Mapping[str, Any],
    *,
    comments: Sequence[object] | None = None,
    audits: Sequence[object] | None = None,
    ctx: ParseContext | None = None,
) -> Ticket:
    """Normalize one ticket (REST object or webhook ``detail``).

    With ``audits`` (the ticket's audit list) comments and history events come from them;
    otherwise from ``comments`` and the ticket carries only its ``created`` event.

    Raises :class:`InputError` naming the ticket id when required fields are missing.
    """
    ctx = ctx or ParseContext()
    tid = _id(data.get("id"))
    if tid is None:
        raise InputError("Zendesk ticket without an id")
    created = parse_time(data.get("created_at"))
    updated = parse_time(data.get("updated_at")) or created
    if created is None or updated is None:
        raise InputError(f"Zendesk ticket {tid}: created_at/updated_at missing or invalid")
    requester_id = _id(data.get("requester_id"))
    requester = customer_of(requester_id, _id(data.get("organization_id")), ctx)
    group = ctx.group_name(_id(data.get("group_id")))
    assignee_id = _id(data.get("assignee_id"))
    assignee = agent_of(assignee_id, ctx, group=group) if assignee_id is not None else None
    tags = data.get("tags")
    fields: dict[str, FieldValue] = {}
    custom = data.get("custom_fields") or data.get("fields")
    if isinstance(custom, list):
        for item in custom:
            if isinstance(item, Mapping) and _id(item.get("id")) is not None:
                fields[str(_id(item.get("id")))] = field_value(item.get("value"))
    url = f"{ctx.base_url}/agent/tickets/{tid}" if ctx.base_url else None
    if audits is not None:
        thread, events = parse_audits(audits, requester_id=requester_id, ctx=ctx)
        if not any(e.type is EventType.CREATED for e in events):
            events = (TicketEvent(type=EventType.CREATED, at=created), *events)
    else:
        thread = parse_comments(comments or (), requester_id=requester_id, ctx=ctx)
        events = (TicketEvent(type=EventType.CREATED, at=created),)
    subject = data.get("subject") or data.get("raw_subject") or ""
    return Ticket(
        source=SourceRef(connector=CONNECTOR, external_id=tid, account=ctx.account, url=url),
        subject=subject if isinstance(subject, str) else "",
        status=status_of(data.get("status")),
        priority=priority_of(data.get("priority")),
        channel=channel_of(data.get("via")),
        created_at=created,
        updated_at=updated,
        requester=requester,
        assignee=assignee,
        group=group,
        tags=tuple(t for t in tags if isinstance(t, str) and t.strip())
        if isinstance(tags, list)
        else (),
        comments=thread,
        events=events,
        sla=_sla(data),
        metrics=_metrics(ctx.metric_sets.get(tid)),
        custom_fields=fields,
        raw=dict(data),
    )


@dataclass(frozen=True, slots=True)
class ExportPage:
    """One page of the cursor-based incremental export, deduplicated.

    ``tickets`` keeps the newest copy of each ticket (by ``generated_timestamp``) in the
    order of their last appearance; ``removed`` holds deleted ticket ids; ``duplicates``
    counts dropped copies.
    """

    tickets: tuple[Mapping[str, Any], ...]
    removed: tuple[str, ...]
    after_cursor: str | None
    end_of_stream: bool
    users: dict[str, Mapping[str, Any]]
    groups: dict[str, Mapping[str, Any]]
    metric_sets: dict[str, Mapping[str, Any]]
    duplicates: int = 0
    organizations: dict[str, Mapping[str, Any]] = field(default_factory=dict)


def export_stamp(ticket: Mapping[str, Any]) -> tuple[int, str]:
    """A ticket copy's freshness: (generated_timestamp, updated_at)."""
    generated = ticket.get("generated_timestamp")
    updated = ticket.get("updated_at")
    return (
        generated if isinstance(generated, int) else 0,
        updated if isinstance(updated, str) else "",
    )


def parse_export(body: object, *, seen: Mapping[str, tuple[int, str]] | None = None) -> ExportPage:
    """Parse an export page. ``seen`` maps ids to stamps already handed out this run;
    copies no newer than those are dropped as duplicates."""
    if not isinstance(body, Mapping) or not isinstance(body.get("tickets"), list):
        raise InputError("Zendesk export page without a `tickets` list")
    seen = seen or {}
    latest: dict[str, Mapping[str, Any]] = {}
    removed: dict[str, None] = {}
    duplicates = 0
    for record in body["tickets"]:
        if not isinstance(record, Mapping):
            continue
        tid = _id(record.get("id"))
        if tid is None:
            continue
        if _lower(record.get("status")) in GONE_STATUSES:
            removed[tid] = None
            latest.pop(tid, None)
            continue
        previous = latest.get(tid)
        if previous is not None:
            duplicates += 1
            if export_stamp(previous) > export_stamp(record):
                continue
            del latest[tid]  # re-insert: keep order of the newest appearance
        if tid in seen and export_stamp(record) <= seen[tid]:
            duplicates += 1
            continue
        latest[tid] = record
    after = body.get("after_cursor")
    return ExportPage(
        tickets=tuple(latest.values()),
        removed=tuple(removed),
        after_cursor=after if isinstance(after, str) and after else None,
        end_of_stream=body.get("end_of_stream") is True,
        users=index_by_id(body.get("users")),
        groups=index_by_id(body.get("groups")),
        metric_sets=index_by_id(body.get("metric_sets"), key="ticket_id"),
        duplicates=duplicates,
        organizations=index_by_id(body.get("organizations")),
    )


@dataclass(frozen=True, slots=True)
class JobItem:
    """One ticket's outcome inside a bulk job."""

    id: str | None
    index: int | None
    success: bool
    error: str | None


@dataclass(frozen=True, slots=True)
class JobStatus:
    """A ``job_status``: queued, working, completed or failed, with per-item results."""

    id: str
    status: str
    items: tuple[JobItem, ...]
    message: str | None

    @property
    def finished(self) -> bool:
        """True once the job will not change any more."""
        return self.status in ("completed", "failed", "killed")


def _item_error(record: Mapping[str, Any]) -> str:
    parts = [
        str(record[k]) for k in ("error", "status", "details") if isinstance(record.get(k), str)
    ]
    return ": ".join(parts) or "failed"


def parse_job_status(body: object) -> JobStatus:
    """Parse ``{"job_status": {...}}`` (or a bare job status object).

    An item counts as failed when ``success`` is false, or when it carries ``error``
    without ``success`` (the shape Zendesk uses for failed items).
    """
    job = body.get("job_status", body) if isinstance(body, Mapping) else None
    if not isinstance(job, Mapping) or _id(job.get("id")) is None:
        raise InputError("Zendesk job status without an id")
    items: list[JobItem] = []
    results = job.get("results")
    for record in results if isinstance(results, list) else ():
        if not isinstance(record, Mapping):
            continue
        success = record.get("success") is True or (
            "success" not in record and "error" not in record
        )
        index = record.get("index")
        items.append(
            JobItem(
                id=_id(record.get("id")),
                index=index if isinstance(index, int) else None,
                success=success,
                error=None if success else _item_error(record),
            )
        )
    status = _lower(job.get("status")) or "queued"
    message = job.get("message")
    return JobStatus(
        id=str(_id(job.get("id"))),
        status=status,
        items=tuple(items),
        message=message if isinstance(message, str) else None,
    )


def describe_zendesk_error(response: HttpResponse) -> str:
    """Zendesk's error shapes as one safe line.

    Handles ``{"error": "Code", "description": ..., "details": {field: [{description}]}}``,
    ``{"error": "Couldn't authenticate you"}``, ``{"errors": [{code, title}]}``, the edge
    protection ``{"title", "detail"}``, plain-text bodies and HTML pages.
    """
    data = response.json_or_none()
    if isinstance(data, Mapping):
        details = data.get("details")
        if isinstance(details, Mapping):
            reasons = []
            for name, problems in details.items():
                for problem in problems if isinstance(problems, list) else ():
                    if isinstance(problem, Mapping) and isinstance(problem.get("description"), str):
                        reasons.append(f"{name}: {problem['description']}")
            if reasons:
                base = describe_error_body(response)
                return f"{base} ({'; '.join(reasons[:3])})"
    return describe_error_body(response)
