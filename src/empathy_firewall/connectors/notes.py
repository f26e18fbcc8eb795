"""What every connector writes the same way into a helpdesk: note sections and why they exist.

Pure string building, shared so a ticket says the same thing whichever helpdesk it lives in:

* :func:`note_text` turns a note-like action (an internal note, a draft reply, a routing
  suggestion) into the text of one note section, ending with the why line (an internal
  note already ends with it: the engine writes it when merging notes); the connector adds
  the idempotency marker (:func:`~empathy_firewall.connectors.base.note_marker`) in its own
  markup;
* :func:`why_line`: "Why: rule (pack). To switch this off, ...";
* public replies carry no marker text, so a marker *tag* ``efr_<key>`` (:func:`reply_tag`)
  records them; :func:`replied_keys` reads those tags back;
* the outcomes of actions no helpdesk write can carry (a second public reply in one run,
  an agent prompt).
"""

from __future__ import annotations

from collections.abc import Iterable

from empathy_firewall.actions import DraftReply, InternalNote, PlannedAction, RoutingSuggestion
from empathy_firewall.connectors.base import ActionOutcome

__all__ = [
    "DRAFT_HEADING",
    "REPLY_TAG_PREFIX",
    "ROUTING_HEADING",
    "agent_prompt_outcome",
    "note_text",
    "replied_keys",
    "reply_tag",
    "second_reply_outcome",
    "why_line",
]

DRAFT_HEADING = (
    "Suggested reply (draft for the agent: NOT sent to the customer; review, edit and send "
    "it yourself if it helps)"
)
ROUTING_HEADING = "Routing suggestion (nothing was reassigned)"
#: prefix of the tag that marks a public reply as sent (``efr_<key>``)
REPLY_TAG_PREFIX = "efr_"


def reply_tag(key: str) -> str:
    """The marker tag recorded with a public reply (public replies carry no marker text)."""
    return f"{REPLY_TAG_PREFIX}{key}"


def replied_keys(tags: Iterable[str]) -> frozenset[str]:
    """The action keys of the public replies whose marker tags are among ``tags``."""
    return frozenset(
        tag[len(REPLY_TAG_PREFIX) :] for tag in tags if tag.startswith(REPLY_TAG_PREFIX)
    )


def why_line(planned: PlannedAction) -> str:
    """Which rules made the action happen, and how to switch the first one off."""
    rules = ", ".join(f"{m.rule_id} ({m.pack})" for m in planned.because)
    return f"Why: {rules}. To switch this off, {planned.because[0].disable_hint}."


def note_text(planned: PlannedAction) -> str | None:
    """The text of the note section for ``planned`` (no marker), or None when the action
    is not written as a note section."""
    action = planned.action
    if isinstance(action, InternalNote):
        # the engine already ends every merged note with why each rule acted
        return action.body
    if isinstance(action, DraftReply):
        text = f"{DRAFT_HEADING}:\n\n{action.body}"
    elif isinstance(action, RoutingSuggestion):
        lines = [f"{ROUTING_HEADING}: {action.reason}"]
        if action.prefer_group:
            lines.append(f"Prefer group: {action.prefer_group}")
        # Agent ids are not written: the reason names the teammates suggested, and whom to
        # spare (and why) is for that agent alone, never for every colleague to read.
        text = "\n".join(lines)
    else:
        return None
    return f"{text}\n\n{why_line(planned)}"


def second_reply_outcome(key: str) -> ActionOutcome:
    """The outcome of a public reply planned after another one for the same ticket."""
    return ActionOutcome(key, "only one public reply per ticket per run")


def agent_prompt_outcome(key: str, vendor: str) -> ActionOutcome:
    """The outcome of an agent prompt: private to one agent, never written to the ticket."""
    return ActionOutcome(
        key,
        f"agent prompts are private: {vendor} has no channel only that agent sees, "
        "so it is not written to the ticket",
    )
