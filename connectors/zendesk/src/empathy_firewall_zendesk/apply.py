"""Write-back: plans -> bulk jobs, job polling, per-ticket outcomes, macros.

Round one sends every ticket's tags, priority and private note as one item of
``update_many`` (100 items per job, at most ``max_inflight_jobs`` jobs queued at once) and
polls all pending jobs with one ``job_statuses/show_many`` call per poll. Failed items are
reported per ticket; those failing for a reason that may pass are retried once in a new job.
Round two sends public replies the same way. Macros are applied one by one: read the ticket,
preview the macro for it, then ``PUT`` the previewed changes with ``safe_update`` and
``updated_stamp``; on 409 read, preview and try again (bounded).

A submission that may have reached Zendesk but gave no answer (a read timeout, a 5xx) is
never blindly resent: the tickets are re-read and only actions whose marker is absent are
sent again.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from empathy_firewall.actions import Plan
from empathy_firewall.connectors.base import (
    ActionOutcome,
    ApplyResult,
    HttpRequest,
    HttpResponse,
    markers_in,
    note_marker,
)
from empathy_firewall.connectors.change import TicketChange
from empathy_firewall.connectors.change import ticket_change as build_change
from empathy_firewall.connectors.dry import json_response
from empathy_firewall.connectors.http import Clock, ConflictError, TransportError
from empathy_firewall.connectors.notes import REPLY_TAG_PREFIX, reply_tag
from empathy_firewall.connectors.outcome import Outcome
from empathy_firewall.errors import RateLimitedError, RetryableError, SkipError
from empathy_firewall_zendesk.client import ZendeskClient
from empathy_firewall_zendesk.parse import JobStatus, parse_job_status
from empathy_firewall_zendesk.poll import list_comments


def _mark(text: str, marker: str) -> str:
    return f"{text}\n{marker}"


def ticket_change(plan: Plan) -> TicketChange:
    """The kit's change for Zendesk: macros and public replies are written. Pure."""
    return build_change(plan, vendor="Zendesk", mark=_mark, macros=True, public_replies=True)


def batch_keys(change: TicketChange) -> tuple[str, ...]:
    """Keys written by the round-one batch item (fields, then the note)."""
    return change.field_keys + change.note_keys


_SEPARATOR = "\n\n---\n\n"


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
        item["priority"] = change.priority.value
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


def dry_answer(request: HttpRequest) -> HttpResponse | None:
    """What Zendesk answers a successful write; reads go through. Pure.

    ``update_many`` answers with a job that has already completed, every item updated, so
    apply settles it without polling.
    """
    if request.method == "GET":
        return None
    body = request.json_body if isinstance(request.json_body, Mapping) else {}
    if request.path.endswith("/update_many.json"):
        results = [
            {
                "id": item.get("id"),
                "index": n,
                "action": "update",
                "status": "Updated",
                "success": True,
            }
            for n, item in enumerate(body.get("tickets") or [])
        ]
        return json_response(
            {"job_status": {"id": "dry-run", "status": "completed", "results": results}}
        )
    return json_response({"ticket": {"id": request.item, **(body.get("ticket") or {})}})


__all__ = [
    "MACRO_WRITABLE",
    "TicketUpdateBudget",
    "apply_plans",
    "batch_item",
    "dry_answer",
    "macro_update",
    "public_item",
    "ticket_change",
    "update_many_requests",
]

#: ticket fields a previewed macro may set (read-only fields from the preview are dropped)
MACRO_WRITABLE = (
    "status",
    "priority",
    "type",
    "group_id",
    "assignee_id",
    "custom_status_id",
    "custom_fields",
    "due_at",
    "subject",
    "tags",
)
_PERMANENT = ("RecordNotFound", "not found", "RecordInvalid", "closed", "PermissionDenied")


