"""Write-back: plans -> Freshdesk requests, one ticket at a time, plus priority bulk jobs.

Per ticket, in this order:

1. **Read** the ticket when tags must be merged (``GET /api/v2/tickets/{id}``, with
   ``include=conversations`` when ``verify`` asks for the marker pre-check: one call for
   both; more than nine conversations are listed in full).
2. **Fields**: merge our tags into the tags just read and ``PUT`` the full list (with the
   priority) only if something changed. Tags someone else added are never dropped: every
   write starts from a fresh read, never from the polled snapshot.
3. **Note**: all note sections (notes, draft replies, routing suggestions, canned
   responses) in ONE private note, each with its marker. A note whose answer was lost
   (read timeout, 5xx) is never blindly resent: conversations are re-read first.
4. **Public reply** (opt-in plans only): sent after its marker tag ``efr_<key>`` was merged,
   so a crash or a lost answer can never send it twice.

Then the **re-check**: once every ticket is written, the tickets changed since the first
write are listed (``GET /api/v2/tickets?updated_since=...``, 100 per call) and every tag
write is confirmed against the list. If another integration overwrote a list meanwhile
(its stale read, replaced), we merge again into what is there now and write again, a
bounded number of times, re-checking that ticket alone. Tickets the list does not show
(or shows without tags) are read one by one. The tag keys count as applied only then.

Priority-only changes on several tickets go in one ``bulk_update`` job per priority, polled
on ``/api/v2/jobs/{id}``; a completed job is verified by reading the tickets back (a job
reports completed even when it skipped a ticket). 429s beyond the retry bounds stop the
run (it resumes from the bookmark); a 404/400/405 skips that ticket with the reason.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from empathy_firewall.actions import Plan
from empathy_firewall.connectors.base import (
    ApplyResult,
    HttpRequest,
    HttpResponse,
    markers_in,
)
from empathy_firewall.connectors.change import TicketChange, merge_tags
from empathy_firewall.connectors.change import ticket_change as build_change
from empathy_firewall.connectors.dry import json_response
from empathy_firewall.connectors.http import TransportError
from empathy_firewall.connectors.notes import REPLY_TAG_PREFIX, reply_tag
from empathy_firewall.connectors.outcome import Outcome
from empathy_firewall.errors import (
    AuthenticationError,
    RateLimitedError,
    RetryableError,
    SkipError,
)
from empathy_firewall_freshdesk.client import LIST_PATH, FreshdeskClient
from empathy_firewall_freshdesk.markup import canned_section, mark, note_html, reply_html
from empathy_firewall_freshdesk.parse import PRIORITY_CODES, next_link
from empathy_firewall_freshdesk.poll import iso, list_conversations, server_now

__all__ = [
    "apply_plans",
    "bulk_groups",
    "bulk_priority_request",
    "dry_answer",
    "fill_placeholders",
    "present_keys",
    "ticket_change",
]

_EMBEDDED_CONVERSATIONS = 10  # include=conversations returns at most ten
_RUNNING = ("PROGRESS", "QUEUED", "PENDING", "RUNNING")
_FAILED = ("FAIL", "ERROR")
_PLACEHOLDER = re.compile(r"\{\{\s*ticket\.(id|subject|url)\s*\}\}")


def ticket_change(plan: Plan) -> TicketChange:
    """The kit's change for Freshdesk: canned responses (macros) and public replies are
    written, notes are HTML. Pure."""
    return build_change(plan, vendor="Freshdesk", mark=mark, macros=True, public_replies=True)


def _code(change: TicketChange) -> int | None:
    """Freshdesk's numeric priority (1 low .. 4 urgent) for the change, if any."""
    return PRIORITY_CODES[change.priority] if change.priority is not None else None


