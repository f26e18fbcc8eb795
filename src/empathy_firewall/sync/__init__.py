"""The ``sync`` job: poll -> enrich -> evaluate -> apply -> record, resumable and idempotent.

See ``docs/sync.md`` for operations (config keys, exit codes, lock, crash safety). Names
are imported on first use, so the CLI starts without loading the database layer.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from empathy_firewall.sync.job import PageReport, SyncJob, SyncOptions, account_of
    from empathy_firewall.sync.settings import SyncConfig, load_sync_config, resolve_state_url
    from empathy_firewall.sync.summary import EXIT_CODES, SkippedTicket, SyncSummary

__all__ = [
    "EXIT_CODES",
    "PageReport",
    "SkippedTicket",
    "SyncConfig",
    "SyncJob",
    "SyncOptions",
    "SyncSummary",
    "account_of",
    "load_sync_config",
    "resolve_state_url",
]

_HOME = {
    "PageReport": "job",
    "SyncJob": "job",
    "SyncOptions": "job",
    "account_of": "job",
    "SyncConfig": "settings",
    "load_sync_config": "settings",
    "resolve_state_url": "settings",
    "EXIT_CODES": "summary",
    "SkippedTicket": "summary",
    "SyncSummary": "summary",
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(import_module(f"empathy_firewall.sync.{_HOME[name]}"), name)
    raise AttributeError(f"module 'empathy_firewall.sync' has no attribute {name!r}")
