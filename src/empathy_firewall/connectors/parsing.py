"""Parsing helpers every helpdesk connector needs the same way. Pure.

* :func:`parse_time`: an aware datetime from an ISO-8601 string (``Z`` or an offset, any
  number of fractional digits; UTC assumed without a zone), None for anything else;
* :func:`field_value`: a custom-field value as the core's
  :data:`~empathy_firewall.models.FieldValue` (lists joined with commas);
* :func:`normalize_or_skip`: normalize one record of a page, or note why it was skipped
  (bad data skips that ticket, never the page).

What an id, a status or a channel looks like differs between vendors: those parsers stay in
each connector.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from empathy_firewall.errors import InputError
from empathy_firewall.models import FieldValue

__all__ = ["field_value", "normalize_or_skip", "parse_time"]

_FRACTION = re.compile(r"\.(\d+)")
_T = TypeVar("_T")


def parse_time(value: object) -> datetime | None:
    """An aware datetime from an ISO-8601 string (``Z``, up to nanoseconds; UTC assumed
    without a zone); None when ``value`` is not one."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), value.strip(), count=1)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def field_value(value: object) -> FieldValue:
    """A custom field's value: scalars kept, lists joined with commas, the rest as text."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def normalize_or_skip(tid: str, normalize: Callable[[], _T], notes: list[str]) -> _T | None:
    """``normalize()``, or None with a line in ``notes`` saying why ticket ``tid`` was skipped
    (the :class:`InputError`'s message, or only the kind of a ``ValueError``: its message
    may quote ticket data)."""
    try:
        return normalize()
    except InputError as exc:
        notes.append(f"skipped ticket {tid}: {exc}")
    except ValueError as exc:
        notes.append(f"skipped ticket {tid}: invalid data ({type(exc).__name__})")
    return None