class TicketUpdateBudget:
    """Zendesk allows 30 updates per ticket per 10 minutes; stay under it ourselves."""

    def __init__(self, limit: int, window: float, clock: Clock) -> None:
        self._limit = limit
        self._window = window
        self._clock = clock
        self._sent: dict[str, deque[float]] = {}

    def take(self, ticket_id: str, count: int) -> bool:
        """Reserve ``count`` updates for a ticket; False (nothing reserved) if over budget."""
        now = self._clock.now()
        times = self._sent.setdefault(ticket_id, deque())
        while times and now - times[0] >= self._window:
            times.popleft()
        if len(times) + count > self._limit:
            return False
        times.extend([now] * count)
        return True


@dataclass(frozen=True, slots=True)
class _Entry:
    index: int  # which plan
    ticket_id: str
    item: Mapping[str, Any]
    keys: tuple[str, ...]


def macro_update(
    preview: Mapping[str, Any],
    current: Mapping[str, Any],
    *,
    key: str,
    macro_id: str,
    public_comment: bool,
) -> dict[str, Any]:
    """The conflict-safe ticket update that applies a previewed macro. Pure.

    Only writable fields that differ from ``current`` are sent; ``tags`` is sent whole, which
    is safe here because ``safe_update`` + ``updated_stamp`` make Zendesk refuse (409) if the
    ticket changed since ``current`` was read. The macro's comment is private unless
    ``public_comment``; a private one ends with the action's marker.
    """
    update: dict[str, Any] = {}
    for name in MACRO_WRITABLE:
        if name in preview and preview[name] != current.get(name):
            update[name] = preview[name]
    comment = preview.get("comment")
    if isinstance(comment, Mapping):
        body = comment.get("body") or comment.get("html_body")
        if isinstance(body, str) and body.strip():
            public = public_comment and comment.get("public") is not False
            text = body if public else f"{body}\n\n{note_marker(key)}"
            update["comment"] = {"body": text, "public": public}
    update["macro_id"] = int(macro_id) if macro_id.isdigit() else macro_id
    update["safe_update"] = True
    stamp = current.get("updated_at")
    if isinstance(stamp, str):
        update["updated_stamp"] = stamp
    return update


