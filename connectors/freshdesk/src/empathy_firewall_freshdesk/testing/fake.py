"""A stateful fake Freshdesk (API v2) for tests, benchmarks and the conformance suite.

It holds tickets (with ``stats`` timestamps and SLA fields), conversations, contacts and
companies (with ``custom_fields``), agents (with ``group_ids``), groups, canned responses
and bulk-update jobs, and speaks the REST shapes the Freshdesk connector uses:

* ``GET /api/v2/tickets`` with ``updated_since``, ``order_by``/``order_type``, ``per_page``
  (at most 100), ``page`` (capped at ``page_cap``, 300 by default, with Freshdesk's
  ``invalid_value`` error beyond it), ``include=stats,requester,description`` and a
  ``Link: <...>; rel="next"`` header; without ``updated_since`` only tickets created in the
  last 30 days are listed, and spam or deleted tickets never are;
* ``GET|PUT /api/v2/tickets/{id}`` (``tags`` on update **replace** the list, as the API
  does), ``include=conversations`` (up to ten), ``/conversations``, ``/notes``, ``/reply``;
* ``POST /api/v2/tickets/bulk_update`` + ``GET /api/v2/jobs/{id}``;
* ``/agents``, ``/agents/me``, ``/groups``, ``/canned_response_folders[/{id}/responses]``,
  ``/canned_responses/{id}``, ``/contacts/{id}``, ``/companies/{id}``, and
  ``/search/tickets?query="agent_id:N AND (status:2 OR status:3)"`` (``total`` only
  counts; the ``include=requester`` sideload carries just email, id, mobile, name, phone).

Rate limits are credits per rolling minute, account-wide, with the "Tickets List"
sub-limit on ``GET /api/v2/tickets``; includes cost extra credits (2 per include on the
list, 1 on a single ticket). Every response carries ``X-Ratelimit-Total``,
``X-Ratelimit-Remaining`` and ``X-Ratelimit-Used-Currentrequest``; going over answers 429
with ``Retry-After``. Faults (429, 500, timeouts before or after processing) and
concurrent edits by "another agent" can be injected. ``violations`` records requests that
arrived before a ``Retry-After`` expired; ``over_budget`` counts 429s caused by the budget.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode

from empathy_firewall.connectors.base import Headers, markers_in
from empathy_firewall.testing.clock import FakeClock
from empathy_firewall.testing.fake_helpdesk import FakeHelpdesk, Reply, iso
from empathy_firewall.webhooks.request import WebhookRequest
from empathy_firewall_freshdesk.webhook import DEFAULT_SECRET_HEADER

__all__ = ["DEFAULT_SECRET_HEADER", "FakeFreshdesk"]
_NOT_FOUND = b" "  # Freshdesk's 404 may have an empty or whitespace body
_LIST_PATH = "/api/v2/tickets"


def _parse(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def _invalid(*errors: tuple[str, str], code: str = "invalid_value") -> Reply:
    """Freshdesk's 400 "Validation failed" answer listing ``(field, message)`` errors."""
    listed = [{"field": f, "message": m, "code": code} for f, m in errors]
    return Reply(400, {"description": "Validation failed", "errors": listed})


@dataclass
class _Job:
    id: str
    created: float
    ids: list[int]


@dataclass
class _State:
    tickets: dict[int, dict[str, Any]] = field(default_factory=dict)
    conversations: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    contacts: dict[int, dict[str, Any]] = field(default_factory=dict)
    companies: dict[int, dict[str, Any]] = field(default_factory=dict)
    agents: dict[int, dict[str, Any]] = field(default_factory=dict)
    groups: dict[int, dict[str, Any]] = field(default_factory=dict)
    folders: dict[int, dict[str, Any]] = field(default_factory=dict)
    canned: dict[int, dict[str, Any]] = field(default_factory=dict)
    jobs: dict[str, _Job] = field(default_factory=dict)


