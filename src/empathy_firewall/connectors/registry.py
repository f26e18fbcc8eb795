"""Find connectors through the ``empathy_firewall.connectors`` entry-point group.

The built-in ``file`` source registers there too, so the core uses its own extension API
and a third-party distribution (``empathy-firewall-helpscout``) works the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from empathy_firewall.connectors.base import Connector, validate_config
from empathy_firewall.errors import ConfigError

__all__ = ["GROUP", "available", "create", "load", "validate_config"]

#: the entry-point group connectors register in
GROUP = "empathy_firewall.connectors"


def available() -> dict[str, EntryPoint]:
    """Installed connectors by name."""
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def load(name: str) -> type[Connector]:
    """The connector class registered as ``name``; :class:`ConfigError` if unknown or broken."""
    found = available()
    entry = found.get(name)
    if entry is None:
        from empathy_firewall.config_errors import closest

        names = ", ".join(sorted(found)) or "none"
        guess = closest(name, found)
        if guess is not None:  # a typo of an installed connector: never suggest a package
            raise ConfigError(
                f"connector.name: unknown connector {name!r}; did you mean {guess!r}? "
                f"(installed: {names})"
            )
        raise ConfigError(
            f"connector.name: unknown connector {name!r} (installed: {names}); a third-party "
            "connector must be installed first: see docs/connectors.md"
        )
    try:
        loaded = entry.load()
    except Exception as exc:
        raise ConfigError(
            f"connector {name!r} ({entry.value}) failed to import: {type(exc).__name__}: {exc}"
        ) from exc
    if not (isinstance(loaded, type) and issubclass(loaded, Connector)):
        raise ConfigError(f"entry point {name!r} ({entry.value}) is not a Connector subclass")
    return loaded


def create(name: str, raw: Mapping[str, Any], **kwargs: Any) -> Connector:
    """Load connector ``name`` and build it from its raw config mapping."""
    return load(name).from_config(raw, **kwargs)
