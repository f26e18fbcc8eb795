"""Find channels through the ``empathy_firewall.channels`` entry-point group.

The built-in ``email`` and ``slack`` channels register there too, so a third-party
distribution (a Microsoft Teams channel, say) works the same way.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points

from empathy_firewall.channels.base import Channel
from empathy_firewall.errors import ConfigError

__all__ = ["GROUP", "available", "load"]

#: the entry-point group channels register in
GROUP = "empathy_firewall.channels"


def available() -> dict[str, EntryPoint]:
    """Installed channels by name."""
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def load(name: str) -> type[Channel]:
    """The channel class registered as ``name``; :class:`ConfigError` if unknown or broken."""
    found = available()
    entry = found.get(name)
    if entry is None:
        names = ", ".join(sorted(found)) or "none"
        raise ConfigError(f"unknown channel {name!r}; installed channels: {names}")
    try:
        loaded = entry.load()
    except Exception as exc:
        raise ConfigError(
            f"channel {name!r} ({entry.value}) failed to import: {type(exc).__name__}: {exc}"
        ) from exc
    if not (isinstance(loaded, type) and issubclass(loaded, Channel)):
        raise ConfigError(f"entry point {name!r} ({entry.value}) is not a Channel subclass")
    return loaded