def _needs_tags(change: TicketChange) -> bool:
    """True when the tag list must be read and merged (the reply's marker tag, too)."""
    return bool(change.add_tags or change.remove_tags or change.public_reply)


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
        if (code := _code(change)) is not None and not _needs_tags(change):
            groups.setdefault(code, {})[change.ticket_id] = None
    return {p: list(ids) for p, ids in groups.items() if len(ids) >= min_tickets}


def dry_answer(request: HttpRequest) -> HttpResponse | None:
    """What Freshdesk answers a successful write, and the status of a bulk job the dry
    run made up; other reads go through. Pure."""
    body = request.json_body if isinstance(request.json_body, Mapping) else {}
    if request.method == "GET":
        done = request.path.endswith(f"/jobs/{_DRY_JOB}")
        return json_response({"id": _DRY_JOB, "status": "completed"}) if done else None
    if request.path.endswith("/bulk_update"):
        return json_response({"job_id": _DRY_JOB}, status=202)
    if request.method == "POST":  # a note or a reply: the created conversation
        return json_response({"id": 0, "ticket_id": request.item, **body}, status=201)
    return json_response({"id": request.item, **body})


_DRY_JOB = "dry-run"


def present_keys(
    conversations: Sequence[Mapping[str, Any]], tags: Sequence[object]
) -> frozenset[str]:
    """Keys already on a ticket: note markers in conversations, ``efr_`` reply tags. Pure."""
    found: set[str] = set()
    for conversation in conversations:
        for name in ("body_text", "body"):
            text = conversation.get(name)
            if isinstance(text, str):
                found |= markers_in(text)
    for tag in tags:
        if isinstance(tag, str) and tag.startswith(REPLY_TAG_PREFIX):
            found.add(tag[len(REPLY_TAG_PREFIX) :])
    return frozenset(found)


def fill_placeholders(content: str, ticket_id: str, subject: str | None, url: str) -> str:
    """Fill the ticket placeholders we know (id, subject, url) in a canned response. Pure.

    Others (``{{ticket.agent.name}}``...) stay for Freshdesk to fill when an agent inserts
    the response from the editor.
    """

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "id":
            return ticket_id
        if name == "url":
            return url
        # the subject is the customer's words: escaped, since the content is HTML
        return html.escape(subject) if subject is not None else match.group(0)

    return _PLACEHOLDER.sub(value, content)


@dataclass(frozen=True, slots=True)
class _Pending:
    """A tag write waiting for the batch re-check."""

    index: int
    change: TicketChange
    extra: tuple[str, ...]


def _holds(ticket: Mapping[str, Any], adds: Sequence[str], removes: Sequence[str]) -> bool:
    tags = {t for t in ticket.get("tags") or [] if isinstance(t, str)}
    return set(adds) <= tags and not tags & set(removes)


