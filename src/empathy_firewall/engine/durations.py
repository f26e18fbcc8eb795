"""Durations in rule packs: ``90`` (minutes), ``"45m"``, ``"4h"``, ``"2d"``, ``"1h30m"``."""

from __future__ import annotations

import re
from datetime import timedelta

__all__ = ["format_duration", "parse_duration"]

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_WHOLE = re.compile(r"(?:\s*\d+(?:\.\d+)?\s*[smhdw])+\s*")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_MAX = timedelta(days=3650)


def parse_duration(value: object) -> timedelta:
    """Parse a duration; raise ``ValueError`` saying what is expected."""
    if isinstance(value, bool):
        raise ValueError("expects a duration such as 30m, 4h or 2d, got a boolean")
    if isinstance(value, int | float):
        if value != value:  # NaN
            raise ValueError(f"expects a duration such as 30m, 4h or 2d, got {value!r}")
        if value < 0:
            raise ValueError("a duration cannot be negative")
        seconds: float = value * 60
    elif isinstance(value, str) and _WHOLE.fullmatch(value.lower()):
        seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in _PART.findall(value.lower()))
    else:
        raise ValueError(f"expects a duration such as 30m, 4h, 2d or 1h30m, got {value!r}")
    # compare before building a timedelta: .inf or 10**20 minutes would overflow it
    if seconds > _MAX.total_seconds():
        raise ValueError("a duration cannot exceed 10 years")
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """Render a duration compactly: ``2d 3h``, ``4h 20m``, ``15m``."""
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{mins}m" if mins else ""]
    return " ".join(p for p in parts if p) or "0m"
