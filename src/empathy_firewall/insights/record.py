"""Recording the timeline from the shared ticket step (sync pages and webhook workers).

:class:`TimelineBuffer` collects, for one page of tickets, every timeline row (messages,
disruptions), the actions the firewall planned (``fired``, kept only once the ledger holds
them), the actions an agent undid (``undo``: a note carrying the firewall's marker deleted,
or a tag it added removed), and quotes of clearly positive customer messages. It writes
them in :meth:`TimelineBuffer.flush`, inside the page's transaction, with
insert-or-ignore: a second pass with nothing new writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, select

from empathy_firewall.actions import Plan
from empathy_firewall.insights import tables
from empathy_firewall.insights.timeline import TimelineRow, disruptions_of, messages_of
from empathy_firewall.models import Role, Ticket
from empathy_firewall.settings import FrictionSettings
from empathy_firewall.signals.enrich import Signals
from empathy_firewall.signals.text import CommentCache
from empathy_firewall.state.store import StateStore, chunks, upsert

__all__ = ["POSITIVE_AT", "QUOTE_CHARS", "TimelineBuffer", "own_removed_tags", "quote_of"]

#: a customer message at least this positive is a moment to celebrate
POSITIVE_AT = 0.5
#: the longest quote kept of a positive message
QUOTE_CHARS = 240
#: action kinds an agent can visibly undo
_UNDOABLE = ("add_tags", "internal_note")

_SPACE = re.compile(r"\s+")


def quote_of(text: str, limit: int = QUOTE_CHARS) -> str:
    """The message's words on one line, cut at a word boundary with an ellipsis."""
    flat = _SPACE.sub(" ", text).strip()
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1].rsplit(" ", 1)[0]
    return cut + "\u2026"


