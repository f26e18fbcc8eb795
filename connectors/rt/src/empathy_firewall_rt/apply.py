"""Write-back: plans -> RT requests, one ticket at a time. ``render`` shows the same requests.

Per plan (:func:`ticket_change` splits it; pure):

1. **Read** the ticket (``GET /ticket/{id}``) when tags or the priority change: tags live
   in a multi-value custom field that RT replaces as a whole, so we merge into what is
   there now (never into the polled snapshot); a field not applied to the ticket's queue
   is reported, since RT silently ignores unknown custom fields.
2. **Fields**: one ``PUT /ticket/{id}`` with the merged tag values and the priority, only
   when something changes (a second pass writes nothing).
3. **Note**: every note section (internal notes, draft replies, routing suggestions) in
   ONE internal comment (``POST /ticket/{id}/comment``), each section ending with its
   idempotency marker. RT answers a comment without its transaction id, and a lost answer
   is never blindly resent: the ticket's comments are read first. With ``verify`` (after a
   crash) they are read before writing too.

Public replies and macros are not written (RT's capabilities say so); agent prompts are
private and never reach a ticket.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
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
from empathy_firewall_rt.parse import custom_field_values, ref_id

__all__ = ["RtChange", "apply_plans", "comment_text", "merge_tags", "render", "ticket_change"]


@dataclass(frozen=True, slots=True)
class RtChange:
    """What one plan asks of one RT ticket, split by how it is written."""

    ticket_id: str
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()
    tag_keys: tuple[str, ...] = ()
    priority: int | None = None
    priority_key: str | None = None
    note_keys: tuple[str, ...] = ()
    note_sections: tuple[str, ...] = ()
    unsupported: tuple[ActionOutcome, ...] = ()

    @property
    def field_keys(self) -> tuple[str, ...]:
        """Keys written by the ticket ``PUT``."""
        return self.tag_keys + ((self.priority_key,) if self.priority_key else ())

    @property
    def needs_read(self) -> bool:
        """True when the current values must be read (tag merge, priority comparison)."""
        return bool(self.field_keys)


def ticket_change(plan: Plan, levels: Mapping[Priority, int]) -> RtChange:
    """Split a plan into tag, priority and note parts. Pure.

    Of several priority changes the last one wins (the others are reported); a tag both
    added and removed stays added.
    """
    add: dict[str, None] = {}
    remove: dict[str, None] = {}
    tag_keys: list[str] = []
    sections: list[tuple[str, str]] = []
    priority: int | None = None
    priority_key: str | None = None
    unsupported: list[ActionOutcome] = []
    for planned in plan.actions:
        action = planned.action
        text = note_text(planned)
        if text is not None:
            sections.append((planned.key, f"{text}\n\n{note_marker(planned.key)}"))
        elif isinstance(action, AddTags):
            add.update(dict.fromkeys(t.strip() for t in action.tags))
            tag_keys.append(planned.key)
        elif isinstance(action, RemoveTags):
            remove.update(dict.fromkeys(t.strip() for t in action.tags))
            tag_keys.append(planned.key)
        elif isinstance(action, SetPriority):
            if priority_key is not None:
                unsupported.append(ActionOutcome(priority_key, "a later priority change won"))
            priority, priority_key = levels[action.priority], planned.key
        elif isinstance(action, AgentPrompt):
            unsupported.append(agent_prompt_outcome(planned.key, "RT"))
        else:
            unsupported.append(
                ActionOutcome(planned.key, f"the RT connector does not write {action.kind}")
            )
    return RtChange(
        ticket_id=plan.ticket.external_id,
        add_tags=tuple(add),
        remove_tags=tuple(t for t in remove if t not in add),
        tag_keys=tuple(tag_keys),
        priority=priority,
        priority_key=priority_key,
        note_keys=tuple(k for k, _ in sections),
        note_sections=tuple(s for _, s in sections),
        unsupported=tuple(unsupported),
    )


def merge_tags(current: Sequence[str], add: Sequence[str], remove: Sequence[str]) -> list[str]:
    """``current`` plus ``add`` minus ``remove``, order kept, no duplicates. Pure."""
    dropped = set(remove)
    merged = dict.fromkeys(t for t in current if t not in dropped)
    merged.update(dict.fromkeys(t for t in add if t not in dropped))
    return list(merged)


def comment_text(sections: Sequence[str]) -> str:
    """One internal comment from its sections (each already ends with its marker)."""
    return "\n\n----\n\n".join(sections)


def _url(api: str, tid: str, tail: str = "") -> str:
    return f"{api}/ticket/{tid}{tail}"


def _comment_request(api: str, tid: str, sections: Sequence[str]) -> HttpRequest:
    body = {"Content": comment_text(sections), "ContentType": "text/plain"}
    return HttpRequest(
        "POST",
        _url(api, tid, "/comment"),
        json_body=body,
        purpose="internal_comment",
        item=tid,
        idempotent=False,
    )


def _put_request(api: str, tid: str, update: Mapping[str, Any], purpose: str) -> HttpRequest:
    return HttpRequest(
        "PUT", _url(api, tid), json_body=dict(update), purpose=purpose, item=tid, idempotent=True
    )


def render(api: str, change: RtChange, tags_field: str) -> tuple[HttpRequest, ...]:
    """The requests :func:`apply_plans` sends for ``change``, as far as known before the
    read (the merged tag values are completed from the current ones at apply time). Pure."""
    tid = change.ticket_id
    out: list[HttpRequest] = []
    if change.needs_read:
        out.append(HttpRequest("GET", _url(api, tid), purpose="read_ticket", item=tid))
        update: dict[str, Any] = {}
        if change.tag_keys:
            merge = {"merge_add": list(change.add_tags), "merge_remove": list(change.remove_tags)}
            update["CustomFields"] = {tags_field: merge}
        if change.priority is not None:
            update["Priority"] = change.priority
        out.append(_put_request(api, tid, update, "update_ticket (only if a value changes)"))
    if change.note_sections:
        out.append(_comment_request(api, tid, change.note_sections))
    return tuple(out)


@dataclass
class _Outcome:
    applied: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    skipped: list[ActionOutcome] = field(default_factory=list)


def present_markers(client: RtClient, tid: str) -> frozenset[str]:
    """The markers in a ticket's messages (its attachments' text)."""
    found: set[str] = set()
    for item in client.items(
        f"/ticket/{tid}/attachments", (("fields", "ContentType,Content"),), purpose="markers"
    ):
        content = item.get("Content")
        if isinstance(content, str) and "[empathy-firewall:" in content:
            found |= markers_in(content)
    return frozenset(found)


def _write_fields(client: RtClient, change: RtChange, tags_field: str, outcome: _Outcome) -> None:
    tid = change.ticket_id
    body, _ = client.get(f"/ticket/{tid}", purpose="read_ticket")
    if not isinstance(body, Mapping) or ref_id(body.get("id")) is None:
        raise SkipError(f"RT ticket {tid}: unreadable response", item=tid)
    update: dict[str, Any] = {}
    keys = list(change.field_keys)
    if change.tag_keys:
        current = custom_field_values(body, tags_field)
        if current is None:
            outcome.skipped.extend(
                ActionOutcome(
                    k, f"custom field {tags_field!r} is not applied to this ticket's queue"
                )
                for k in change.tag_keys
            )
            keys = [k for k in keys if k not in change.tag_keys]
        else:
            merged = merge_tags(current, change.add_tags, change.remove_tags)
            if merged != list(current):
                update["CustomFields"] = {tags_field: merged}
    if change.priority is not None and str(body.get("Priority")) != str(change.priority):
        update["Priority"] = change.priority
    if update:
        client.send(_put_request(client.base_url, tid, update, "update_ticket"))
    outcome.applied.extend(keys)


def _post_comment(
    client: RtClient, change: RtChange, sections: Sequence[tuple[str, str]], outcome: _Outcome
) -> None:
    keys = [k for k, _ in sections]
    request = _comment_request(client.base_url, change.ticket_id, [s for _, s in sections])
    try:
        client.send(request)
    except RateLimitedError:
        raise
    except RetryableError:
        # RT may have written it before the answer was lost: look before writing again
        if not set(keys) <= present_markers(client, change.ticket_id):
            raise
    outcome.applied.extend(keys)


def _apply_one(
    client: RtClient, change: RtChange, tags_field: str, outcome: _Outcome, *, verify: bool
) -> None:
    sections = list(zip(change.note_keys, change.note_sections, strict=True))
    if verify and sections:
        present = present_markers(client, change.ticket_id)
        outcome.already.extend(k for k, _ in sections if k in present)
        sections = [(k, s) for k, s in sections if k not in present]
    if change.needs_read:
        _write_fields(client, change, tags_field, outcome)
    if sections:
        _post_comment(client, change, sections, outcome)


def apply_plans(
    client: RtClient,
    plans: Sequence[Plan],
    *,
    verify: bool,
    tags_field: str,
    levels: Mapping[Priority, int],
) -> tuple[ApplyResult, ...]:
    """Apply plans; one :class:`ApplyResult` per plan, in order (see the module docstring).

    A missing ticket (404) or a refused write skips that plan's remaining actions with the
    reason; 429s beyond the retry bounds and RT being down stop the run.
    """
    results: list[ApplyResult] = []
    for plan in plans:
        change = ticket_change(plan, levels)
        outcome = _Outcome(skipped=list(change.unsupported))
        try:
            _apply_one(client, change, tags_field, outcome, verify=verify)
        except SkipError as exc:
            settled = {*outcome.applied, *outcome.already, *(o.key for o in outcome.skipped)}
            outcome.skipped.extend(
                ActionOutcome(p.key, str(exc)) for p in plan.actions if p.key not in settled
            )
        results.append(
            ApplyResult(
                ticket=plan.ticket,
                applied=tuple(dict.fromkeys(outcome.applied)),
                already=tuple(dict.fromkeys(outcome.already)),
                skipped=tuple(outcome.skipped),
            )
        )
    return tuple(results)
