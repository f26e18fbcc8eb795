"""``sync --dry-run`` as a rehearsal: the real sync, on a dry twin and a copy of the store.

A dry run that only evaluates cannot know what a real run sends: a real run records each
page (signal history, customer memory, the ledger) before it evaluates the next, and its
writes depend on what the helpdesk holds when they are sent. So the dry run *is* the real
run, with two things swapped: the connector is its
:meth:`~empathy_firewall.connectors.base.Connector.rehearsal_twin` (for HTTP connectors
their ``dry_twin``: reads reach the helpdesk,
writes are recorded and answered by the vendor's pure hook) and the store is a throwaway
copy of the SQLite store (the real one is never opened for writing). The recorded writes
are then exactly the requests the real run sends from the same state.

The file source rehearses too: its twin records plans in a copy of its ``output`` file.
A read-only file source (no ``output``), connectors without a dry twin, and stores that
cannot be copied (PostgreSQL) fall back to the evaluating dry run; it prints each page's
requests from ``render``, and on a run of several pages it cannot observe every page
before evaluating (it records nothing), so its plans may differ from the real run's there.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from empathy_firewall.connectors.base import Connector
from empathy_firewall.state.store import StateStore
from empathy_firewall.wire import HttpRequest

if TYPE_CHECKING:
    from empathy_firewall.sync.settings import SyncConfig

__all__ = ["Rehearsal", "rehearsal"]


@dataclass
class Rehearsal:
    """The dry twin, the scratch store and the writes recorded so far."""

    connector: Connector
    store: StateStore
    writes: list[HttpRequest]
    folder: Path

    def close(self) -> None:
        """Close and delete the scratch store."""
        try:
            self.store.close()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def rehearsal(connector: Connector, config: SyncConfig) -> Rehearsal | None:
    """A rehearsal for ``connector`` and the configured store, or None when either cannot
    rehearse (see the module docstring)."""
    from sqlalchemy.engine import make_url

    from empathy_firewall.sync.settings import resolve_state_url

    target = make_url(resolve_state_url(config))
    if target.get_backend_name() != "sqlite":
        return None
    folder = Path(tempfile.mkdtemp(prefix="empathy-firewall-dry-run-"))
    twin = connector.rehearsal_twin(folder)
    if twin is None:
        shutil.rmtree(folder, ignore_errors=True)
        return None
    copy = folder / "rehearsal.db"
    source = Path(target.database or "")
    if target.database not in (None, "", ":memory:") and source.exists():
        with closing(sqlite3.connect(source)) as live, closing(sqlite3.connect(copy)) as scratch:
            live.backup(scratch)
    store = StateStore(
        f"sqlite:///{copy}",
        max_tickets=config.state.max_tickets_per_customer,
        keep_hours=config.state.keep_hours,
    )
    return Rehearsal(twin[0], store, twin[1], folder)