class TimelineBuffer:
    """One page's timeline additions (see the module docstring).

    ``own_removed_tags`` are tags the rule pack itself removes: their absence is not an
    agent's undo. ``keep_quotes=False`` records no positive quotes.
    """

    def __init__(
        self,
        store: StateStore,
        tickets: Sequence[Ticket],
        *,
        own_removed_tags: Collection[str] = (),
        keep_quotes: bool = True,
    ) -> None:
        self._rows: dict[tuple[str, str], TimelineRow] = {}
        self._fired: dict[tuple[str, str], TimelineRow] = {}
        self._moments: dict[tuple[str, str], dict[str, Any]] = {}
        self._confirmed: set[str] = set()
        self._own_removed = frozenset(own_removed_tags)
        self._keep_quotes = keep_quotes
        self._known: dict[str, dict[str, tuple[str, str | None, str | None]]] = {}
        keys = sorted({t.key for t in tickets})
        tl = tables.timeline
        with store.engine.connect() as conn:
            for part in chunks(keys):
                rows = conn.execute(
                    select(tl.c.ticket_key, tl.c.item, tl.c.kind, tl.c.actor, tl.c.detail).where(
                        tl.c.ticket_key.in_(part), tl.c.kind.in_(("fired", "undo"))
                    )
                )
                for ticket_key, item, kind, actor, detail in rows:
                    self._known.setdefault(ticket_key, {})[item] = (kind, actor, detail)

    def __len__(self) -> int:
        return len(self._rows) + len(self._fired)

    def add(
        self,
        ticket: Ticket,
        signals: Signals,
        plan: Plan,
        texts: CommentCache,
        settings: FrictionSettings,
        *,
        done_keys: Collection[str] = (),
        visible_keys: Collection[str] = (),
    ) -> None:
        """Record one evaluated ticket: its messages, disruptions, plan and undos."""
        now = signals.now
        scores = {m.comment_id: (m.sentiment, m.frustration) for m in signals.messages}
        for comment in ticket.comments:
            if comment.author_role is Role.AGENT and comment.public and comment.text:
                found = texts.analyze(f"{ticket.key}#{comment.id}", comment.text)
                scores[comment.id] = (found.sentiment, found.frustration)
        prefix = f"{ticket.source.connector}:{ticket.source.account or ''}:"
        for row in messages_of(ticket, scores, prefix):
            self._rows[(row.ticket_key, row.item)] = row
            if self._keep_quotes and row.kind == "customer":
                self._moment(ticket, row)
        for row in disruptions_of(ticket, signals.friction, now, settings):
            self._rows[(row.ticket_key, row.item)] = row
        for planned in plan.actions:
            action = planned.action
            detail: str = action.kind
            if action.kind == "add_tags":
                detail = "add_tags:" + ",".join(action.tags)
            fired = TimelineRow(
                ticket_key=ticket.key,
                item="fired:" + planned.key,
                at=now,
                kind="fired",
                channel=ticket.channel.value,
                group=ticket.group,
                ticket_created=ticket.created_at,
                actor=planned.because[0].rule_id,
                detail=detail,
            )
            self._fired.setdefault((ticket.key, planned.key), fired)
            if planned.key in done_keys:
                self._confirmed.add(planned.key)
        self._undos(ticket, now, done_keys, visible_keys)

    def _moment(self, ticket: Ticket, row: TimelineRow) -> None:
        if row.sentiment is None or row.sentiment < POSITIVE_AT:
            return
        comment_id = row.item[2:]
        text = next((c.text for c in ticket.comments if c.id == comment_id), "")
        if not text.strip():
            return
        self._moments[(ticket.key, comment_id)] = {
            "ticket_key": ticket.key,
            "comment_id": comment_id,
            "at": row.at,
            "grp": row.group,
            "channel": row.channel,
            "sentiment": row.sentiment,
            "quote": quote_of(text),
            "url": ticket.source.url,
        }

    def _undos(
        self,
        ticket: Ticket,
        now: Any,
        done_keys: Collection[str],
        visible_keys: Collection[str],
    ) -> None:
        known = self._known.get(ticket.key, {})
        tags = set(ticket.tags)
        for item, (kind, actor, detail) in known.items():
            if kind != "fired" or not detail or not detail.startswith(_UNDOABLE):
                continue
            key = item.removeprefix("fired:")
            if key not in done_keys or "undo:" + key in known:
                continue
            if detail == "internal_note":
                undone = key not in visible_keys
            else:
                added = detail.removeprefix("add_tags:").split(",")
                undone = any(t not in tags and t not in self._own_removed for t in added)
            if undone:
                self._rows[(ticket.key, "undo:" + key)] = TimelineRow(
                    ticket_key=ticket.key,
                    item="undo:" + key,
                    at=now,
                    kind="undo",
                    channel=ticket.channel.value,
                    group=ticket.group,
                    ticket_created=ticket.created_at,
                    actor=actor,
                    detail=detail,
                )

    def flush(self, conn: Connection, confirmed_keys: Iterable[str] = ()) -> int:
        """Write the page's rows in ``conn``'s transaction; returns the rows offered.

        ``fired`` rows are written only for action keys the ledger holds (before the page,
        or ``confirmed_keys`` now)."""
        confirmed = self._confirmed | set(confirmed_keys)
        rows = [r.as_row() for r in self._rows.values()]
        rows += [r.as_row() for (_, key), r in self._fired.items() if key in confirmed]
        if rows:
            stmt = upsert(conn, tables.timeline, ("ticket_key", "item"), None)
            for start in range(0, len(rows), 500):
                conn.execute(stmt, rows[start : start + 500])
        moments = list(self._moments.values())
        if moments:
            conn.execute(upsert(conn, tables.moments, ("ticket_key", "comment_id"), None), moments)
        return len(rows)


def own_removed_tags(rules: Iterable[Any]) -> frozenset[str]:
    """Tags any rule of the pack removes (their absence is the pack's doing, not an undo)."""
    out: set[str] = set()
    for rule in rules:
        for action in getattr(rule, "actions", ()):
            if getattr(action, "kind", None) == "remove_tags":
                out.update(getattr(getattr(action, "static", None), "tags", ()))
    return frozenset(out)
