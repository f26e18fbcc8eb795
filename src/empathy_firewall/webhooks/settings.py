"""The ``[webhooks]`` configuration table and the service built from a configuration file.

The file is the sync job's (``[connector]``, ``[state]``, rules, ``[settings]``) plus::

    [webhooks]
    host = "127.0.0.1"          # serve: where uvicorn listens
    port = 8080
    max_body_bytes = 262144     # larger bodies are answered 413
    workers = 1                 # in-process worker threads; 0 = separate `worker` processes
    batch = 25                  # tickets a worker claims at once (with all their events)
    lease_seconds = 300         # a claim not completed within this is claimed again
    max_attempts = 5            # then the item is parked (inbox list|retry)
    backoff_seconds = 10        # first retry delay; doubles per attempt
    backoff_max_seconds = 900
    settle_seconds = 2          # a ticket's events are processed once it is quiet this long
    settle_max_seconds = 30     # ... or once its oldest event waited this long

    [webhooks.connectors.freshdesk]   # more helpdesks on the same endpoint (optional):
    domain = "acme"                   # each table is that connector's own config

Every connector gets the route ``/webhooks/<name>``; two connectors of one name need two
servers (or two configuration files).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from empathy_firewall.config_errors import ConfigFileError, validation_problems
from empathy_firewall.errors import ConfigError
from empathy_firewall.sync.settings import SyncConfig
from empathy_firewall.webhooks.handler import DEFAULT_MAX_BODY_BYTES
from empathy_firewall.webhooks.worker import WorkerOptions

__all__ = ["ServeConfig", "WebhookSettings", "load_serve_config"]


class WebhookSettings(BaseModel):
    """``[webhooks]``: the endpoint and its workers."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    max_body_bytes: int = Field(default=DEFAULT_MAX_BODY_BYTES, ge=1024, le=16 * 1024 * 1024)
    workers: int = Field(default=1, ge=0, le=64)
    batch: int = Field(default=25, ge=1, le=500)
    lease_seconds: float = Field(default=300.0, ge=5, le=24 * 3600)
    max_attempts: int = Field(default=5, ge=1, le=100)
    backoff_seconds: float = Field(default=10.0, ge=0, le=3600)
    backoff_max_seconds: float = Field(default=900.0, ge=0, le=24 * 3600)
    idle_sleep_seconds: float = Field(default=0.2, gt=0, le=60)
    #: a ticket's events wait until its newest is this old, then are processed together
    #: (one re-read for a burst of updates: Zendesk sends one event per changed field)
    settle_seconds: float = Field(default=2.0, ge=0, le=300)
    #: ... but no event waits longer than this for its ticket to go quiet
    settle_max_seconds: float = Field(default=30.0, ge=0, le=3600)
    #: longest a delivery waits for its inbox write before the answer is 503 + Retry-After
    #: (Zendesk gives up after about 10 s; a locked store must not hold it that long)
    accept_timeout_seconds: float = Field(default=3.0, gt=0, le=30)
    #: ``empathy-firewall worker`` lowers its own CPU priority by this much (``nice``):
    #: on a machine it shares with ``serve``, acknowledging webhooks (latency-bound: the
    #: helpdesk waits about 10 s, then counts a failure) comes before processing them
    #: (throughput-bound: items wait in the inbox). 0 keeps the priority it started with.
    worker_nice: int = Field(default=10, ge=0, le=19)
    connectors: dict[str, dict[str, Any]] = Field(default_factory=dict)

    def worker_options(self) -> WorkerOptions:
        """The worker's options from this table."""
        return WorkerOptions(
            batch=self.batch,
            lease=timedelta(seconds=self.lease_seconds),
            max_attempts=self.max_attempts,
            backoff_base=self.backoff_seconds,
            backoff_max=self.backoff_max_seconds,
            idle_sleep=self.idle_sleep_seconds,
            settle=timedelta(seconds=self.settle_seconds),
            settle_max=timedelta(seconds=self.settle_max_seconds),
        )


@dataclass(frozen=True)
class ServeConfig:
    """The sync configuration (state, primary connector, rules) plus ``[webhooks]``."""

    path: Path
    sync: SyncConfig
    webhooks: WebhookSettings
    connectors: Mapping[str, Mapping[str, Any]]


def load_serve_config(path: Path) -> ServeConfig:
    """Read the file; errors name the key (``webhooks.port: ...``)."""
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    raw = data.get("webhooks", {})
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: 'webhooks' must be a table ([webhooks])")
    problems: list[str] = []
    try:
        webhooks = WebhookSettings.model_validate(raw)
    except ValidationError as exc:
        problems = validation_problems("webhooks", exc, WebhookSettings)
    try:
        sync = _load_sync(path)
    except ConfigFileError as exc:  # every problem of the file at once, the tables in order
        raise ConfigFileError(path, [*exc.problems, *problems]) from None
    if problems:
        raise ConfigFileError(path, problems)
    connectors: dict[str, Mapping[str, Any]] = {sync.connector_name: sync.connector}
    for name, table in webhooks.connectors.items():
        if name in connectors:
            raise ConfigError(
                f"{path}: webhooks.connectors.{name}: a {name} connector is already configured "
                "(one route per connector name; run a second server for a second account)"
            )
        connectors[name] = table
    return ServeConfig(path, sync, webhooks, connectors)


def _load_sync(path: Path) -> SyncConfig:
    """The sync tables, validated by the sync job's own loader (``[webhooks]`` allowed)."""
    from empathy_firewall.sync.settings import load_sync_config

    return load_sync_config(path, extra_tables=frozenset({"webhooks"}))
