"""Write-back: plans -> RT requests, one ticket at a time.

Per plan (the kit's change builder splits it; pure):

1. **Read** the ticket (``GET /ticket/{id}``) when tags or the priority change: tags live in
   a multi-value custom field that RT replaces as a whole, so ours are merged into what is
   there now, never into the polled snapshot. A field not applied to the ticket's queue is
   reported (RT silently ignores unknown custom fields).
2. **Fields**: one ``PUT /ticket/{id}`` with the merged values and the priority, only when
   something changes (so a second pass writes nothing).
3. **Note**: every note section (internal notes, draft replies, routing suggestions) in ONE
   internal comment (``POST /ticket/{id}/comment``), each section ending with its marker.
   RT's answer carries no transaction id and a lost answer is never blindly resent: the
   ticket's messages are searched for the markers first. With ``verify`` (after a crash)
   they are searched before writing, too.

Public replies and macros are not written (see the capabilities); agent prompts are private
and never reach a ticket.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
from empathy_firewall.connectors.outcome import Outcome
from empathy_firewall.errors import RateLimitedError, RetryableError, SkipError
from empathy_firewall.models import Priority
from empathy_firewall_rt.client import RtClient
from empathy_firewall_rt.parse import custom_field_values
from empathy_firewall_rt.poll import read_ticket

__all__ = ["apply_plans", "dry_answer", "merge_tags", "ticket_change"]


def ticket_change(plan: Plan) -> TicketChange:
    """The kit's change for RT: no macros, no public replies (see the capabilities). Pure."""
    return build_change(plan, vendor="RT")


def _comment(api: str, tid: str, sections: Sequence[str]) -> HttpRequest:
    body = {"Content": "\n\n----\n\n".join(sections), "ContentType": "text/plain"}
    url = f"{api}/ticket/{tid}/comment"
    return HttpRequest("POST", url, json_body=body, purpose="comment", item=tid, idempotent=False)


def _put(api: str, tid: str, update: Mapping[str, Any]) -> HttpRequest:
    url = f"{api}/ticket/{tid}"
    # absolute values (the merged list, the number): sending twice leaves the same ticket
    return HttpRequest(
        "PUT", url, json_body=dict(update), purpose="update_ticket", item=tid, idempotent=True
    )


def dry_answer(request: HttpRequest) -> HttpResponse | None:
    """What RT answers a successful write (its messages); reads go through. Pure."""
    if request.method == "GET":
        return None
    if request.method == "POST" and request.url.endswith("/comment"):
        return json_response(["Comments added"], status=201)
    return json_response([f"Ticket {request.item}: updated"])


def present_markers(client: RtClient, tid: str) -> frozenset[str]:
    """The markers in a ticket's messages (its attachments' text)."""
    found: set[str] = set()
    fields = (("fields", "Content"),)
    for item in client.items(f"/ticket/{tid}/attachments", fields, purpose="markers"):
        content = item.get("Content")
        if isinstance(content, str) and "[empathy-firewall:" in content:
            found |= markers_in(content)
    return frozenset(found)


def _write_fields(
    client: RtClient,
    change: TicketChange,
    tags_field: str,
    levels: Mapping[Priority, int],
    out: Outcome,
) -> None:
    tid = change.ticket_id
    record = read_ticket(client, tid)
    update: dict[str, Any] = {}
    keys = list(change.field_keys)
    if change.tag_keys:
        current = custom_field_values(record, tags_field)
        if current is None:
            reason = f"custom field {tags_field!r} is not applied to this ticket's queue"
            out.skip(change.tag_keys, reason)
            keys = [k for k in keys if k not in change.tag_keys]
        elif (merged := merge_tags(current, change.add_tags, change.remove_tags)) != tuple(current):
            update["CustomFields"] = {tags_field: list(merged)}
    level = levels[change.priority] if change.priority is not None else None
    if level is not None and str(record.get("Priority")) != str(level):
        update["Priority"] = level
    if update:
        client.send(_put(client.base_url, tid, update))
    out.applied += keys


def _apply_one(
    client: RtClient,
    change: TicketChange,
    tags_field: str,
    levels: Mapping[Priority, int],
    out: Outcome,
    *,
    verify: bool,
) -> None:
    tid, notes = change.ticket_id, change.notes
    if verify and notes:
        present = present_markers(client, tid)
        out.already += [k for k, _ in notes if k in present]
        notes = tuple((k, s) for k, s in notes if k not in present)
    if change.field_keys:
        _write_fields(client, change, tags_field, levels, out)
    if notes:
        keys = [k for k, _ in notes]
        try:
            client.send(_comment(client.base_url, tid, [s for _, s in notes]))
        except RateLimitedError:
            raise
        except RetryableError:  # written before the answer was lost? look before resending
            if not set(keys) <= present_markers(client, tid):
                raise
        out.applied += keys


def apply_plans(
    client: RtClient,
    plans: Sequence[Plan],
    *,
    verify: bool,
    tags_field: str,
    levels: Mapping[Priority, int],
) -> tuple[ApplyResult, ...]:
    """One :class:`ApplyResult` per plan, in order (see the module docstring).

    A missing ticket (404) or a refused write skips the plan's remaining actions with the
    reason; 429s beyond the retry bounds and RT being down stop the run.
    """
    results = []
    for plan in plans:
        change = ticket_change(plan)
        out = Outcome(skipped=list(change.unsupported))
        try:
            _apply_one(client, change, tags_field, levels, out, verify=verify)
        except SkipError as exc:
            out.skip([p.key for p in plan.actions], str(exc))
        results.append(out.result(plan.ticket))
    return tuple(results)
