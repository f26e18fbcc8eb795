"""Plugins: modules that register rules, conditions or paths when imported.

A plugin is any importable module that uses the registry's decorators
(``empathy_firewall.rule``, ``empathy_firewall.condition``...). It is loaded either because a
configuration file names it (``plugins = ["acme_rules"]``) or because an installed
distribution declares it in the ``empathy_firewall.plugins`` entry-point group::

    [project.entry-points."empathy_firewall.plugins"]
    acme = "acme_rules"

Plugins load before rule packs are validated, so packs can use what they register.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from importlib.metadata import entry_points

from empathy_firewall.errors import ConfigError

__all__ = ["ENTRY_POINT_GROUP", "load_plugins"]

ENTRY_POINT_GROUP = "empathy_firewall.plugins"


def load_plugins(modules: Sequence[str] = (), *, installed: bool = True) -> list[str]:
    """Import the named modules and, if ``installed``, every entry-point plugin.

    Returns the names loaded. A module that cannot be imported is a :class:`ConfigError`
    naming it. Importing twice is harmless: Python imports a module once.
    """
    loaded: list[str] = []
    if installed:
        for point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda p: p.name):
            try:
                point.load()
            except Exception as exc:
                raise ConfigError(
                    f"plugin {point.name!r} ({point.value}) failed to load: {exc}"
                ) from exc
            loaded.append(point.value)
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise ConfigError(f"plugin module {name!r} cannot be imported: {exc}") from exc
        except Exception as exc:  # the plugin's own code raised while importing
            raise ConfigError(
                f"plugin module {name!r} failed while importing: {type(exc).__name__}: {exc} "
                "(fix the plugin or remove it from `plugins`)"
            ) from exc
        loaded.append(name)
    return loaded
