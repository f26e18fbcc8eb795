"""The normalized ticket file: one :class:`~empathy_firewall.models.Ticket` as JSON per line.

This is the ``file`` source's format and the easiest way to try the firewall with no
helpdesk account. Blank lines and lines starting with ``#`` are ignored. Every other line
must be a JSON object that validates as a ``Ticket``; see ``docs/ticket-file.md``.

Readers stream: memory does not grow with the number of lines. :func:`scan_ticket_file`
validates a whole file first, so a bad line stops a run before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from empathy_firewall.errors import InputError
from empathy_firewall.models import Ticket

__all__ = ["TicketFileSummary", "iter_tickets", "parse_ticket_line", "scan_ticket_file"]

_MAX_REASON_ERRORS = 3


@dataclass(frozen=True, slots=True)
class TicketFileSummary:
    """What a full validation pass learned about a file."""

    tickets: int
    latest_activity: datetime | None


def parse_ticket_line(line: str, *, source: str = "<string>", line_no: int = 1) -> Ticket:
    """Parse one JSONL line into a Ticket, or raise :class:`InputError` naming the line.

    The reason names the failing fields but never echoes field values (they may hold
    customer text).
    """
    try:
        return Ticket.model_validate_json(line)
    except ValidationError as exc:
        raise InputError(_describe(exc), source=source, line=line_no) from None


def _describe(exc: ValidationError) -> str:
    errors = exc.errors(include_input=False, include_url=False)
    parts = []
    for err in errors[:_MAX_REASON_ERRORS]:
        loc = ".".join(str(p) for p in err["loc"]) or "(line)"
        parts.append(f"{loc}: {err['msg']}")
    more = len(errors) - _MAX_REASON_ERRORS
    if more > 0:
        parts.append(f"and {more} more error(s)")
    return "; ".join(parts)


def iter_tickets(path: Path) -> Iterator[Ticket]:
    """Yield the tickets of a file in order; stop with :class:`InputError` at a bad line."""
    source = str(path)
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read ticket file: {exc.strerror}", source=source) from None
    with handle:
        try:
            for line_no, line in enumerate(handle, start=1):
                stripped = line.strip()
                if not stripped or stripped.startswith("#"):
                    continue
                yield parse_ticket_line(stripped, source=source, line_no=line_no)
        except UnicodeDecodeError as exc:
            raise InputError(f"not UTF-8 text ({exc.reason})", source=source) from None


def scan_ticket_file(path: Path) -> TicketFileSummary:
    """Validate every line of a file without keeping the tickets; return counts and times."""
    count = 0
    latest: datetime | None = None
    for ticket in iter_tickets(path):
        count += 1
        activity = ticket.last_activity_at
        if latest is None or activity > latest:
            latest = activity
    return TicketFileSummary(count, latest)
