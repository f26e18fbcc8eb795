"""Write-back: plans -> RT requests, one ticket at a time; ``render`` shows the same requests.

Per plan (:func:`ticket_change` splits it; pure):

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

from empathy_firewall.actions import AddTags, AgentPrompt, Plan, RemoveTags, SetPriority
from empathy_firewall.connectors.base import (
    ActionOutcome,
    ApplyResult,
    HttpRequest,
    markers_in,
    note_marker,
)
from empathy_firewall.connectors.notes import agent_prompt_outcome, note_text
from empathy_firewall.errors import RateLimitedError, RetryableError, SkipError
from empathy_firewall.models import Priority
from empathy_firewall_rt.client import RtClient
from empathy_firewall_rt.parse import custom_field_values
from empathy_firewall_rt.poll import read_ticket

__all__ = ["RtChange", "apply_plans", "merge_tags", "render", "ticket_change"]


class RtChange:
    """What one plan asks of one RT ticket, split by how it is written."""

    def __init__(self, plan: Plan, levels: Mapping[Priority, int]) -> None:
        self.ticket_id = plan.ticket.external_id
        add: dict[str, None] = {}
        remove: dict[str, None] = {}
        self.tag_keys: list[str] = []
        self.notes: list[tuple[str, str]] = []  # (key, section ending with its marker)
        self.priority: int | None = None
        self.priority_key: str | None = None
        self.unsupported: list[ActionOutcome] = []
        for planned in plan.actions:
            action, key = planned.action, planned.key
            text = note_text(planned)
            if text is not None:
                self.notes.append((key, f"{text}\n\n{note_marker(key)}"))
            elif isinstance(action, AddTags | RemoveTags):
                target = add if isinstance(action, AddTags) else remove
                target.update(dict.fromkeys(t.strip() for t in action.tags))
                self.tag_keys.append(key)
            elif isinstance(action, SetPriority):
                if self.priority_key is not None:
                    self.unsupported.append(
                        ActionOutcome(self.priority_key, "a later priority change won")
                    )
                self.priority, self.priority_key = levels[action.priority], key
            elif isinstance(action, AgentPrompt):
                self.unsupported.append(agent_prompt_outcome(key, "RT"))
            else:
                reason = f"the RT connector does not write {action.kind}"
                self.unsupported.append(ActionOutcome(key, reason))
        self.add_tags = list(add)
        self.remove_tags = [t for t in remove if t not in add]  # added and removed: added

    @property
    def field_keys(self) -> list[str]:
        """Keys written by the ticket ``PUT`` (tags and priority)."""
        return self.tag_keys + ([self.priority_key] if self.priority_key else [])


def ticket_change(plan: Plan, levels: Mapping[Priority, int]) -> RtChange:
    """Split a plan into tag, priority and note parts (the last priority change wins). Pure."""
    return RtChange(plan, levels)


def merge_tags(current: Sequence[str], add: Sequence[str], remove: Sequence[str]) -> list[str]:
    """``current`` plus ``add`` minus ``remove``, order kept, no duplicates. Pure."""
    dropped = set(remove)
    merged = dict.fromkeys(t for t in current if t not in dropped)
    merged.update(dict.fromkeys(t for t in add if t not in dropped))
    return list(merged)


def _comment(api: str, tid: str, sections: Sequence[str]) -> HttpRequest:
    body = {"Content": "\n\n----\n\n".join(sections), "ContentType": "text/plain"}
    url = f"{api}/ticket/{tid}/comment"
    return HttpRequest("POST", url, json_body=body, purpose="comment", item=tid, idempotent=False)


def _put(api: str, tid: str, update: Mapping[str, Any], purpose: str) -> HttpRequest:
    url = f"{api}/ticket/{tid}"
    # absolute values (the merged list, the number): sending twice leaves the same ticket
    return HttpRequest(
        "PUT", url, json_body=dict(update), purpose=purpose, item=tid, idempotent=True
    )


def render(api: str, change: RtChange, tags_field: str) -> tuple[HttpRequest, ...]:
    """The requests :func:`apply_plans` sends for ``change`` as far as they are known before
    the read (the merged tag values are completed from the current ones). Pure."""
    tid, out = change.ticket_id, []
    if change.field_keys:
        out.append(HttpRequest("GET", f"{api}/ticket/{tid}", purpose="read_ticket", item=tid))
        update: dict[str, Any] = {}
        if change.tag_keys:
            merge = {"merge_add": change.add_tags, "merge_remove": change.remove_tags}
            update["CustomFields"] = {tags_field: merge}
        if change.priority is not None:
            update["Priority"] = change.priority
        out.append(_put(api, tid, update, "update_ticket (only if a value changes)"))
    if change.notes:
        out.append(_comment(api, tid, [s for _, s in change.notes]))
    return tuple(out)


def present_markers(client: RtClient, tid: str) -> frozenset[str]:
    """The markers in a ticket's messages (its attachments' text)."""
    found: set[str] = set()
    fields = (("fields", "Content"),)
    for item in client.items(f"/ticket/{tid}/attachments", fields, purpose="markers"):
        content = item.get("Content")
        if isinstance(content, str) and "[empathy-firewall:" in content:
            found |= markers_in(content)
    return frozenset(found)


class ApplyOutcome:
    """The keys of one plan: applied, found already applied, skipped with a reason."""

    def __init__(self, skipped: Sequence[ActionOutcome]) -> None:
        self.applied: list[str] = []
        self.already: list[str] = []
        self.skipped: list[ActionOutcome] = list(skipped)


def _write_fields(client: RtClient, change: RtChange, tags_field: str, out: ApplyOutcome) -> None:
    tid = change.ticket_id
    record = read_ticket(client, tid)
    update: dict[str, Any] = {}
    keys = change.field_keys
    if change.tag_keys:
        current = custom_field_values(record, tags_field)
        if current is None:
            reason = f"custom field {tags_field!r} is not applied to this ticket's queue"
            out.skipped += [ActionOutcome(k, reason) for k in change.tag_keys]
            keys = [k for k in keys if k not in change.tag_keys]
        elif (merged := merge_tags(current, change.add_tags, change.remove_tags)) != list(current):
            update["CustomFields"] = {tags_field: merged}
    if change.priority is not None and str(record.get("Priority")) != str(change.priority):
        update["Priority"] = change.priority
    if update:
        client.send(_put(client.base_url, tid, update, "update_ticket"))
    out.applied += keys


def _apply_one(
    client: RtClient, change: RtChange, tags_field: str, out: ApplyOutcome, *, verify: bool
) -> None:
    tid, notes = change.ticket_id, change.notes
    if verify and notes:
        present = present_markers(client, tid)
        out.already += [k for k, _ in notes if k in present]
        notes = [(k, s) for k, s in notes if k not in present]
    if change.field_keys:
        _write_fields(client, change, tags_field, out)
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
        change = ticket_change(plan, levels)
        out = ApplyOutcome(change.unsupported)
        try:
            _apply_one(client, change, tags_field, out, verify=verify)
        except SkipError as exc:
            settled = {*out.applied, *out.already, *(o.key for o in out.skipped)}
            out.skipped += [
                ActionOutcome(p.key, str(exc)) for p in plan.actions if p.key not in settled
            ]
        results.append(
            ApplyResult(
                ticket=plan.ticket,
                applied=tuple(dict.fromkeys(out.applied)),
                already=tuple(dict.fromkeys(out.already)),
                skipped=tuple(out.skipped),
            )
        )
    return tuple(results)
