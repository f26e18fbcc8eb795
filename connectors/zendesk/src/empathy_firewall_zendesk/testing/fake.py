"""A stateful fake Zendesk for tests, benchmarks and the connector conformance suite.

It holds tickets, comments, audits, tags, users (with ``user_fields``), organisations (with
``organization_fields``), groups and group memberships, macros and bulk jobs, speaks the
REST shapes the connector uses (incremental cursor export with ``users``, ``groups``,
``organizations`` and ``metric_sets`` sideloads, comments, ticket audits, group
memberships, organisations ``show_many``, search ``count``, tags, ticket update with
``safe_update``, ``update_many`` + ``job_statuses``, macro preview), checks credentials,
enforces rate limits, and injects faults: 429 with ``Retry-After`` (JSON or plain text),
500, timeouts (before or after processing), partial bulk-job failures and 409 conflicts.

Use it as the transport of the ``send`` seam (``fake.connect(ZendeskConnector)``) or behind
``responses`` with :meth:`FakeZendesk.install`. It records every request with its (fake)
time and counts ``violations``: requests that arrived before a ``Retry-After`` it had
issued expired.
"""

from __future__ import annotations

import base64
import itertools
import json
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from empathy_firewall.connectors.base import Headers, markers_in
from empathy_firewall.testing.clock import FakeClock
from empathy_firewall.testing.fake_helpdesk import FakeHelpdesk, Fault, LoggedRequest, Reply, iso
from empathy_firewall.webhooks.request import WebhookRequest
from empathy_firewall_zendesk.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, compute_signature

__all__ = ["FakeZendesk", "Fault", "LoggedRequest"]


@dataclass
class _Job:
    id: str
    created: float
    results: list[dict[str, Any]]
    total: int
    #: with ``async_jobs``: the items, applied only when the job completes
    items: list[Mapping[str, Any]] | None = None


@dataclass
class _State:
    tickets: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    users: dict[int, dict[str, Any]] = field(default_factory=dict)
    groups: dict[int, dict[str, Any]] = field(default_factory=dict)
    macros: dict[int, dict[str, Any]] = field(default_factory=dict)
    audits: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    organizations: dict[int, dict[str, Any]] = field(default_factory=dict)
    memberships: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[int, dict[str, Any]] = field(default_factory=dict)
    jobs: dict[str, _Job] = field(default_factory=dict)