class FakeFreshdesk(FakeHelpdesk):
    """An in-memory Freshdesk account; see the module docstring."""

    RATE_LIMITED_BODY = '{"message":"Call limit reached for this minute"}'
    ERROR_BODY = '{"code":"internal_error","message":"We are facing some issues"}'
    SETTLE_SECONDS = 5.0

    def __init__(
        self,
        *,
        base_url: str = "https://fake.freshdesk.test",
        clock: FakeClock | None = None,
        api_key: str = "fake-freshdesk-key",
        webhook_secret: str = "fake-webhook-secret",  # noqa: S107 - a test double's value
        secret_header: str = DEFAULT_SECRET_HEADER,
        requests_per_minute: int = 400,
        list_per_minute: int | None = 100,
        page_cap: int = 300,
        job_seconds: float = 1.0,
        list_include_cost: int = 2,
    ) -> None:
        super().__init__(base_url=base_url, clock=clock)
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.secret_header = secret_header
        self.requests_per_minute = requests_per_minute
        self.list_per_minute = list_per_minute
        self.page_cap = page_cap
        self.job_seconds = job_seconds
        self.list_include_cost = list_include_cost
        self.state = _State()
        self.over_budget = 0
        self.credits_spent = 0
        self._after_write: dict[int, deque[Sequence[str]]] = {}
        self._account: deque[tuple[float, int]] = deque()
        self._lists: deque[float] = deque()
        self._ids = itertools.count(1001)
        self._conversation_ids = itertools.count(70_001)
        self._job_ids = itertools.count(1)
        self.admin_id = self.add_agent(name="Admin", email="admin@example.com")

    # -- configuration helpers --------------------------------------------------------

    @property
    def env(self) -> dict[str, str]:
        """Environment variables a connector needs to talk to this fake."""
        return {"FRESHDESK_API_KEY": self.api_key, "FRESHDESK_WEBHOOK_SECRET": self.webhook_secret}

    def webhook(
        self, body: bytes | Mapping[str, Any], *, secret: str | None = None
    ) -> WebhookRequest:
        """A webhook as the documented automation rule sends it (secret in the header)."""
        raw = body if isinstance(body, bytes) else json.dumps(dict(body)).encode()
        headers = Headers(
            {
                "Content-Type": "application/json",
                self.secret_header: self.webhook_secret if secret is None else secret,
            }
        )
        return WebhookRequest("POST", "/webhooks/freshdesk", headers, raw, self.clock.wall())

    def webhook_body(self, ticket_id: str) -> bytes:
        """The documented automation rule's JSON body about ``ticket_id``."""
        return json.dumps(
            {"empathy_firewall": 1, "event": "ticket.updated", "ticket_id": ticket_id}
        ).encode()

    def forge(self, request: WebhookRequest) -> WebhookRequest:
        """``request`` with a wrong shared secret (the body itself is covered by nothing)."""
        return self.webhook(request.body, secret="not-the-secret")  # noqa: S106

    # -- seeding -----------------------------------------------------------------------

    def add_contact(
        self,
        *,
        name: str,
        email: str | None = None,
        language: str = "en",
        company_id: int | None = None,
        custom_fields: Mapping[str, Any] | None = None,
    ) -> int:
        """Add a customer contact (``custom_fields`` keyed by field name, no ``cf_``)."""
        cid = next(self._ids)
        now = iso(self.clock.wall())
        self.state.contacts[cid] = {
            "id": cid,
            "name": name,
            "email": email or f"contact{cid}@example.com",
            "mobile": None,
            "phone": None,
            "active": True,
            "address": None,
            "company_id": company_id,
            "description": None,
            "job_title": None,
            "language": language,
            "time_zone": "Eastern Time (US & Canada)",
            "tags": [],
            "other_emails": [],
            "custom_fields": dict(custom_fields or {}),
            "created_at": now,
            "updated_at": now,
        }
        return cid

    def add_company(
        self,
        name: str,
        *,
        custom_fields: Mapping[str, Any] | None = None,
        account_tier: str | None = None,
    ) -> int:
        """Add a company (``custom_fields`` keyed by field name, no ``cf_``)."""
        cid = next(self._ids)
        now = iso(self.clock.wall())
        self.state.companies[cid] = {
            "id": cid,
            "name": name,
            "description": None,
            "note": None,
            "domains": [],
            "health_score": None,
            "account_tier": account_tier,
            "renewal_date": None,
            "industry": None,
            "custom_fields": dict(custom_fields or {}),
            "created_at": now,
            "updated_at": now,
        }
        return cid

    def add_agent(
        self, *, name: str, email: str | None = None, group_ids: Sequence[int] = ()
    ) -> int:
        """Add an agent (in ``group_ids``); returns its id."""
        aid = next(self._ids)
        self.state.agents[aid] = {
            "id": aid,
            "available": True,
            "occasional": False,
            "signature": None,
            "ticket_scope": 1,
            "group_ids": list(dict.fromkeys(group_ids)),
            "role_ids": [1],
            "skill_ids": [],
            "type": "support_agent",
            "created_at": iso(self.clock.wall()),
            "updated_at": iso(self.clock.wall()),
            "available_since": None,
            "contact": {
                "active": True,
                "email": email or f"agent{aid}@example.com",
                "job_title": None,
                "language": "en",
                "last_login_at": None,
                "mobile": None,
                "name": name,
                "phone": None,
                "time_zone": "Eastern Time (US & Canada)",
                "created_at": iso(self.clock.wall()),
                "updated_at": iso(self.clock.wall()),
            },
        }
        return aid

    def add_group(self, name: str) -> int:
        """Add a group; returns its id."""
        gid = next(self._ids)
        self.state.groups[gid] = {"id": gid, "name": name, "description": None}
        return gid

    def add_canned_response(self, title: str, content_html: str, *, folder: str = "General") -> int:
        """Add a canned response (in a folder named ``folder``); returns its id."""
        folder_id = next(
            (f["id"] for f in self.state.folders.values() if f["name"] == folder), None
        )
        if folder_id is None:
            folder_id = next(self._ids)
            self.state.folders[folder_id] = {"id": folder_id, "name": folder}
        rid = next(self._ids)
        text = re.sub(r"<[^>]+>", "", content_html)
        self.state.canned[rid] = {
            "id": rid,
            "title": title,
            "folder_id": folder_id,
            "content": text,
            "content_html": content_html,
            "attachments": [],
            "created_at": iso(self.clock.wall()),
            "updated_at": iso(self.clock.wall()),
        }
        return rid

    def add_ticket(
        self,
        *,
        subject: str = "Help",
        body: str = "Something is wrong.",
        requester_id: int | None = None,
        status: int = 2,
        priority: int = 1,
        source: int = 1,
        tags: Sequence[str] = (),
        responder_id: int | None = None,
        group_id: int | None = None,
        age_seconds: float = 0.0,
        fr_due_minutes: float = 60.0,
        due_minutes: float = 24 * 60.0,
        nr_due_minutes: float | None = None,
        spam: bool = False,
    ) -> int:
        """Add a ticket whose first message (the description) is ``body``; returns its id.

        ``nr_due_minutes``: the next-response target of the newer SLA engine; each
        customer message that starts a new wait after the first response sets
        ``nr_due_by`` to its time plus this (None: the classic engine, no ``nr_due_by``).
        """
        tid = next(self._ids)
        requester = requester_id or self.add_contact(name=f"Customer {tid}")
        when = self.clock.wall() - timedelta(seconds=age_seconds)
        self.state.tickets[tid] = {
            "id": tid,
            "subject": subject,
            "description": f"<div>{body}</div>",
            "description_text": body,
            "status": status,
            "priority": priority,
            "source": source,
            "type": None,
            "requester_id": requester,
            "responder_id": responder_id,
            "group_id": group_id,
            "company_id": self.state.contacts.get(requester, {}).get("company_id"),
            "product_id": None,
            "email_config_id": None,
            "tags": list(dict.fromkeys(tags)),
            "custom_fields": {},
            "cc_emails": [],
            "fwd_emails": [],
            "reply_cc_emails": [],
            "to_emails": None,
            "spam": spam,
            "is_escalated": False,
            "fr_escalated": False,
            "due_by": iso(when + timedelta(minutes=due_minutes)),
            "fr_due_by": iso(when + timedelta(minutes=fr_due_minutes)),
            "created_at": iso(when),
            "updated_at": iso(when),
            "attachments": [],
            "_deleted": False,
            "_nr_due_minutes": nr_due_minutes,
            "_awaiting_reply": True,
            "_stats": {
                "agent_responded_at": None,
                "requester_responded_at": None,
                "first_responded_at": None,
                "status_updated_at": iso(when),
                "reopened_at": None,
                "resolved_at": None,
                "closed_at": None,
                "pending_since": None,
            },
        }
        self.state.conversations[tid] = []
        return tid

    def add_conversation(
        self,
        ticket_id: int,
        body: str,
        *,
        user_id: int,
        incoming: bool = False,
        private: bool = False,
        source: int | None = None,
    ) -> int:
        """Add a reply or note as if written now; returns the conversation id."""
        conv = self._add_conversation(
            ticket_id,
            body,
            user_id=user_id,
            incoming=incoming,
            private=private,
            source=(2 if private else 0) if source is None else source,
        )
        record = self.state.tickets[ticket_id]
        stats = record["_stats"]
        now = iso(self.clock.wall())
        if not private and user_id in self.state.agents:
            stats["agent_responded_at"] = now
            stats["first_responded_at"] = stats["first_responded_at"] or now
            record["_awaiting_reply"] = False
        elif not private:
            stats["requester_responded_at"] = now
            minutes = record.get("_nr_due_minutes")
            if not record["_awaiting_reply"] and minutes and stats["first_responded_at"]:
                # a new wait after the first response: the newer SLA engine's next response
                # due (kept after the reply: whether Freshdesk clears it is unverified)
                record["nr_due_by"] = iso(self.clock.wall() + timedelta(minutes=minutes))
            record["_awaiting_reply"] = True
        self._touch(ticket_id)
        return int(conv["id"])

    def delete_ticket(self, ticket_id: int) -> None:
        """Delete a ticket (it disappears from lists; reads answer 404)."""
        self.state.tickets[ticket_id]["_deleted"] = True
        self._touch(ticket_id)

    def add_tag_externally(self, ticket_id: int, tag: str) -> None:
        """Another agent adds a tag through the UI (merged, as the UI does)."""
        ticket = self.state.tickets[ticket_id]
        ticket["tags"] = list(dict.fromkeys([*ticket["tags"], tag]))
        self._touch(ticket_id)

    def clobber_after_next_write(self, ticket_id: int, tags: Sequence[str]) -> None:
        """Right after our next ``PUT`` of this ticket, another integration writes ``tags``
        as the whole list (its stale read plus its own tag): our tags vanish."""
        self._after_write.setdefault(ticket_id, deque()).append(tuple(tags))

    # -- observations ------------------------------------------------------------------

    def ticket(self, ticket_id: int) -> dict[str, Any]:
        """The stored ticket JSON (with private ``_`` keys)."""
        return self.state.tickets[ticket_id]

    def tags(self, ticket_id: int) -> list[str]:
        """The ticket's tags."""
        return list(self.state.tickets[ticket_id]["tags"])

    def conversations(self, ticket_id: int) -> list[dict[str, Any]]:
        """The ticket's conversations, oldest first."""
        return list(self.state.conversations[ticket_id])

    def notes(self, ticket_id: int) -> list[str]:
        """Bodies of the ticket's private notes."""
        return [c["body"] for c in self.state.conversations[ticket_id] if c["private"]]

    def replies(self, ticket_id: int) -> list[str]:
        """Bodies of the ticket's public replies sent through the API."""
        return [
            c["body"]
            for c in self.state.conversations[ticket_id]
            if not c["private"] and c["source"] == 0 and not c["incoming"]
        ]

    def marker_count(self, ticket_id: int, key: str) -> int:
        """How many conversations on the ticket carry the marker of ``key``."""
        return sum(
            1 for c in self.state.conversations[ticket_id] if key in markers_in(c["body_text"])
        )

    def snapshot(self) -> dict[int, Any]:
        """Everything a test may compare: tags, priority, status and conversations."""
        return {
            tid: {
                "tags": sorted(t["tags"]),
                "priority": t["priority"],
                "status": t["status"],
                "conversations": [
                    (c["body_text"], c["private"]) for c in self.state.conversations[tid]
                ],
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
        cost = self._charge(method, path, params)
        reply_headers.update(self._rate_headers(cost))
        status, payload, extra = self._route(method, path, params, body)
        reply_headers.update(extra)
        return status, payload

    def _authenticate(self, headers: Headers) -> None:
        expected = "Basic " + base64.b64encode(f"{self.api_key}:X".encode()).decode()
        if headers.get("Authorization") != expected:
            raise Reply(
                401,
                {
                    "code": "invalid_credentials",
                    "message": "You have to be logged in to perform this action.",
                },
            )

    def _cost(self, method: str, path: str, params: dict[str, str]) -> int:
        includes = [i for i in params.get("include", "").split(",") if i]
        if method == "GET" and path.rstrip("/") == _LIST_PATH:
            return 1 + self.list_include_cost * len(includes)
        return 1 + len(includes)

    def _used(self, now: float) -> int:
        while self._account and now - self._account[0][0] >= 60.0:
            self._account.popleft()
        while self._lists and now - self._lists[0] >= 60.0:
            self._lists.popleft()
        return sum(c for _, c in self._account)

    def _charge(self, method: str, path: str, params: dict[str, str]) -> int:
        now = self.clock.now()
        cost = self._cost(method, path, params)
        used = self._used(now)
        is_list = method == "GET" and path.rstrip("/") == _LIST_PATH
        wait: float | None = None
        if used + cost > self.requests_per_minute:
            freed, index = 0, 0
            while used - freed + cost > self.requests_per_minute and index < len(self._account):
                freed += self._account[index][1]
                index += 1
            wait = self._account[index - 1][0] + 60.0 - now if index else 60.0
        if (
            is_list
            and self.list_per_minute is not None
            and len(self._lists) >= self.list_per_minute
        ):
            list_wait = self._lists[0] + 60.0 - now
            wait = max(wait or 0.0, list_wait)
        if wait is not None:
            seconds = int(wait) + 1
            self.over_budget += 1
            self._block(seconds)
            raise Reply(
                429,
                {"message": "Call limit reached for this minute"},
                {"Retry-After": str(seconds), **self._rate_headers(0)},
            )
        self._account.append((now, cost))
        if is_list:
            self._lists.append(now)
        self.credits_spent += cost
        return cost

    def _rate_headers(self, cost: int) -> dict[str, str]:
        used = self._used(self.clock.now())
        return {
            "X-Ratelimit-Total": str(self.requests_per_minute),
            "X-Ratelimit-Remaining": str(max(0, self.requests_per_minute - used)),
            "X-Ratelimit-Used-Currentrequest": str(cost),
            "X-Freshdesk-Api-Version": "latest=v2; requested=v2",
            "Date": format_datetime(self.clock.wall(), usegmt=True),
        }

    def _route(
        self, method: str, path: str, params: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        parts = path.strip("/").split("/")
        if parts[:2] != ["api", "v2"]:
            raise Reply(404, _NOT_FOUND)
        rest = parts[2:]
        if rest == ["agents", "me"] and method == "GET":
            return 200, self.state.agents[self.admin_id], {}
        if rest == ["agents"] and method == "GET":
            return self._paged(list(self.state.agents.values()), path, params)
        if len(rest) == 2 and rest[0] in ("contacts", "companies") and method == "GET":
            store = self.state.contacts if rest[0] == "contacts" else self.state.companies
            record = store.get(int(rest[1])) if rest[1].isdigit() else None
            if record is None:
                raise Reply(404, _NOT_FOUND)
            return 200, record, {}
        if rest == ["search", "tickets"] and method == "GET":
            return 200, self._search_tickets(params.get("query", "")), {}
        if rest == ["groups"] and method == "GET":
            return self._paged(list(self.state.groups.values()), path, params)
        if rest == ["tickets"] and method == "GET":
            return self._list_tickets(path, params)
        if rest == ["tickets", "bulk_update"] and method == "POST":
            return 202, self._bulk_update(body), {}
        if len(rest) == 2 and rest[0] == "jobs" and method == "GET":
            job = self.state.jobs.get(rest[1])
            if job is None:
                raise Reply(404, _NOT_FOUND)
            done = self.clock.now() - job.created >= self.job_seconds
            return 200, {"id": job.id, "status": "COMPLETED" if done else "IN PROGRESS"}, {}
        if rest == ["canned_response_folders"] and method == "GET":
            folders = [
                {
                    **f,
                    "responses_count": sum(
                        1 for c in self.state.canned.values() if c["folder_id"] == f["id"]
                    ),
                }
                for f in self.state.folders.values()
            ]
            return 200, folders, {}
        if (
            len(rest) == 3
            and rest[0] == "canned_response_folders"
            and rest[2] == "responses"
            and method == "GET"
        ):
            fid = int(rest[1]) if rest[1].isdigit() else -1
            if fid not in self.state.folders:
                raise Reply(404, _NOT_FOUND)
            found = [c for c in self.state.canned.values() if c["folder_id"] == fid]
            return 200, found, {}
        if len(rest) == 2 and rest[0] == "canned_responses" and method == "GET":
            canned = self.state.canned.get(int(rest[1])) if rest[1].isdigit() else None
            if canned is None:
                raise Reply(404, _NOT_FOUND)
            return 200, canned, {}
        if len(rest) >= 2 and rest[0] == "tickets" and rest[1].isdigit():
            return self._ticket_route(method, int(rest[1]), rest[2:], path, params, body)
        raise Reply(404, _NOT_FOUND)

    def _paged(
        self, items: list[dict[str, Any]], path: str, params: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        per_page = self._per_page(params, default=30)
        page = self._page(params)
        chunk = items[(page - 1) * per_page : page * per_page]
        headers: dict[str, str] = {}
        if page * per_page < len(items):
            nxt = {**params, "page": str(page + 1), "per_page": str(per_page)}
            headers["Link"] = f'<{self.base_url}{path}?{urlencode(nxt)}>; rel="next"'
        return 200, chunk, headers

    @staticmethod
    def _per_page(params: dict[str, str], *, default: int) -> int:
        raw = params.get("per_page", str(default))
        if not raw.isdigit() or not 1 <= int(raw) <= 100:
            raise _invalid(
                ("per_page", "It should be a Positive Integer less than or equal to 100")
            )
        return int(raw)

    @staticmethod
    def _page(params: dict[str, str]) -> int:
        raw = params.get("page", "1")
        return int(raw) if raw.isdigit() and int(raw) >= 1 else 1

    def _live(self, tid: int) -> dict[str, Any]:
        ticket = self.state.tickets.get(tid)
        if ticket is None or ticket["_deleted"]:
            raise Reply(404, _NOT_FOUND)
        return ticket

    def _public(self, ticket: Mapping[str, Any], includes: set[str]) -> dict[str, Any]:
        out = {k: v for k, v in ticket.items() if not k.startswith("_")}
        out["tags"] = list(ticket["tags"])
        if "stats" in includes:
            out["stats"] = dict(ticket["_stats"])
        if "requester" in includes:
            # the documented include: email, id, mobile, name, phone (no custom fields)
            contact = self.state.contacts.get(ticket["requester_id"]) or {}
            out["requester"] = {
                k: contact.get(k) for k in ("email", "id", "mobile", "name", "phone")
            }
        return out

    def _search_tickets(self, query: str) -> dict[str, Any]:
        """``/search/tickets``: only ``"agent_id:N AND (status:2 OR status:3)"``-style
        queries (an agent and some statuses) are understood; results hold the first 30."""
        text = query.strip()
        if len(text) < 2 or not (text.startswith('"') and text.endswith('"')):
            raise _invalid(("query", "Query should be wrapped in double quotes"))
        agent = re.search(r"agent_id:(\d+)", text)
        statuses = {int(s) for s in re.findall(r"status:(\d+)", text)}
        found = [
            t
            for t in self.state.tickets.values()
            if not t["_deleted"]
            and (agent is None or t["responder_id"] == int(agent.group(1)))
            and (not statuses or t["status"] in statuses)
        ]
        extra = self.unseen_open.get(int(agent.group(1)), 0) if agent and statuses else 0
        total = len(found) + extra
        if agent and statuses and int(agent.group(1)) in self.open_counts:
            total = self.open_counts[int(agent.group(1))]
        return {
            "total": total,
            "results": [self._public(t, set()) for t in found[:30]],
        }

    def _list_tickets(self, path: str, params: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        per_page = self._per_page(params, default=30)
        page = self._page(params)
        if page > self.page_cap:
            raise _invalid(
                (
                    "page",
                    f"You cannot access tickets beyond the {self.page_cap}th page. "
                    "Please provide a smaller page number.",
                )
            )
        includes = {i for i in params.get("include", "").split(",") if i}
        tickets = [t for t in self.state.tickets.values() if not t["spam"] and not t["_deleted"]]
        since_text = params.get("updated_since")
        if since_text:
            since = _parse(since_text)
            if since is None:
                raise _invalid(("updated_since", "It should be in the 'valid date time' format"))
            tickets = [t for t in tickets if _parse(t["updated_at"]) >= since]  # type: ignore[operator]
        else:
            window = self.clock.wall() - timedelta(days=30)
            tickets = [t for t in tickets if _parse(t["created_at"]) >= window]  # type: ignore[operator]
        order = params.get("order_by", "created_at")
        key = order if order in ("created_at", "updated_at", "due_by", "status") else "created_at"
        tickets.sort(key=lambda t: (t[key], t["id"]), reverse=params.get("order_type") != "asc")
        chunk = tickets[(page - 1) * per_page : page * per_page]
        out = []
        for ticket in chunk:
            public = self._public(ticket, includes)
            if "description" not in includes:
                public.pop("description", None)
                public.pop("description_text", None)
            out.append(public)
        headers: dict[str, str] = {}
        if page * per_page < len(tickets):
            nxt = {**params, "page": str(page + 1)}
            headers["Link"] = f'<{self.base_url}{path}?{urlencode(nxt)}>; rel="next"'
        return 200, out, headers

    def _ticket_route(
        self,
        method: str,
        tid: int,
        rest: list[str],
        path: str,
        params: dict[str, str],
        body: Any,
    ) -> tuple[int, Any, dict[str, str]]:
        ticket = self.state.tickets.get(tid)
        if ticket is not None and ticket["_deleted"] and method != "GET":
            raise Reply(
                405,
                {"code": "method_not_allowed", "message": "Ticket is deleted or marked as spam"},
            )
        ticket = self._live(tid)
        includes = {i for i in params.get("include", "").split(",") if i}
        if not rest and method == "GET":
            out = self._public(ticket, includes)
            if "conversations" in includes:
                out["conversations"] = self.state.conversations[tid][:10]
            return 200, out, {}
        if not rest and method == "PUT":
            return 200, self._update(tid, body), {}
        if rest == ["conversations"] and method == "GET":
            return self._paged(self.state.conversations[tid], path, params)
        if rest in (["notes"], ["reply"]) and method == "POST":
            text = body.get("body") if isinstance(body, Mapping) else None
            if not isinstance(text, str) or not text.strip():
                raise _invalid(("body", "Mandatory attribute missing"), code="missing_field")
            note = rest == ["notes"]
            private = body.get("private", True) is not False if note else False
            conv = self._add_conversation(
                tid,
                text,
                user_id=self.admin_id,
                incoming=False,
                private=private,
                source=2 if note else 0,
            )
            if not note:
                stats = ticket["_stats"]
                stats["agent_responded_at"] = conv["created_at"]
                stats["first_responded_at"] = stats["first_responded_at"] or conv["created_at"]
            self._touch(tid)
            return 201, conv, {"Location": f"{self.base_url}/api/v2/conversations/{conv['id']}"}
        raise Reply(404, _NOT_FOUND)

    # -- state changes -----------------------------------------------------------------

    def _add_conversation(
        self, tid: int, body: str, *, user_id: int, incoming: bool, private: bool, source: int
    ) -> dict[str, Any]:
        now = iso(self.clock.wall())
        text = re.sub(r"<br\s*/?>", "\n", body)
        text = re.sub(r"<[^>]+>", "", text)
        conv = {
            "id": next(self._conversation_ids),
            "body": body,
            "body_text": text,
            "incoming": incoming,
            "private": private,
            "source": source,
            "user_id": user_id,
            "support_email": None,
            "ticket_id": tid,
            "to_emails": [],
            "from_email": None,
            "cc_emails": [],
            "bcc_emails": [],
            "attachments": [],
            "created_at": now,
            "updated_at": now,
            "last_edited_at": None,
            "last_edited_user_id": None,
        }
        self.state.conversations[tid].append(conv)
        return conv

    def _touch(self, tid: int) -> None:
        self.state.tickets[tid]["updated_at"] = iso(self.clock.wall())

    def _validate(self, change: Mapping[str, Any]) -> None:
        problems = []
        if "priority" in change and change["priority"] not in (1, 2, 3, 4):
            problems.append(("priority", "It should be one of these values: '1,2,3,4'"))
        if "status" in change and change["status"] not in (2, 3, 4, 5, 6, 7):
            problems.append(("status", "It should be one of these values: '2,3,4,5,6,7'"))
        tags = change.get("tags")
        if "tags" in change and (
            not isinstance(tags, list) or not all(isinstance(t, str) for t in tags)
        ):
            problems.append(("tags", "It should be an Array of String"))
        if problems:
            raise _invalid(*problems)

    def _apply(self, tid: int, change: Mapping[str, Any]) -> None:
        ticket = self.state.tickets[tid]
        for name in ("status", "priority", "type", "group_id", "responder_id", "subject"):
            if name in change:
                ticket[name] = change[name]
        if "tags" in change:
            ticket["tags"] = list(dict.fromkeys(change["tags"]))  # the list is replaced
        self._touch(tid)

    def _update(self, tid: int, body: Any) -> dict[str, Any]:
        if not isinstance(body, Mapping) or not body:
            raise _invalid(("", "Request body is empty"), code="invalid_json")
        self._validate(body)
        self._apply(tid, body)
        result = self._public(self.state.tickets[tid], set())
        clobbers = self._after_write.get(tid)
        if clobbers:
            self._apply(tid, {"tags": list(clobbers.popleft())})
        return result

    def _bulk_update(self, body: Any) -> dict[str, Any]:
        action = body.get("bulk_action") if isinstance(body, Mapping) else None
        ids = action.get("ids") if isinstance(action, Mapping) else None
        properties = action.get("properties") if isinstance(action, Mapping) else None
        if not isinstance(ids, list) or not isinstance(properties, Mapping) or not properties:
            raise _invalid(("bulk_action", "Mandatory"), code="missing_field")
        self._validate(properties)
        done: list[int] = []
        for raw in ids:
            tid = raw if isinstance(raw, int) else -1
            ticket = self.state.tickets.get(tid)
            if ticket is None or ticket["_deleted"]:
                continue  # the job skips tickets it cannot update
            self._apply(tid, properties)
            done.append(tid)
        job_id = f"fakejob{next(self._job_ids):08d}"
        self.state.jobs[job_id] = _Job(job_id, self.clock.now(), done)
        return {"job_id": job_id, "href": f"{self.base_url}/api/v2/jobs/{job_id}"}