class _Applier:
    def __init__(self, client: FreshdeskClient) -> None:
        self.client = client
        self.config = client.config
        self.first_write: datetime | None = None
        self._canned_by_id: dict[str, Mapping[str, Any]] = {}
        self._canned_by_title: dict[str, Mapping[str, Any]] | None = None

    # -- reads -------------------------------------------------------------------------

    def read_ticket(
        self, tid: str, *, conversations: bool
    ) -> tuple[Mapping[str, Any], list[Mapping[str, Any]] | None]:
        params = {"include": "conversations"} if conversations else None
        data = self.client.request(
            "GET", f"/api/v2/tickets/{tid}", params=params, purpose="read_ticket", item=tid
        )
        if not isinstance(data, Mapping):
            raise SkipError(f"Freshdesk ticket {tid}: unreadable response", item=tid)
        if not conversations:
            return data, None
        embedded = data.get("conversations")
        listed = (
            [c for c in embedded if isinstance(c, Mapping)] if isinstance(embedded, list) else []
        )
        if len(listed) >= _EMBEDDED_CONVERSATIONS:
            listed = list_conversations(self.client, tid)
        return data, listed

    # -- fields ------------------------------------------------------------------------

    def write_fields(
        self,
        change: TicketChange,
        ticket: Mapping[str, Any] | None,
        extra_tags: Sequence[str],
        *,
        pending: list[_Pending] | None = None,
        index: int = -1,
        attempts: int | None = None,
    ) -> str | None:
        """Merge tags and set the priority; None on success, else why it gave up.

        With ``pending``, a tag write is not re-checked here: it is queued for the batch
        re-check after all tickets were written (one list call per 100 tickets instead of
        one read per ticket).
        """
        tid = change.ticket_id
        adds = (*change.add_tags, *extra_tags)
        if ticket is None:  # priority only: nothing to merge, no read needed
            self._put(tid, {"priority": _code(change)})
            return None
        current = ticket
        for _ in range(attempts or self.config.tag_attempts):
            tags = [t for t in current.get("tags") or [] if isinstance(t, str)]
            merged = merge_tags(tags, adds, change.remove_tags)
            update: dict[str, Any] = {}
            if list(merged) != tags:
                update["tags"] = list(merged)
            if change.priority is not None and current.get("priority") != _code(change):
                update["priority"] = _code(change)
            if not update:
                return None
            self._put(tid, update)
            if "tags" not in update or not self.config.recheck_tags:
                return None
            if pending is not None:
                pending.append(_Pending(index, change, tuple(extra_tags)))
                return None
            current, _ = self.read_ticket(tid, conversations=False)  # the re-check
            if _holds(current, adds, change.remove_tags):
                return None
        return (
            f"the tags of ticket {tid} kept being overwritten by another integration; "
            f"gave up after {self.config.tag_attempts} merges"
        )

    def _put(self, tid: str, update: Mapping[str, Any]) -> None:
        _, headers = self.client.call(
            "PUT",
            f"/api/v2/tickets/{tid}",
            body=dict(update),
            purpose="update_ticket",
            item=tid,
            idempotent=True,
        )
        if self.first_write is None:
            self.first_write = server_now(headers, self.client.clock.wall())

    def recheck(self, pending: Sequence[_Pending]) -> dict[str, Mapping[str, Any]]:
        """Tickets written since the first write, by id, read back from the ticket list.

        The list is ordered by ``updated_at``; our own writes are done, so pages do not
        shift under us (another agent's change may: tickets not found here are read one
        by one by the caller).
        """
        if self.first_write is None:
            return {}
        return self.read_back({p.change.ticket_id for p in pending}, self.first_write)

    def read_back(self, wanted: set[str], first_write: datetime) -> dict[str, Mapping[str, Any]]:
        """The ``wanted`` tickets changed since ``first_write``, from the ticket list."""
        found: dict[str, Mapping[str, Any]] = {}
        if not wanted:
            return found
        since = first_write - timedelta(seconds=self.config.settle_seconds)
        for page in range(1, self.config.max_pages + 1):
            params = {
                "updated_since": iso(since),
                "order_by": "updated_at",
                "order_type": "asc",
                "per_page": "100",
                "page": str(page),
            }
            try:
                body, headers = self.client.call(
                    "GET", LIST_PATH, params=params, purpose="recheck_tags"
                )
            except RateLimitedError:
                raise
            except (RetryableError, SkipError):
                break  # the caller reads the rest one by one
            records = body if isinstance(body, list) else []
            for record in records:
                if isinstance(record, Mapping) and isinstance(record.get("tags"), list):
                    tid = str(record.get("id"))
                    if tid in wanted:
                        found[tid] = record
            if len(found) == len(wanted) or (next_link(headers) is None and len(records) < 100):
                break
        return found

    # -- canned responses --------------------------------------------------------------

    def canned(self, ref: str) -> Mapping[str, Any] | None:
        """A canned response by id or (case-insensitive) title; None when not found."""
        ref = ref.strip()
        if ref.isdigit():
            if ref not in self._canned_by_id:
                try:
                    data = self.client.request(
                        "GET", f"/api/v2/canned_responses/{ref}", purpose="canned_response"
                    )
                except SkipError:
                    return None
                if not isinstance(data, Mapping):
                    return None
                self._canned_by_id[ref] = data
            return self._canned_by_id[ref]
        if self._canned_by_title is None:
            self._canned_by_title = {}
            folders = self.client.request(
                "GET", "/api/v2/canned_response_folders", purpose="canned_folders"
            )
            for folder in folders if isinstance(folders, list) else []:
                if not isinstance(folder, Mapping) or folder.get("id") is None:
                    continue
                responses = self.client.request(
                    "GET",
                    f"/api/v2/canned_response_folders/{folder['id']}/responses",
                    purpose="canned_responses",
                )
                for response in responses if isinstance(responses, list) else []:
                    title = response.get("title") if isinstance(response, Mapping) else None
                    if isinstance(title, str):
                        self._canned_by_title.setdefault(title.strip().lower(), response)
        return self._canned_by_title.get(ref.lower())

    def canned_sections(
        self,
        change: TicketChange,
        ticket: Mapping[str, Any] | None,
        outcome: Outcome,
    ) -> list[tuple[str, str]]:
        sections: list[tuple[str, str]] = []
        subject = ticket.get("subject") if ticket is not None else None
        url = f"{self.client.base_url}/a/tickets/{change.ticket_id}"
        for ref, planned in change.macros:
            try:
                record = self.canned(ref)
            except AuthenticationError:
                outcome.skip(
                    [planned.key],
                    "canned responses are readable with an admin's API key only",
                )
                continue
            if record is None:
                outcome.skip([planned.key], f"canned response {ref!r} not found")
                continue
            content = record.get("content_html") or record.get("content") or ""
            title = record.get("title") if isinstance(record.get("title"), str) else ref
            filled = fill_placeholders(
                str(content),
                change.ticket_id,
                subject if isinstance(subject, str) else None,
                url,
            )
            sections.append(
                (
                    planned.key,
                    canned_section(
                        str(title),
                        filled,
                        planned,
                        as_draft=self.config.canned_responses_as == "draft",
                    ),
                )
            )
        return sections

    # -- conversations -----------------------------------------------------------------

    def post_note(self, tid: str, sections: Sequence[tuple[str, str]], outcome: Outcome) -> None:
        """Post the one private note; after a lost answer or a 5xx, look before writing
        again, pause with backoff, and after ``max_attempts`` skip this ticket's keys with
        the reason (the run goes on with the next ticket)."""
        keys = [k for k, _ in sections]
        body = {"body": note_html([s for _, s in sections]), "private": True}
        attempts = max(2, self.config.max_attempts)
        pause = 1.0
        for attempt in range(attempts):
            try:
                self.client.request(
                    "POST",
                    f"/api/v2/tickets/{tid}/notes",
                    body=body,
                    purpose="private_note",
                    item=tid,
                    idempotent=False,
                )
            except RateLimitedError:
                raise
            except RetryableError as exc:
                # It may have been written: look before writing again.
                try:
                    present = present_keys(list_conversations(self.client, tid), ())
                except (RetryableError, SkipError):
                    if isinstance(exc, RateLimitedError):
                        raise
                    present = frozenset()
                if all(k in present for k in keys):
                    outcome.applied.extend(keys)
                    return
                if attempt == attempts - 1:
                    outcome.skip(
                        keys, f"private note failed {attempts} times ({exc}); next run retries"
                    )
                    return
                self.client.clock.sleep(pause)
                pause = min(pause * 2, 30.0)
                continue
            outcome.applied.extend(keys)
            return

    def post_reply(self, tid: str, key: str, text: str, outcome: Outcome) -> None:
        try:
            self.client.request(
                "POST",
                f"/api/v2/tickets/{tid}/reply",
                body={"body": reply_html(text)},
                purpose="public_reply",
                item=tid,
                idempotent=False,
            )
        except (TransportError, RetryableError) as exc:
            if isinstance(exc, RateLimitedError):
                raise
            # The marker tag is on the ticket, so it will never be sent twice; it may not
            # have been sent at all: say so instead of guessing.
            outcome.skip(
                [key],
                "the public reply's answer was lost; it may not have been sent (its marker "
                f"tag {reply_tag(key)} prevents a second send: check the ticket)",
            )
            return
        except SkipError as exc:
            self._unmark_reply(tid, key)
            outcome.skip([key], f"public reply refused: {exc}")
            return
        outcome.applied.append(key)

    def _unmark_reply(self, tid: str, key: str) -> None:
        """Remove the marker tag of a reply Freshdesk refused, so a later run may retry."""
        try:
            ticket, _ = self.read_ticket(tid, conversations=False)
            self.write_fields(
                TicketChange(ticket_id=tid, remove_tags=(reply_tag(key),)), ticket, ()
            )
        except SkipError:
            pass

    # -- bulk --------------------------------------------------------------------------

    def bulk_priority(self, ids: Sequence[str], priority: int) -> dict[str, str | None]:
        """One bulk job; per ticket None when it now holds ``priority``, else why not.

        Freshdesk reports a job completed even when it skipped some tickets, so the
        tickets are read back (one list call per 100) before anything counts as applied.
        """
        request = bulk_priority_request(self.client.base_url, ids, priority)
        try:
            response = self.client.send(request)
        except SkipError as exc:
            return dict.fromkeys(ids, f"bulk_update refused: {exc}")
        submitted = server_now(response.headers, self.client.clock.wall())
        data = response.json_or_none()
        job_id = data.get("job_id") if isinstance(data, Mapping) else None
        if not isinstance(job_id, str) or not job_id:
            return dict.fromkeys(ids, "bulk_update answered without a job id")
        waited = 0.0
        interval = self.config.job_poll_interval_seconds
        while waited < self.config.job_timeout_seconds:
            self.client.clock.sleep(interval)
            waited += interval
            job = self.client.request("GET", f"/api/v2/jobs/{job_id}", purpose="job_status")
            status = str(job.get("status", "")).upper() if isinstance(job, Mapping) else ""
            if any(word in status for word in _FAILED):
                return dict.fromkeys(ids, f"bulk_update job {job_id} {status.lower()}")
            if status and not any(word in status for word in _RUNNING):
                return self._verify_priority(ids, priority, submitted)
            interval = min(interval * 1.5, 10.0)
        return dict.fromkeys(
            ids, f"bulk_update job {job_id} still running at timeout; verify next run"
        )

    def _verify_priority(
        self, ids: Sequence[str], priority: int, since: datetime
    ) -> dict[str, str | None]:
        """Read back the tickets a completed bulk job touched."""
        found = self.read_back(set(ids), since)
        out: dict[str, str | None] = {}
        for tid in ids:
            current = found.get(tid)
            if current is None:
                try:
                    current, _ = self.read_ticket(tid, conversations=False)
                except SkipError as exc:
                    out[tid] = f"bulk job completed but the priority is not set: {exc}"
                    continue
            held = current.get("priority") == priority
            out[tid] = None if held else "bulk job completed but the priority is not set"
        return out