class _Applier:
    def __init__(self, client: ZendeskClient, budget: TicketUpdateBudget) -> None:
        self.client = client
        self.config = client.config
        self.budget = budget
        self.macro_ids: dict[str, str] | None = None

    # -- verification ------------------------------------------------------------------

    def present_markers(self, ticket_id: str) -> frozenset[str]:
        """Keys whose markers the ticket already holds (note text and reply tags)."""
        found: set[str] = set()
        for comment in list_comments(self.client, ticket_id):
            for name in ("body", "plain_body", "html_body"):
                text = comment.get(name)
                if isinstance(text, str):
                    found |= markers_in(text)
        body = self.client.request(
            "GET", f"/api/v2/tickets/{ticket_id}/tags.json", purpose="tags", item=ticket_id
        )
        tags = body.get("tags") if isinstance(body, Mapping) else None
        for tag in tags if isinstance(tags, list) else ():
            if isinstance(tag, str) and tag.startswith(REPLY_TAG_PREFIX):
                found.add(tag)
        return frozenset(found)

    def drop_present(self, change: TicketChange, outcome: Outcome) -> TicketChange:
        present = self.present_markers(change.ticket_id)
        keys = [k for k in change.note_keys if k in present]
        keys += [k for k in change.macro_keys if k in present]
        if change.public_reply is not None and reply_tag(change.public_reply[0]) in present:
            keys.append(change.public_reply[0])
        outcome.already.extend(keys)
        return change.without_keys(keys)

    # -- bulk jobs ---------------------------------------------------------------------

    def run_bulk(self, entries: list[_Entry], outcomes: list[Outcome], *, retry: bool) -> None:
        """Send entries in update_many jobs; record per-ticket outcomes."""
        # One ticket at most once per job: later duplicates wait for a following batch.
        rounds: list[list[_Entry]] = []
        ids_in: list[set[str]] = []  # the ticket ids of each round, for O(1) membership
        for entry in entries:
            for batch, ids in zip(rounds, ids_in, strict=True):
                if entry.ticket_id not in ids:
                    batch.append(entry)
                    ids.add(entry.ticket_id)
                    break
            else:
                rounds.append([entry])
                ids_in.append({entry.ticket_id})
        failed: list[_Entry] = []
        for batch in rounds:
            failed.extend(self._run_jobs(batch, outcomes))
        if failed and retry:
            self.run_bulk(failed, outcomes, retry=False)
        elif failed:
            for entry in failed:
                outcomes[entry.index].skip(entry.keys, "bulk update failed twice")

    def _run_jobs(self, entries: list[_Entry], outcomes: list[Outcome]) -> list[_Entry]:
        size = self.config.bulk_size
        chunks = [entries[i : i + size] for i in range(0, len(entries), size)]
        pending: dict[str, list[_Entry]] = {}
        retry_later: list[_Entry] = []
        for chunk in chunks:
            while len(pending) >= self.config.max_inflight_jobs:
                retry_later.extend(self._poll_jobs(pending, outcomes, until_any=True))
            request = update_many_requests(
                self.client.base_url, [e.item for e in chunk], size=size
            )[0]
            job = self._submit(request, chunk, outcomes)
            if job is not None and job.finished:  # answered done at once: nothing to poll
                retry_later.extend(self._settle(job, chunk, outcomes))
            elif job is not None:
                pending[job.id] = chunk
        while pending:
            retry_later.extend(self._poll_jobs(pending, outcomes, until_any=False))
        return retry_later

    def _submit(
        self, request: HttpRequest, chunk: list[_Entry], outcomes: list[Outcome]
    ) -> JobStatus | None:
        """Submit one bulk job; its status, or None when nothing (more) needs sending."""
        for attempt in range(2):
            try:
                response = self.client.send(request)
            except RateLimitedError:
                raise  # beyond the retry bounds: stop the run, resume later from the bookmark
            except RetryableError as exc:
                uncertain = isinstance(exc, TransportError) or not request.is_idempotent
                if not uncertain or attempt == 1:
                    raise
                # It may have been queued: Zendesk runs bulk jobs asynchronously, so wait
                # until no job is queued or working, then re-read and send what is missing.
                if not self._await_settled_jobs():
                    for entry in chunk:
                        outcomes[entry.index].skip(
                            entry.keys, "bulk answer lost and a job still running; next run"
                        )
                    return None
                again = self._resend_missing(chunk, outcomes)
                if again is None:
                    return None
                request = again
                continue
            except SkipError as exc:
                for entry in chunk:
                    outcomes[entry.index].skip(entry.keys, str(exc))
                return None
            return parse_job_status(response.json())
        return None  # pragma: no cover - the loop always returns or raises

    def _await_settled_jobs(self) -> bool:
        """Poll the account's recent jobs until none is queued or working (bounded by
        ``job_timeout_seconds``); False if one still runs at the bound.

        A submission whose answer was lost may still sit in Zendesk's queue: its notes are
        not on the tickets yet, so a re-read right away would send them a second time.
        """
        waited = 0.0
        interval = self.config.job_poll_interval_seconds
        while True:
            try:
                body = self.client.request(
                    "GET",
                    "/api/v2/job_statuses.json",
                    params={"page[size]": "100"},
                    purpose="job_status",
                )
            except SkipError:
                return True  # the list is not readable: fall back to the re-read
            statuses = body.get("job_statuses") if isinstance(body, Mapping) else None
            jobs = (
                [parse_job_status(raw) for raw in statuses if isinstance(raw, Mapping)]
                if (isinstance(statuses, list))
                else []
            )
            if not any(not job.finished for job in jobs):
                return True
            if waited >= self.config.job_timeout_seconds:
                return False
            self.client.clock.sleep(interval)
            waited += interval
            interval = min(interval * 1.5, 10.0)

    def _resend_missing(self, chunk: list[_Entry], outcomes: list[Outcome]) -> HttpRequest | None:
        """After an unanswered submission: keep only entries whose update is not there."""
        for entry in list(chunk):
            if "comment" not in entry.item:
                continue  # tags and priority are safe to send twice
            try:
                present = self.present_markers(entry.ticket_id)
            except SkipError as exc:  # the ticket went away meanwhile
                outcomes[entry.index].skip(entry.keys, str(exc))
                chunk.remove(entry)
                continue
            if any(k in present for k in entry.keys) or reply_tag_in(entry, present):
                outcomes[entry.index].already.extend(entry.keys)
                chunk.remove(entry)
        if not chunk:
            return None
        return update_many_requests(self.client.base_url, [e.item for e in chunk])[0]

    def _poll_jobs(
        self, pending: dict[str, list[_Entry]], outcomes: list[Outcome], *, until_any: bool
    ) -> list[_Entry]:
        retry_later: list[_Entry] = []
        waited = 0.0
        interval = self.config.job_poll_interval_seconds
        while pending:
            self.client.clock.sleep(interval)
            waited += interval
            body = self.client.request(
                "GET",
                "/api/v2/job_statuses/show_many.json",
                params={"ids": ",".join(pending)},
                purpose="job_status",
            )
            statuses = body.get("job_statuses") if isinstance(body, Mapping) else None
            finished_any = False
            for raw in statuses if isinstance(statuses, list) else ():
                job = parse_job_status(raw)
                if job.finished and job.id in pending:
                    retry_later.extend(self._settle(job, pending.pop(job.id), outcomes))
                    finished_any = True
            if until_any and finished_any:
                break
            if waited >= self.config.job_timeout_seconds:
                for chunk in pending.values():
                    for entry in chunk:
                        outcomes[entry.index].skip(
                            entry.keys, "bulk job still running at timeout; verify next run"
                        )
                pending.clear()
            interval = min(interval * 1.5, 10.0)
        return retry_later

    def _settle(self, job: JobStatus, chunk: list[_Entry], outcomes: list[Outcome]) -> list[_Entry]:
        by_id = {item.id: item for item in job.items if item.id is not None}
        by_index = {item.index: item for item in job.items if item.index is not None}
        retry_later: list[_Entry] = []
        for position, entry in enumerate(chunk):
            result = by_id.get(entry.ticket_id) or by_index.get(position)
            if job.status == "failed" and result is None:
                retry_later.append(entry)
            elif result is None or result.success:
                outcomes[entry.index].applied.extend(entry.keys)
            elif any(word in (result.error or "") for word in _PERMANENT):
                outcomes[entry.index].skip(entry.keys, f"Zendesk refused: {result.error}")
            else:
                retry_later.append(entry)
        return retry_later

    # -- macros ------------------------------------------------------------------------

    def macro_id(self, ref: str) -> str | None:
        if ref.isdigit():
            return ref
        if self.macro_ids is None:
            self.macro_ids = {}
            url: str | None = "/api/v2/macros/active.json"
            params: dict[str, str] | None = {"page[size]": "100"}
            for _ in range(20):
                if url is None:
                    break
                body = self.client.request("GET", url, params=params, purpose="macros")
                params = None
                for macro in body.get("macros", []) if isinstance(body, Mapping) else []:
                    if isinstance(macro, Mapping) and isinstance(macro.get("title"), str):
                        self.macro_ids.setdefault(macro["title"].strip().lower(), str(macro["id"]))
                nxt = body.get("next_page") if isinstance(body, Mapping) else None
                links = body.get("links") if isinstance(body, Mapping) else None
                if isinstance(links, Mapping) and isinstance(body.get("meta"), Mapping):
                    nxt = links.get("next") if body["meta"].get("has_more") else None
                url = nxt if isinstance(nxt, str) else None
        return self.macro_ids.get(ref.strip().lower())

    def apply_macro(self, ticket_id: str, ref: str, key: str) -> str | None:
        """Apply one macro; None on success, else the reason it was skipped."""
        mid = self.macro_id(ref)
        if mid is None:
            return f"macro {ref!r} not found among active macros"
        for _ in range(self.config.conflict_attempts):
            current_body = self.client.request(
                "GET", f"/api/v2/tickets/{ticket_id}.json", purpose="ticket", item=ticket_id
            )
            preview_body = self.client.request(
                "GET",
                f"/api/v2/tickets/{ticket_id}/macros/{mid}/apply.json",
                purpose="macro_preview",
                item=ticket_id,
            )
            current = current_body.get("ticket") if isinstance(current_body, Mapping) else None
            result = preview_body.get("result") if isinstance(preview_body, Mapping) else None
            preview = result.get("ticket") if isinstance(result, Mapping) else None
            if not isinstance(current, Mapping) or not isinstance(preview, Mapping):
                return "macro preview returned no ticket"
            update = macro_update(
                preview,
                current,
                key=key,
                macro_id=mid,
                public_comment=self.config.macro_comments_public,
            )
            try:
                self.client.request(
                    "PUT",
                    f"/api/v2/tickets/{ticket_id}.json",
                    body={"ticket": update},
                    purpose="macro_apply",
                    item=ticket_id,
                    idempotent=False,
                )
            except ConflictError:
                continue  # changed under us: read again and re-apply
            return None
        return f"ticket kept changing; gave up after {self.config.conflict_attempts} tries"


