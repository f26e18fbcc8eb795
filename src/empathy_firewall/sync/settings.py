"""The sync job's configuration tables: ``[state]``, ``[connector]`` and ``[sync]``.

::

    [state]
    url = "sqlite:///empathy-firewall.db"   # default: <config name>.db next to the config
    # url_env = "EMPATHY_FIREWALL_STATE_URL" # a PostgreSQL URL with a password goes here
    # schema = "empathy_firewall"            # PostgreSQL only

    [connector]
    name = "zendesk"
    subdomain = "acme"                      # the rest is the connector's own config

    [sync]
    lock_ttl_minutes = 10
    max_tickets = 0                         # 0: no bound

Relative SQLite paths are resolved against the configuration file's directory. A password
in ``state.url`` is refused: put the whole URL in the environment variable named by
``state.url_env`` (default ``EMPATHY_FIREWALL_STATE_URL``), which also overrides the file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from empathy_firewall.config import AppConfig, load_config
from empathy_firewall.config_errors import ConfigFileError, validation_problems
from empathy_firewall.errors import ConfigError

__all__ = [
    "EXTRA_TABLES",
    "STATE_URL_ENV",
    "StateSettings",
    "SyncConfig",
    "SyncSettings",
    "load_sync_config",
    "resolve_state_url",
]

#: the top-level tables the sync commands add to the configuration file
EXTRA_TABLES = frozenset({"state", "connector", "sync", "channels", "report"})
#: the default environment variable holding a state URL with credentials
STATE_URL_ENV = "EMPATHY_FIREWALL_STATE_URL"


class _Table(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StateSettings(_Table):
    """``[state]``: where the state store lives."""

    url: str | None = None
    url_env: str = STATE_URL_ENV
    schema_: str | None = Field(default=None, alias="schema")
    max_tickets_per_customer: int = Field(default=20, ge=1, le=500)
    keep_hours: float = Field(default=72.0, ge=1, le=24 * 30)


class SyncSettings(_Table):
    """``[sync]``: how runs behave."""

    lock_ttl_minutes: float = Field(default=10.0, gt=0, le=24 * 60)
    max_tickets: int = Field(default=0, ge=0)


@dataclass(frozen=True)
class SyncConfig:
    """A validated sync configuration: the app config plus the three sync tables."""

    path: Path
    app: AppConfig
    state: StateSettings
    connector_name: str
    connector: Mapping[str, Any]
    sync: SyncSettings = field(default_factory=SyncSettings)


def _problems(table: str, exc: ValidationError) -> str:
    return "; ".join(
        f"{table}.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
        for err in exc.errors(include_url=False, include_input=False)
    )


def load_sync_config(path: Path, *, extra_tables: frozenset[str] = frozenset()) -> SyncConfig:
    """Read the configuration file and validate the sync tables; errors name the key.

    ``extra_tables`` are further top-level tables the caller validates itself (``serve``
    reads ``[webhooks]`` from the same file).
    """
    problems: list[str] = []
    try:
        app = load_config(path, allow_extra=EXTRA_TABLES | extra_tables)
    except ConfigFileError as exc:  # go on: report the other tables' problems with these
        problems += exc.problems
        app = load_config(path, allow_extra=EXTRA_TABLES | extra_tables, lenient=True)
    tables: dict[str, Any] = {}
    for name in EXTRA_TABLES:
        raw = app.extra.get(name, {})
        if not isinstance(raw, dict):
            problems.append(f"'{name}' must be a table ([{name}])")
            raw = {}
        tables[name] = raw
    state = StateSettings()
    sync = SyncSettings()
    try:
        state = StateSettings.model_validate(tables["state"])
    except ValidationError as exc:
        problems += validation_problems("state", exc, StateSettings)
    try:
        sync = SyncSettings.model_validate(tables["sync"])
    except ValidationError as exc:
        problems += validation_problems("sync", exc, SyncSettings)
    if problems:
        raise ConfigFileError(path, problems)
    connector = dict(tables["connector"])
    name = connector.pop("name", None)
    if not isinstance(name, str) or not name:
        raise ConfigError(
            f"{path}: connector.name: expected the helpdesk connector to use, e.g. "
            '[connector] name = "zendesk" (or "file")'
        )
    if name == "file":  # paths in the file source are relative to the config
        for key in ("path", "output"):
            if isinstance(connector.get(key), str):
                connector[key] = str((path.parent / connector[key]).resolve())
    return SyncConfig(path, app, state, name, connector, sync)


def resolve_state_url(config: SyncConfig, env: Mapping[str, str] | None = None) -> str:
    """The state URL: the environment variable, else the file's, else a SQLite file.

    A password written in the file is refused (secrets come from the environment).
    """
    source = os.environ if env is None else env
    from_env = source.get(config.state.url_env)
    if from_env:
        return from_env
    url = config.state.url
    if url is None:
        return f"sqlite:///{config.path.parent.resolve() / (config.path.stem + '.db')}"
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"{config.path}: state.url: expected sqlite:///path/to/state.db or "
            "postgresql+psycopg://user@host/database"
        ) from None
    if parsed.password:
        raise ConfigError(
            f"{config.path}: state.url must not contain a password; put the whole URL in "
            f"the environment variable {config.state.url_env} (state.url_env) instead"
        )
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        db = Path(parsed.database or "")
        if not db.is_absolute():
            return f"sqlite:///{(config.path.parent / db).resolve()}"
    return url