def _apply_one(
    applier: _Applier,
    change: TicketChange,
    outcome: Outcome,
    *,
    verify: bool,
    bulked: bool,
    pending: list[_Pending],
    index: int,
) -> None:
    tid = change.ticket_id
    ticket: Mapping[str, Any] | None = None
    if _needs_tags(change) or (verify and change.marker_keys):
        if _needs_tags(change):
            ticket, conversations = applier.read_ticket(tid, conversations=verify)
            tags = ticket.get("tags") or []
        else:
            conversations, tags = list_conversations(applier.client, tid), []
        present = present_keys(conversations or [], tags if isinstance(tags, list) else [])
        found = [k for k in change.marker_keys if k in present]
        outcome.already.extend(found)
        change = change.without_keys(found)
    extra: list[str] = []
    if change.public_reply is not None:
        extra.append(reply_tag(change.public_reply[0]))
    writes_fields = _needs_tags(change) or (change.priority is not None and not bulked)
    if writes_fields:
        queued = len(pending)
        reason = applier.write_fields(change, ticket, extra, pending=pending, index=index)
        rechecked_later = len(pending) > queued  # the batch re-check settles these keys
        if reason is not None:
            outcome.skip(change.field_keys, reason)
            if change.public_reply is not None:
                outcome.skip([change.public_reply[0]], "its marker tag could not be written")
                change = change.without_keys([change.public_reply[0]])
        elif not rechecked_later:
            outcome.applied.extend(change.field_keys)
    sections = list(change.notes)
    sections += applier.canned_sections(change, ticket, outcome)
    if sections:
        applier.post_note(tid, sections, outcome)
    if change.public_reply is not None:
        key, text = change.public_reply
        applier.post_reply(tid, key, text, outcome)


