"""Freshdesk's note and reply HTML (pure): customers' words flow into note templates, so
every text is escaped; a canned response's admin-authored HTML is kept."""

from __future__ import annotations

import html
from collections.abc import Sequence

from empathy_firewall.actions import PlannedAction
from empathy_firewall.connectors.base import note_marker
from empathy_firewall.connectors.notes import DRAFT_HEADING, why_line

__all__ = ["CANNED_HEADING", "canned_section", "mark", "note_html", "reply_html"]

CANNED_HEADING = "Canned response suggested"


def _escape(text: str) -> str:
    return html.escape(text, quote=False).replace("\n", "<br>")


def _marked(inner_html: str, marker: str) -> str:
    return f"<div>{inner_html}</div><div>{marker}</div>"


def mark(text: str, marker: str) -> str:
    """One note section: the escaped text, then its marker (the kit's ``Mark`` hook)."""
    return _marked(_escape(text), marker)


def canned_section(title: str, content_html: str, planned: PlannedAction, *, as_draft: bool) -> str:
    """A note section carrying a canned response's content (admin-authored HTML, kept).

    Freshdesk fills placeholders such as ``{{ticket.agent.name}}`` only when an agent
    inserts the response from the editor; the section says so.
    """
    heading = DRAFT_HEADING if as_draft else f"{CANNED_HEADING}: {title}"
    hint = (
        f"Canned response “{title}”: insert it from the canned responses menu to send it; "
        "placeholders are filled in then."
    )
    head = _escape(f"{heading}\n{hint}")
    body = f"{head}<br><br>{content_html}<br><br>{_escape(why_line(planned))}"
    return _marked(body, note_marker(planned.key))


def note_html(sections: Sequence[str]) -> str:
    """One private note from its sections (each already ends with its marker)."""
    return "<hr>".join(sections)


def reply_html(body: str) -> str:
    """A public reply's HTML body (escaped text, line breaks kept, no marker)."""
    return f"<div>{_escape(body)}</div>"
