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

from empathy_firewall.config_errors import ConfigFileError, unknown_key, validation_problems
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


def load_config(
    path: Path, *, allow_extra: frozenset[str] = frozenset(), lenient: bool = False
) -> AppConfig:
    """Read and validate a configuration file.

    Every problem in the file is reported at once in one :class:`ConfigFileError` naming
    the file, each unknown key with the allowed ones and the closest. ``lenient`` returns
    what could be read despite problems (callers that collect further problems).
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    problems: list[str] = []
    allowed = sorted(_TOP_KEYS | allow_extra)
    for key in sorted(set(data) - _TOP_KEYS - allow_extra):
        problems.append(unknown_key("", key, allowed))
    rules = None
    if "rules" in data:
        raw = data["rules"]
        if not isinstance(raw, list) or not all(isinstance(r, str) for r in raw):
            problems.append("'rules' expects a list of paths (strings)")
        else:
            rules = tuple((path.parent / r).resolve() for r in raw)
    disabled = _strings(data, "disabled_rules", "rule ids", problems)
    plugins = _strings(data, "plugins", "importable module names", problems)
    settings = FirewallSettings()
    try:
        settings = FirewallSettings.model_validate(data.get("settings", {}))
    except ValidationError as exc:
        problems += validation_problems("settings", exc, FirewallSettings)
    if problems and not lenient:
        raise ConfigFileError(path, problems)
    extra = {k: v for k, v in data.items() if k in allow_extra}
    return AppConfig(
        rules=rules, disabled_rules=disabled, plugins=plugins, settings=settings, extra=extra
    )


def _strings(data: dict[str, Any], key: str, what: str, problems: list[str]) -> tuple[str, ...]:
    raw = data.get(key, [])
    if not isinstance(raw, list) or not all(isinstance(item, str) and item for item in raw):
        problems.append(f"'{key}' expects a list of {what} (strings)")
        return ()
    return tuple(raw)
