"""The ``sync`` job: poll -> enrich -> evaluate -> apply -> record, resumable and idempotent.

See ``docs/sync.md`` for operations (config keys, exit codes, lock, crash safety).
"""

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