class FakeZendesk(FakeHelpdesk):
    """An in-memory Zendesk account; see the module docstring."""

    RATE_LIMITED_BODY = '{"error":"APIRateLimitExceeded","description":"Rate limit exceeded"}'
    ERROR_BODY = '{"error":"InternalError","description":"Something went wrong"}'
    SETTLE_SECONDS = 120.0  # past the export's excluded last minute

    def __init__(
        self,
        *,
        base_url: str = "https://fake.zendesk.test",
        clock: FakeClock | None = None,
        email: str = "admin@example.com",
        token: str = "fake-api-token",  # noqa: S107 - a test double's fixed credential
        signing_secret: str = "fake-signing-secret",  # noqa: S107
        job_seconds: float = 0.5,
        requests_per_minute: int | None = None,
        export_per_minute: int = 10,
    ) -> None:
        super().__init__(base_url=base_url, clock=clock)
        self.email = email
        self.token = token
        self.signing_secret = signing_secret
        self.job_seconds = job_seconds
        self.requests_per_minute = requests_per_minute
        self.export_per_minute = export_per_minute
        self.state = _State()
        self.item_failures: dict[int, deque[str]] = {}
        self.conflicts: dict[int, int] = {}
        self.export_duplicates = False
        #: like real Zendesk, apply update_many items only when the job completes
        #: (``job_seconds`` after it was queued) instead of at submission
        self.async_jobs = False
        self._account_window: deque[float] = deque()
        self._export_window: deque[float] = deque()
        self._ids = itertools.count(1001)
        self._comment_ids = itertools.count(50_001)
        self._job_ids = itertools.count(1)
        self._admin_id = self.add_user(name="Admin", role="admin", email=email)

    # -- configuration helpers --------------------------------------------------------

    @property
    def env(self) -> dict[str, str]:
        """Environment variables a connector needs to talk to this fake."""
        return {
            "ZENDESK_EMAIL": self.email,
            "ZENDESK_API_TOKEN": self.token,
            "ZENDESK_WEBHOOK_SECRET": self.signing_secret,
        }

    def webhook(self, body: bytes) -> WebhookRequest:
        """A webhook as Zendesk sends it now: signed with the fake's signing secret."""
        now = self.clock.wall()
        stamp = iso(now)
        signature = compute_signature(self.signing_secret, stamp, body)
        headers = Headers({SIGNATURE_HEADER: signature, TIMESTAMP_HEADER: stamp})
        return WebhookRequest("POST", "/webhooks/zendesk", headers, body, received_at=now)

    def webhook_body(self, ticket_id: str) -> bytes:
        """The documented webhook's JSON body about ``ticket_id``."""
        return json.dumps(
            {
                "empathy_firewall": 1,
                "event": "ticket.updated",
                "ticket_id": ticket_id,
                "updated_at": iso(self.clock.wall()),
                "status": "open",
            }
        ).encode()

    # -- seeding -----------------------------------------------------------------------

    def add_user(
        self,
        *,
        name: str,
        role: str = "end-user",
        email: str | None = None,
        locale: str = "en-US",
        user_fields: Mapping[str, Any] | None = None,
        organization_id: int | None = None,
    ) -> int:
        """Add a user (``user_fields`` keyed by field key, as Zendesk returns them)."""
        uid = next(self._ids)
        self.state.users[uid] = {
            "id": uid,
            "url": f"{self.base_url}/api/v2/users/{uid}.json",
            "name": name,
            "role": role,
            "email": email or f"user{uid}@example.com",
            "locale": locale,
            "organization_id": organization_id,
            "user_fields": dict(user_fields or {}),
            "active": True,
        }
        return uid

    def add_organization(self, name: str, fields: Mapping[str, Any] | None = None) -> int:
        """Add an organisation (``organization_fields`` keyed by field key)."""
        oid = next(self._ids)
        self.state.organizations[oid] = {
            "id": oid,
            "url": f"{self.base_url}/api/v2/organizations/{oid}.json",
            "name": name,
            "organization_fields": dict(fields or {}),
        }
        return oid

    def add_group(self, name: str) -> int:
        """Add a group; returns its id."""
        gid = next(self._ids)
        self.state.groups[gid] = {"id": gid, "name": name}
        return gid

    def add_membership(self, user_id: int, group_id: int) -> None:
        """Put an agent in a group (a group membership)."""
        if not any(
            m["user_id"] == user_id and m["group_id"] == group_id for m in self.state.memberships
        ):
            self.state.memberships.append(
                {
                    "id": next(self._ids),
                    "user_id": user_id,
                    "group_id": group_id,
                    "default": not any(m["user_id"] == user_id for m in self.state.memberships),
                }
            )

    def add_audit(
        self,
        ticket_id: int,
        events: Sequence[Mapping[str, Any]],
        *,
        author_id: int,
        at: datetime | None = None,
        channel: str = "web",
    ) -> int:
        """Record an audit (one update of the ticket, with its ``events``) as Zendesk
        would; ``Comment`` events must also be added to the comments by the caller."""
        aid = next(self._comment_ids)
        self.state.audits.setdefault(ticket_id, []).append(
            {
                "id": aid,
                "ticket_id": ticket_id,
                "author_id": author_id,
                "created_at": iso(at or self.clock.wall()),
                "via": {"channel": channel},
                "metadata": {"system": {}, "custom": {}},
                "events": [{"id": next(self._comment_ids), **e} for e in events],
            }
        )
        return aid

    def add_macro(self, title: str, changes: Mapping[str, Any]) -> int:
        """Add an active macro whose preview sets ``changes`` (``comment``, ``status``, ...).

        ``changes["add_tags"]`` adds tags (as Zendesk's ``current_tags`` action does).
        """
        mid = next(self._ids)
        self.state.macros[mid] = {"id": mid, "title": title, "active": True, "changes": changes}
        return mid

    def add_ticket(
        self,
        *,
        subject: str = "Help",
        body: str = "Something is wrong.",
        requester_id: int | None = None,
        status: str = "open",
        priority: str | None = "normal",
        tags: Sequence[str] = (),
        assignee_id: int | None = None,
        group_id: int | None = None,
        ai_agent: bool = False,
        age_seconds: float = 3600.0,
    ) -> int:
        """Add a ticket with a first public comment from the requester; returns its id."""
        tid = next(self._ids)
        requester = requester_id or self.add_user(name=f"Customer {tid}")
        when = self.clock.wall() - timedelta(seconds=age_seconds)
        self.state.tickets[tid] = {
            "id": tid,
            "url": f"{self.base_url}/api/v2/tickets/{tid}.json",
            "subject": subject,
            "description": body,
            "status": status,
            "priority": priority,
            "type": None,
            "requester_id": requester,
            "submitter_id": requester,
            "assignee_id": assignee_id,
            "group_id": group_id,
            "organization_id": None,
            "tags": list(dict.fromkeys(tags)),
            "custom_fields": [],
            "via": {"channel": "email"},
            "created_at": iso(when),
            "updated_at": iso(when),
            "generated_timestamp": int(when.timestamp()),
            "_ai_agent": ai_agent,
        }
        self.state.comments[tid] = []
        self.state.metrics[tid] = {
            "ticket_id": tid,
            "assignee_stations": 1 if assignee_id else 0,
            "group_stations": 1 if group_id else 0,
            "reopens": 0,
            "replies": 0,
            "reply_time_in_minutes": {"calendar": None, "business": None},
        }
        comment = self._add_comment(tid, body, requester, public=True, at=when)
        creates = [
            {"type": "Create", "field_name": name, "value": value}
            for name, value in (
                ("subject", subject),
                ("status", status),
                ("priority", priority),
                ("group_id", group_id),
                ("assignee_id", assignee_id),
            )
            if value is not None
        ]
        self.state.audits[tid] = []
        self.add_audit(tid, [self._comment_event(comment), *creates], author_id=requester, at=when)
        return tid

    def add_comment(self, ticket_id: int, body: str, *, author_id: int, public: bool = True) -> int:
        """Add a comment as if someone wrote it now; returns the comment id."""
        comment = self._add_comment(ticket_id, body, author_id, public=public)
        self.add_audit(ticket_id, [self._comment_event(comment)], author_id=author_id)
        self._touch(ticket_id)
        return int(comment["id"])

    def change(self, ticket_id: int, *, author_id: int, **fields: Any) -> None:
        """Change ticket fields (``status``, ``priority``, ``group_id``, ``assignee_id``) as
        someone else would, recording an audit with one ``Change`` event per field."""
        events = self._set_fields(self.state.tickets[ticket_id], fields)
        if events:
            self.add_audit(ticket_id, events, author_id=author_id)
            self._touch(ticket_id)

    def delete_ticket(self, ticket_id: int) -> None:
        """Soft-delete a ticket: it shows in the export with ``status: deleted``."""
        self.state.tickets[ticket_id]["status"] = "deleted"
        self._touch(ticket_id)

    # -- fault injection ---------------------------------------------------------------

    def fail_job_item(
        self, ticket_id: int, error: str = "TicketUpdateFailed", times: int = 1
    ) -> None:
        """Make the ticket's next ``times`` bulk-job items fail with ``error``."""
        self.item_failures.setdefault(ticket_id, deque()).extend([error] * times)

    def conflict_next(self, ticket_id: int, times: int = 1) -> None:
        """Simulate someone updating the ticket just before our next ``times`` safe updates."""
        self.conflicts[ticket_id] = self.conflicts.get(ticket_id, 0) + times

    # -- observations ------------------------------------------------------------------

    def ticket(self, ticket_id: int) -> dict[str, Any]:
        """The stored ticket JSON."""
        return self.state.tickets[ticket_id]

    def tags(self, ticket_id: int) -> list[str]:
        """The ticket's tags."""
        return list(self.state.tickets[ticket_id]["tags"])

    def comments(self, ticket_id: int) -> list[dict[str, Any]]:
        """The ticket's comments, oldest first."""
        return list(self.state.comments[ticket_id])

    def notes(self, ticket_id: int) -> list[str]:
        """Bodies of the ticket's private comments."""
        return [c["body"] for c in self.state.comments[ticket_id] if not c["public"]]

    def marker_count(self, ticket_id: int, key: str) -> int:
        """How many comments on the ticket carry the marker of ``key``."""
        return sum(1 for c in self.state.comments[ticket_id] if key in markers_in(c["body"]))

    def snapshot(self) -> dict[int, Any]:
        """Everything a test may compare: tickets (tags, priority, status) and comments."""
        return {
            tid: {
                "tags": sorted(t["tags"]),
                "priority": t["priority"],
                "status": t["status"],
                "comments": [(c["body"], c["public"]) for c in self.state.comments[tid]],
            }
            for tid, t in self.state.tickets.items()
        }

    # -- request handling --------------------------------------------------------------

    def _serve(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        headers: Headers,
        body: Any,
        reply_headers: dict[str, str],
    ) -> tuple[int, Any]:
        self._authenticate(headers)
        self._settle_jobs()
        self._rate_limit(path)
        return self._route(method, path, params, body)

    def _authenticate(self, headers: Headers) -> None:
        expected = "Basic " + base64.b64encode(f"{self.email}/token:{self.token}".encode()).decode()
        if headers.get("Authorization") != expected:
            raise Reply(401, {"error": "Couldn't authenticate you"})

    def _rate_limit(self, path: str) -> None:
        now = self.clock.now()
        windows: list[tuple[deque[float], int | None, str]] = [
            (self._account_window, self.requests_per_minute, "API")
        ]
        if path.startswith("/api/v2/incremental/"):
            windows.append((self._export_window, self.export_per_minute, "incremental export API"))
        for window, limit, what in windows:
            while window and now - window[0] >= 60.0:
                window.popleft()
            if limit is not None and len(window) >= limit:
                wait = int(window[0] + 60.0 - now) + 1
                self._block(wait)
                raise Reply(
                    429,
                    {
                        "error": "APIRateLimitExceeded",
                        "description": f"Number of allowed {what} requests per minute exceeded",
                    },
                    {"Retry-After": str(wait)},
                )
        for window, _limit, _what in windows:
            window.append(now)

    def _route(self, method: str, path: str, params: dict[str, str], body: Any) -> tuple[int, Any]:
        p = path[:-5] if path.endswith(".json") else path
        parts = p.strip("/").split("/")
        if parts[:2] != ["api", "v2"]:
            raise Reply(404, {"error": "InvalidEndpoint", "description": "Not found"})
        rest = parts[2:]
        if rest == ["users", "me"]:
            return 200, {"user": self.state.users[self._admin_id]}
        if rest == ["incremental", "tickets", "cursor"] and method == "GET":
            return 200, self._export(params)
        if rest == ["incremental", "ticket_events"] and method == "GET":
            return 200, self._ticket_events(params)
        if rest == ["tickets", "update_many"] and method == "PUT":
            return 200, self._update_many(params, body)
        if rest == ["tickets", "show_many"] and method == "GET":
            return 200, self._show_many(params)
        if rest == ["job_statuses"] and method == "GET":
            recent = sorted(self.state.jobs.values(), key=lambda j: j.created, reverse=True)
            return 200, {
                "job_statuses": [self._job_json(j.id) for j in recent[:100]],
                "meta": {"has_more": False, "after_cursor": None, "before_cursor": None},
                "links": {"next": None, "prev": None},
            }
        if rest == ["job_statuses", "show_many"] and method == "GET":
            ids = [i for i in params.get("ids", "").split(",") if i]
            return 200, {"job_statuses": [self._job_json(i) for i in ids if i in self.state.jobs]}
        if len(rest) == 2 and rest[0] == "job_statuses" and method == "GET":
            if rest[1] not in self.state.jobs:
                raise Reply(404, {"error": "RecordNotFound", "description": "Not found"})
            return 200, {"job_status": self._job_json(rest[1])}
        if rest == ["group_memberships"] and method == "GET":
            return 200, self._memberships_page(params)
        if rest == ["organizations", "show_many"] and method == "GET":
            org_ids = [int(i) for i in params.get("ids", "").split(",") if i.isdigit()]
            orgs = [self.state.organizations[i] for i in org_ids if i in self.state.organizations]
            return 200, {"organizations": orgs, "next_page": None, "previous_page": None}
        if rest == ["search", "count"] and method == "GET":
            return 200, {"count": self._search_count(params.get("query", ""))}
        if rest == ["macros", "active"] and method == "GET":
            macros = [
                {"id": m["id"], "title": m["title"], "active": True, "actions": []}
                for m in self.state.macros.values()
            ]
            return 200, {"macros": macros, "meta": {"has_more": False}, "links": {"next": None}}
        if len(rest) >= 2 and rest[0] == "tickets" and rest[1].isdigit():
            return self._ticket_route(method, int(rest[1]), rest[2:], params, body)
        raise Reply(404, {"error": "InvalidEndpoint", "description": "Not found"})

    def _live(self, tid: int) -> dict[str, Any]:
        ticket = self.state.tickets.get(tid)
        if ticket is None or ticket["status"] == "deleted":
            raise Reply(404, {"error": "RecordNotFound", "description": "Not found"})
        return ticket

    def _ticket_route(
        self, method: str, tid: int, rest: list[str], params: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        ticket = self._live(tid)
        if not rest:
            if method == "GET":
                return 200, {"ticket": self._public(ticket)}
            if method == "PUT":
                return 200, self._put_ticket(tid, body)
        if rest == ["comments"] and method == "GET":
            return 200, self._comments_page(tid, params)
        if rest == ["audits"] and method == "GET":
            return 200, self._audits_page(tid, params)
        if rest == ["tags"]:
            tags = body.get("tags", []) if isinstance(body, Mapping) else []
            if method == "PUT":
                ticket["tags"] = list(dict.fromkeys([*ticket["tags"], *tags]))
                self._touch(tid)
            elif method == "POST":
                ticket["tags"] = list(dict.fromkeys(tags))
                self._touch(tid)
            elif method == "DELETE":
                ticket["tags"] = [t for t in ticket["tags"] if t not in tags]
                self._touch(tid)
            return 200, {"tags": ticket["tags"]}
        if len(rest) == 3 and rest[0] == "macros" and rest[2] == "apply" and method == "GET":
            macro = self.state.macros.get(int(rest[1])) if rest[1].isdigit() else None
            if macro is None:
                raise Reply(404, {"error": "RecordNotFound", "description": "Not found"})
            preview = self._public(ticket)
            changes = dict(macro["changes"])
            added = changes.pop("add_tags", [])
            preview.update(changes)
            preview["tags"] = list(dict.fromkeys([*ticket["tags"], *added]))
            return 200, {"result": {"ticket": preview}}
        raise Reply(404, {"error": "InvalidEndpoint", "description": "Not found"})

    # -- state changes -----------------------------------------------------------------

    def _add_comment(
        self, tid: int, body: str, author: int, *, public: bool, at: datetime | None = None
    ) -> dict[str, Any]:
        cid = next(self._comment_ids)
        comment = {
            "id": cid,
            "type": "Comment",
            "author_id": author,
            "body": body,
            "plain_body": body,
            "public": public,
            "created_at": iso(at or self.clock.wall()),
            "via": {"channel": "api"},
        }
        self.state.comments[tid].append(comment)
        return comment

    @staticmethod
    def _comment_event(comment: Mapping[str, Any]) -> dict[str, Any]:
        """A comment as a ``Comment`` audit event (no ``created_at``: the audit's applies)."""
        return {
            "type": "Comment",
            "id": comment["id"],
            "author_id": comment["author_id"],
            "body": comment["body"],
            "html_body": f"<p>{comment['body']}</p>",
            "plain_body": comment["plain_body"],
            "public": comment["public"],
            "attachments": [],
        }

    @staticmethod
    def _set_fields(ticket: dict[str, Any], fields: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Set ``fields`` on the ticket; one ``Change`` audit event per value that changed."""
        events = [
            {"type": "Change", "field_name": n, "previous_value": ticket.get(n), "value": v}
            for n, v in fields.items()
            if ticket.get(n) != v
        ]
        ticket.update(fields)
        return events

    def _touch(self, tid: int) -> None:
        ticket = self.state.tickets[tid]
        previous = ticket["generated_timestamp"]
        moment = max(int(self.clock.wall().timestamp()), previous + 1)
        ticket["generated_timestamp"] = moment
        ticket["updated_at"] = iso(datetime.fromtimestamp(moment, tz=self.clock.wall().tzinfo))

    def _apply_change(self, tid: int, change: Mapping[str, Any]) -> None:
        ticket = self._live(tid)
        if ticket["status"] == "closed":
            raise Reply(
                422,
                {
                    "error": "RecordInvalid",
                    "description": "Record validation errors",
                    "details": {
                        "status": [{"description": "Status: closed prevents ticket update"}]
                    },
                },
            )
        fields = ("status", "priority", "type", "group_id", "assignee_id", "subject")
        events = self._set_fields(ticket, {n: change[n] for n in fields if n in change})
        if "tags" in change:
            ticket["tags"] = list(dict.fromkeys(change["tags"]))
        if "additional_tags" in change:
            ticket["tags"] = list(dict.fromkeys([*ticket["tags"], *change["additional_tags"]]))
        if "remove_tags" in change:
            ticket["tags"] = [t for t in ticket["tags"] if t not in change["remove_tags"]]
        comment = change.get("comment")
        if isinstance(comment, Mapping) and (comment.get("body") or comment.get("html_body")):
            added = self._add_comment(
                tid,
                str(comment.get("body") or comment.get("html_body")),
                self._admin_id,
                public=comment.get("public") is not False,
            )
            events.insert(0, self._comment_event(added))
        if events:
            self.add_audit(tid, events, author_id=self._admin_id, channel="api")
        self._touch(tid)

    def _put_ticket(self, tid: int, body: Any) -> dict[str, Any]:
        change = body.get("ticket") if isinstance(body, Mapping) else None
        if not isinstance(change, Mapping):
            raise Reply(400, {"error": "InvalidParameter", "description": "ticket missing"})
        if self.conflicts.get(tid):
            self.conflicts[tid] -= 1
            self._touch(tid)  # someone else got there first
        stamp = change.get("updated_stamp")
        current = self.state.tickets[tid]["updated_at"]
        if change.get("safe_update") and stamp is not None and stamp != current:
            raise Reply(
                409,
                {
                    "error": "UpdateConflict",
                    "description": "Safe Update prevented the update due to outdated "
                    "ticket data. Please fetch the latest ticket data and try again.",
                },
            )
        self._apply_change(tid, change)
        return {"ticket": self._public(self.state.tickets[tid]), "audit": {"events": []}}

    def _update_many(self, params: dict[str, str], body: Any) -> dict[str, Any]:
        items: list[Mapping[str, Any]] = []
        if isinstance(body, Mapping) and isinstance(body.get("tickets"), list):
            items = [i for i in body["tickets"] if isinstance(i, Mapping)]
        elif (
            "ids" in params
            and isinstance(body, Mapping)
            and isinstance(body.get("ticket"), Mapping)
        ):
            items = [{"id": int(i), **body["ticket"]} for i in params["ids"].split(",") if i]
        if len(items) > 100:
            raise Reply(
                400,
                {
                    "error": "TooManyValues",
                    "description": "Parameter  cannot specify more than 100 values",
                    "max_count": 100,
                },
            )
        job_id = f"V3-fake{next(self._job_ids):08d}"
        if self.async_jobs:
            job = _Job(job_id, self.clock.now(), [], len(items), list(items))
            self.state.jobs[job_id] = job
            return {"job_status": self._job_json(job_id, fresh=True)}
        results = self._run_items(items)
        self.state.jobs[job_id] = _Job(job_id, self.clock.now(), results, len(items))
        return {"job_status": self._job_json(job_id, fresh=True)}

    def _settle_jobs(self) -> None:
        """Apply the items of asynchronous jobs whose time has come."""
        for job in self.state.jobs.values():
            if job.items is not None and self.clock.now() - job.created >= self.job_seconds:
                job.results = self._run_items(job.items)
                job.items = None

    def _run_items(self, items: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        for index, item in enumerate(items):
            tid = int(item.get("id", 0))
            failures = self.item_failures.get(tid)
            if failures:
                results.append({"index": index, "id": tid, "error": failures.popleft()})
                continue
            try:
                self._apply_change(tid, {k: v for k, v in item.items() if k != "id"})
            except Reply as reply:
                error = (
                    reply.body.get("error", "Failed") if isinstance(reply.body, dict) else "Failed"
                )
                details = reply.body.get("description", "") if isinstance(reply.body, dict) else ""
                if isinstance(reply.body, dict) and isinstance(reply.body.get("details"), dict):
                    details = reply.body["details"]["status"][0]["description"]
                results.append({"index": index, "id": tid, "error": error, "details": details})
                continue
            results.append({"id": tid, "action": "update", "success": True, "status": "Updated"})
        return results

    def _job_json(self, job_id: str, *, fresh: bool = False) -> dict[str, Any]:
        job = self.state.jobs[job_id]
        done = not fresh and self.clock.now() - job.created >= self.job_seconds
        return {
            "id": job.id,
            "url": f"{self.base_url}/api/v2/job_statuses/{job.id}.json",
            "total": job.total,
            "progress": job.total if done else None,
            "status": "completed" if done else "queued",
            "message": "Completed" if done else None,
            "results": job.results if done else None,
        }

    # -- reads -------------------------------------------------------------------------

    @staticmethod
    def _public(ticket: Mapping[str, Any], include: str = "") -> dict[str, Any]:
        """The ticket as the API shows it (``slas`` only when ``include`` asks for it)."""
        out = {k: v for k, v in ticket.items() if not k.startswith("_")}
        if "slas" in include.split(",") and "_slas" in ticket:
            out["slas"] = ticket["_slas"]
        return out

    def _comments_page(self, tid: int, params: dict[str, str]) -> dict[str, Any]:
        size = min(int(params.get("page[size]", "100")), 100)
        start = int(params.get("page[after]", "0") or 0)
        comments = self.state.comments[tid]
        chunk = comments[start : start + size]
        more = start + size < len(comments)
        users = {c["author_id"] for c in chunk}
        return {
            "comments": chunk,
            "users": [self.state.users[u] for u in users if u in self.state.users],
            "meta": {
                "has_more": more,
                "after_cursor": str(start + size) if more else None,
                "before_cursor": None,
            },
            "links": {"next": None, "prev": None},
        }

    @staticmethod
    def _cursor_slice(
        items: Sequence[dict[str, Any]], params: dict[str, str]
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        size = min(int(params.get("page[size]", "100")), 100)
        start = int(params.get("page[after]", "0") or 0)
        more = start + size < len(items)
        meta = {
            "has_more": more,
            "after_cursor": str(start + size) if more else None,
            "before_cursor": None,
        }
        return list(items[start : start + size]), meta

    def _audits_page(self, tid: int, params: dict[str, str]) -> dict[str, Any]:
        """Cursor pagination with ``page[size]``; the offset shape (``count``,
        ``next_page``) of the OAS example otherwise."""
        audits = self.state.audits.get(tid, [])
        if "page[size]" in params or "page[after]" in params:
            chunk, meta = self._cursor_slice(audits, params)
            return {"audits": chunk, "meta": meta, "links": {"next": None, "prev": None}}
        return {
            "audits": audits[:100],
            "count": len(audits),
            "next_page": None,
            "previous_page": None,
        }

    def _memberships_page(self, params: dict[str, str]) -> dict[str, Any]:
        chunk, meta = self._cursor_slice(self.state.memberships, params)
        out: dict[str, Any] = {"group_memberships": chunk, "meta": meta}
        wanted = set(params.get("include", "").split(","))
        if "users" in wanted:
            uids = dict.fromkeys(m["user_id"] for m in chunk)
            out["users"] = [self.state.users[u] for u in uids if u in self.state.users]
        if "groups" in wanted:
            gids = dict.fromkeys(m["group_id"] for m in chunk)
            out["groups"] = [self.state.groups[g] for g in gids if g in self.state.groups]
        return out

    def _search_count(self, query: str) -> int:
        """Counts for ``type:ticket assignee:ID status<solved`` (the only query served)."""
        terms = dict(t.split(":", 1) for t in query.split() if ":" in t)
        if terms.get("type") != "ticket" or not terms.get("assignee", "").isdigit():
            raise Reply(400, {"error": "InvalidSearch", "description": "query not supported"})
        assignee = int(terms["assignee"])
        if "status<solved" in query and assignee in self.open_counts:
            return self.open_counts[assignee]
        unsolved = {"new", "open", "pending", "hold"}
        return self.unseen_open.get(assignee, 0) + sum(
            1
            for t in self.state.tickets.values()
            if t.get("assignee_id") == assignee
            and (t["status"] in unsolved if "status<solved" in query else True)
        )

    def _sideloads(self, tickets: list[dict[str, Any]], include: str) -> dict[str, Any]:
        wanted = set(include.split(",")) if include else set()
        out: dict[str, Any] = {}
        if "users" in wanted:
            ids = {
                t.get(k) for t in tickets for k in ("requester_id", "assignee_id", "submitter_id")
            }
            out["users"] = [self.state.users[i] for i in ids if i in self.state.users]
        if "organizations" in wanted:
            oids = {t.get("organization_id") for t in tickets} | {
                self.state.users.get(t["requester_id"], {}).get("organization_id")
                for t in tickets
                if isinstance(t.get("requester_id"), int)
            }
            out["organizations"] = [
                self.state.organizations[i] for i in oids if i in self.state.organizations
            ]
        if "groups" in wanted:
            gids = {t.get("group_id") for t in tickets}
            out["groups"] = [self.state.groups[i] for i in gids if i in self.state.groups]
        if "metric_sets" in wanted:
            out["metric_sets"] = [
                self.state.metrics[t["id"]] for t in tickets if t["id"] in self.state.metrics
            ]
        return out

    def _show_many(self, params: dict[str, str]) -> dict[str, Any]:
        ids = [int(i) for i in params.get("ids", "").split(",") if i.isdigit()]
        tickets = [
            self._public(self.state.tickets[i], params.get("include", ""))
            for i in ids
            if i in self.state.tickets and self.state.tickets[i]["status"] != "deleted"
        ]
        return {"tickets": tickets, **self._sideloads(tickets, params.get("include", ""))}

    def _ticket_events(self, params: dict[str, str]) -> dict[str, Any]:
        """The time-based incremental ticket events export: one record per audit since
        ``start_time`` (its ``child_events`` the audit's changes; comments only with
        ``include=comment_events``), up to ``per_page`` (1000) per page, ``next_page`` and
        ``end_of_stream``; the most recent minute is left out."""
        if "start_time" not in params or not params["start_time"].isdigit():
            raise Reply(400, {"error": "InvalidParameter", "description": "start_time missing"})
        start = int(params["start_time"])
        per_page = min(int(params.get("per_page", "1000")), 1000)
        comments = "comment_events" in params.get("include", "").split(",")
        horizon = int(self.clock.wall().timestamp()) - 60
        records = []
        for audits in self.state.audits.values():
            for audit in audits:
                at = int(
                    datetime.fromisoformat(audit["created_at"].replace("Z", "+00:00")).timestamp()
                )
                if start <= at <= horizon:
                    records.append((at, audit))
        records.sort(key=lambda r: (r[0], r[1]["id"]))
        page = records[:per_page]
        out = [
            {
                "id": audit["id"],
                "ticket_id": audit["ticket_id"],
                "timestamp": at,
                "created_at": audit["created_at"],
                "updater_id": audit["author_id"],
                "via": audit["via"]["channel"],
                "event_type": "Audit",
                "child_events": [
                    {**e, "event_type": e["type"]}
                    for e in audit["events"]
                    if comments or e["type"] != "Comment"
                ],
            }
            for at, audit in page
        ]
        end = len(records) <= per_page
        end_time = page[-1][0] if page else start
        if not end and end_time == start:
            end_time += 1  # a page of one second: step on, as Zendesk's docs warn
        return {
            "ticket_events": out,
            "count": len(out),
            "end_time": end_time,
            "end_of_stream": end,
            "next_page": None
            if end
            else f"{self.base_url}/api/v2/incremental/ticket_events.json?start_time={end_time}",
        }

    @staticmethod
    def _cursor(position: tuple[int, int]) -> str:
        return base64.b64encode(f"{position[0]}.0||{position[1]}|".encode()).decode()

    @staticmethod
    def _position(cursor: str) -> tuple[int, int]:
        try:
            stamp, _, tid = base64.b64decode(cursor).decode().partition("||")
            return int(float(stamp)), int(tid.rstrip("|"))
        except (ValueError, UnicodeDecodeError):
            raise Reply(400, {"error": "InvalidCursor", "description": "bad cursor"}) from None

    def _export(self, params: dict[str, str]) -> dict[str, Any]:
        if "cursor" in params:
            position = self._position(params["cursor"])
        elif "start_time" in params:
            start = int(params["start_time"])
            if start > self.clock.wall().timestamp() - 60:
                raise Reply(
                    400,
                    {"error": "InvalidValue", "description": "start_time is too recent"},
                )
            position = (start - 1, 2**62)
        else:
            raise Reply(400, {"error": "InvalidParameter", "description": "start_time missing"})
        per_page = min(int(params.get("per_page", "1000")), 1000)
        scope = params.get("support_type_scope", "agent")
        horizon = int(self.clock.wall().timestamp()) - 60  # the last minute is left out
        eligible = sorted(
            (
                t
                for t in self.state.tickets.values()
                if (t["generated_timestamp"], t["id"]) > position
                and t["generated_timestamp"] <= horizon
                and (scope == "all" or (scope == "ai_agent") == t["_ai_agent"])
                and not (params.get("exclude_deleted") == "true" and t["status"] == "deleted")
            ),
            key=lambda t: (t["generated_timestamp"], t["id"]),
        )
        page = eligible[:per_page]
        end = len(eligible) <= per_page
        if page:
            position = (page[-1]["generated_timestamp"], page[-1]["id"])
        tickets = [self._public(t, params.get("include", "")) for t in page]
        if self.export_duplicates and tickets:
            tickets.append(dict(tickets[0]))
        cursor = self._cursor(position)
        return {
            "tickets": tickets,
            "after_cursor": cursor,
            "after_url": f"{self.base_url}/api/v2/incremental/tickets/cursor.json?cursor={cursor}",
            "before_cursor": None,
            "before_url": None,
            "end_of_stream": end,
            **self._sideloads(page, params.get("include", "")),
        }
