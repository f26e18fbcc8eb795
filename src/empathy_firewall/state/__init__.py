"""The state store: bookmarks, ledger, history, webhook inbox and run locks in SQL.

SQLite (a file, the default) or PostgreSQL (when several processes or machines share the
work), through one SQLAlchemy Core code path, with versioned migrations. See
``docs/state-store.md``.
"""

from empathy_firewall.state.buffer import PageHistory
from empathy_firewall.state.engine import create_store_engine, normalize_url, sqlite_url
from empathy_firewall.state.inbox import InboxItem
from empathy_firewall.state.lock import Lease, LockInfo, acquire_lock, lock_info
from empathy_firewall.state.migrations import MIGRATIONS, Migration
from empathy_firewall.state.store import BookmarkState, LedgerEntry, StateStore

__all__ = [
    "MIGRATIONS",
    "BookmarkState",
    "InboxItem",
    "Lease",
    "LedgerEntry",
    "LockInfo",
    "Migration",
    "PageHistory",
    "StateStore",
    "acquire_lock",
    "create_store_engine",
    "lock_info",
    "normalize_url",
    "sqlite_url",
]
