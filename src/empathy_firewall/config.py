"""The configuration file (TOML): which rule packs, and the settings behind the signals.

::

    rules = ["rules/default", "my-rules.yaml"]   # optional; default: the shipped packs
    disabled_rules = ["positive-moment"]         # switch off single rules by id
    plugins = ["acme_firewall_rules"]            # modules that register Python rules/conditions

    [settings.friction]
    default_capacity = 30

    [settings.replies]
    allow_public_replies = false

Relative rule paths are resolved against the configuration file's directory. Secrets never
live here: connectors read them from environment variables. Errors name the key and say
what is expected.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from empathy_firewall.errors import ConfigError
from empathy_firewall.settings import FirewallSettings

__all__ = ["AppConfig", "load_config"]

_TOP_KEYS = frozenset({"rules", "disabled_rules", "plugins", "settings"})


@dataclass(frozen=True)
class AppConfig:
    """What a configuration file says; ``rules`` is None for the shipped packs."""

    rules: tuple[Path, ...] | None = None
    disabled_rules: tuple[str, ...] = ()
    plugins: tuple[str, ...] = ()
    settings: FirewallSettings = field(default_factory=FirewallSettings)
    extra: dict[str, Any] = field(default_factory=dict)


def load_config(path: Path, *, allow_extra: frozenset[str] = frozenset()) -> AppConfig:
    """Read and validate a configuration file; raise :class:`ConfigError` naming the key."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    unknown = sorted(set(data) - _TOP_KEYS - allow_extra)
    if unknown:
        raise ConfigError(
            f"{path}: unknown key(s) {', '.join(unknown)} (expected: "
            f"{', '.join(sorted(_TOP_KEYS | allow_extra))})"
        )
    rules = None
    if "rules" in data:
        raw = data["rules"]
        if not isinstance(raw, list) or not all(isinstance(r, str) for r in raw):
            raise ConfigError(f"{path}: 'rules' expects a list of paths (strings)")
        rules = tuple((path.parent / r).resolve() for r in raw)
    disabled = _strings(data, "disabled_rules", path, "rule ids")
    plugins = _strings(data, "plugins", path, "importable module names")
    try:
        settings = FirewallSettings.model_validate(data.get("settings", {}))
    except ValidationError as exc:
        problems = "; ".join(
            f"settings.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
            for err in exc.errors(include_url=False, include_input=False)
        )
        raise ConfigError(f"{path}: {problems}") from None
    extra = {k: v for k, v in data.items() if k in allow_extra}
    return AppConfig(
        rules=rules, disabled_rules=disabled, plugins=plugins, settings=settings, extra=extra
    )


def _strings(data: dict[str, Any], key: str, path: Path, what: str) -> tuple[str, ...]:
    raw = data.get(key, [])
    if not isinstance(raw, list) or not all(isinstance(item, str) and item for item in raw):
        raise ConfigError(f"{path}: '{key}' expects a list of {what} (strings)")
    return tuple(raw)
