"""Handoffs read from the conversation, for a ticket whose history has not begun yet.

A helpdesk with no history API (Freshdesk) gives the firewall no reassignment on a
ticket's first reads: the snapshot derivation (:mod:`empathy_firewall.signals.derived`)
only sees changes between two syncs. The conversation the connector reads anyway still
shows who answered the customer, and when that changes, the ticket changed hands:

* the **owners** are the authors of the agents' public replies *with substance*
  (:func:`empathy_firewall.engine.narrative.substantive`: a greeting, a sign-off, an
  automatic acknowledgement or a holding line such as "we're looking into it" does not
  make its author an owner), in time order, repeats collapsed;
* each change of owner X -> Y is a handoff from X to Y, and so is a last owner X who is
  not the ticket's current assignee Y (the ticket left X and Y has not answered yet);
* the handoff is dated at X's last comment (public or private) before Y's first reply
  with substance (or before now): the earliest it can have happened, and a moment that
  does not move when the firewall or anyone else touches the ticket later, so the
  handoff is the same on every read.

Comments carrying the firewall's own markers are left out. The events are ``reassigned``
with ``detail`` ``"from the conversation"`` and no groups (a reply does not say which team
its author is in: no group hop is ever inferred).

Once the ticket's history holds a reassignment (the snapshot derivation saw one), only the
conversation before it is read, and the owner it ends with is that reassignment's
``from_assignee``: the history covers the time after, the conversation the time before.

Limits: an owner who never wrote a reply with substance
is invisible; two agents answering the same ticket without a reassignment (a colleague
helping, a supervisor stepping in) read as handoffs; a handoff back and forth between
two replies of the same agent is not seen. Pure.
"""

from __future__ import annotations

from datetime import datetime

from empathy_firewall.connectors.base import markers_in
from empathy_firewall.engine.languages import normalize_language
from empathy_firewall.engine.narrative import substantive
from empathy_firewall.models import Comment, EventType, Role, Ticket, TicketEvent

__all__ = ["DETAIL", "answered_before", "reply_handoffs"]

#: the ``detail`` of a handoff read from the conversation
DETAIL = "from the conversation"


def reply_handoffs(
    ticket: Ticket, history: tuple[TicketEvent, ...] = ()
) -> tuple[TicketEvent, ...]:
    """Handoffs read from ``ticket``'s conversation (see the module doc), before the first
    reassignment the ticket's events or ``history`` hold (that history covers the rest)."""
    known = sorted(
        (e for e in (*ticket.events, *history) if e.type is EventType.REASSIGNED),
        key=lambda e: e.at,
    )
    if known:  # the conversation before it; the owner then is the one it moved away from
        first = known[0]
        current, cut = first.from_assignee, first.at
    else:
        current = ticket.assignee.id if ticket.assignee is not None else None
        cut = None
    language = normalize_language(ticket.requester.language)
    comments = tuple(c for c in _people(ticket) if cut is None or c.created_at < cut)
    owners: list[tuple[str, datetime]] = []  # (agent, first reply with substance)
    for comment in comments:
        author = comment.author_id
        if (
            comment.author_role is Role.AGENT
            and comment.public
            and author is not None
            and (not owners or owners[-1][0] != author)
            and substantive(comment.text, language)
        ):
            owners.append((author, comment.created_at))
    nexts: list[tuple[str, datetime | None]] = list(owners[1:])
    if owners and current is not None and owners[-1][0] != current:
        nexts.append((current, None))
    out: list[TicketEvent] = []
    for (before, since), (after, until) in zip(owners, nexts, strict=False):
        at = _last_word(comments, before, since, until)
        out.append(
            TicketEvent(
                type=EventType.REASSIGNED,
                at=at,
                from_assignee=before,
                to_assignee=after,
                detail=DETAIL,
            )
        )
    return tuple(out)


def answered_before(ticket: Ticket, event: TicketEvent) -> datetime:
    """When a handoff derived from snapshots happened, as far as the conversation tells.

    A snapshot derivation dates a handoff X -> Y at the read that saw it (``event.at``,
    the ticket's ``updated_at``), which is often the new owner's own answer: dated there,
    the answer does not count as coming after the handoff and the ticket looks awaiting
    its new owner. When Y has already answered with substance by ``event.at`` (after X's
    last word), the handoff happened before that answer: it is dated at X's last word
    before it, as :func:`reply_handoffs` dates one. Otherwise ``event.at`` stays.
    """
    before, after = event.from_assignee, event.to_assignee
    if before is None or after is None or before == after:
        return event.at
    language = normalize_language(ticket.requester.language)
    comments = _people(ticket)
    said = [
        c.created_at
        for c in comments
        if c.author_id == before and c.author_role is Role.AGENT and c.created_at <= event.at
    ]
    since = max(said, default=None)
    if since is None:
        return event.at
    answered = any(
        c.author_role is Role.AGENT
        and c.public
        and c.author_id == after
        and since < c.created_at <= event.at
        and substantive(c.text, language)
        for c in comments
    )
    return since if answered else event.at


def _people(ticket: Ticket) -> tuple[Comment, ...]:
    """The comments people wrote: the firewall's own (carrying its markers) left out, so
    the account it writes with never reads as an owner."""
    return tuple(c for c in ticket.comments if not markers_in(c.text))


def _last_word(
    comments: tuple[Comment, ...], agent: str, since: datetime, until: datetime | None
) -> datetime:
    """When ``agent`` last wrote anything before ``until`` (``since``: their first reply)."""
    return max(
        (
            c.created_at
            for c in comments
            if c.author_id == agent
            and c.author_role is Role.AGENT
            and since <= c.created_at
            and (until is None or c.created_at < until)
        ),
        default=since,
    )