def reply_tag_in(entry: _Entry, present: frozenset[str]) -> bool:
    """True when the entry's public-reply marker tag is already on the ticket."""
    tags = entry.item.get("additional_tags")
    comment = entry.item.get("comment")
    public = isinstance(comment, Mapping) and comment.get("public") is True
    return public and isinstance(tags, list) and any(t in present for t in tags)


def apply_plans(
    client: ZendeskClient,
    plans: Sequence[Plan],
    *,
    verify: bool,
    budget: TicketUpdateBudget,
) -> tuple[ApplyResult, ...]:
    """Apply plans; one :class:`ApplyResult` per plan, in order (see the module docstring)."""
    applier = _Applier(client, budget)
    outcomes = [Outcome() for _ in plans]
    changes: list[TicketChange] = []
    for index, plan in enumerate(plans):
        change = ticket_change(plan)
        outcomes[index].skipped.extend(change.unsupported)
        if verify and (change.note_keys or change.public_reply or change.macros):
            try:
                change = applier.drop_present(change, outcomes[index])
            except SkipError as exc:
                keys = [p.key for p in plan.actions if p.key not in outcomes[index].already]
                outcomes[index].skip(keys, str(exc))
                change = TicketChange(ticket_id=change.ticket_id)
        item, reply = batch_item(change), public_item(change)
        updates = (item is not None) + (reply is not None) + len(change.macros)
        if updates and not budget.take(change.ticket_id, updates):
            keys = [*batch_keys(change), *change.macro_keys]
            if change.public_reply is not None:
                keys.append(change.public_reply[0])
            outcomes[index].skip(keys, "Zendesk per-ticket update limit reached; next run")
            change = TicketChange(ticket_id=change.ticket_id)
        changes.append(change)

    first = [
        _Entry(i, c.ticket_id, item, batch_keys(c))
        for i, c in enumerate(changes)
        if (item := batch_item(c)) is not None
    ]
    applier.run_bulk(first, outcomes, retry=True)
    second = [
        _Entry(i, c.ticket_id, item, (c.public_reply[0],))
        for i, c in enumerate(changes)
        if c.public_reply is not None and (item := public_item(c)) is not None
    ]
    applier.run_bulk(second, outcomes, retry=True)
    for index, change in enumerate(changes):
        for ref, planned in change.macros:
            key = planned.key
            try:
                reason = applier.apply_macro(change.ticket_id, ref, key)
            except SkipError as exc:
                reason = str(exc)
            if reason is None:
                outcomes[index].applied.append(key)
            else:
                outcomes[index].skipped.append(ActionOutcome(key, reason))
    return tuple(o.result(plan.ticket) for plan, o in zip(plans, outcomes, strict=True))