def _settle_pending(
    applier: _Applier, pending: Sequence[_Pending], outcomes: Sequence[Outcome]
) -> None:
    """The batch re-check: confirm every queued tag write, merge again where it was lost."""
    found = applier.recheck(pending)
    attempts = max(1, applier.config.tag_attempts - 1)
    for item in pending:
        change, outcome = item.change, outcomes[item.index]
        adds = (*change.add_tags, *item.extra)
        try:
            current = found.get(change.ticket_id)
            if current is None:
                current, _ = applier.read_ticket(change.ticket_id, conversations=False)
            if _holds(current, adds, change.remove_tags):
                reason = None
            else:  # overwritten meanwhile: merge into what is there now
                reason = applier.write_fields(change, current, item.extra, attempts=attempts)
        except SkipError as exc:
            reason = str(exc)
        if reason is None:
            outcome.applied.extend(change.field_keys)
        else:
            outcome.skip(change.field_keys, reason)


def apply_plans(
    client: FreshdeskClient, plans: Sequence[Plan], *, verify: bool
) -> tuple[ApplyResult, ...]:
    """Apply plans; one :class:`ApplyResult` per plan, in order (see the module docstring)."""
    applier = _Applier(client)
    outcomes = [Outcome() for _ in plans]
    changes = [ticket_change(plan) for plan in plans]
    groups = (
        bulk_groups(changes, min_tickets=client.config.bulk_min_tickets)
        if client.config.bulk_priority
        else {}
    )
    bulked = {tid for ids in groups.values() for tid in ids}
    pending: list[_Pending] = []
    for index, (plan, change, outcome) in enumerate(zip(plans, changes, outcomes, strict=True)):
        outcome.skipped.extend(change.unsupported)
        try:
            _apply_one(
                applier,
                change,
                outcome,
                verify=verify,
                bulked=change.ticket_id in bulked,
                pending=pending,
                index=index,
            )
        except SkipError as exc:
            # tag writes already made wait for the re-check, which decides about them
            queued = {k for item in pending if item.index == index for k in item.change.field_keys}
            outcome.skip([p.key for p in plan.actions if p.key not in queued], str(exc))
    _settle_pending(applier, pending, outcomes)
    for priority, ids in groups.items():
        members = [
            (index, change)
            for index, change in enumerate(changes)
            if change.ticket_id in ids and change.priority_key is not None
        ]
        alive = [
            c.ticket_id
            for i, c in members
            if not any(o.key == c.priority_key for o in outcomes[i].skipped)
        ]
        reasons = applier.bulk_priority(list(dict.fromkeys(alive)), priority) if alive else {}
        for index, change in members:
            key = change.priority_key
            assert key is not None
            reason = reasons.get(change.ticket_id)
            if reason is None:
                if not any(o.key == key for o in outcomes[index].skipped):
                    outcomes[index].applied.append(key)
            else:
                outcomes[index].skip([key], reason)
    return tuple(o.result(plan.ticket) for plan, o in zip(plans, outcomes, strict=True))
