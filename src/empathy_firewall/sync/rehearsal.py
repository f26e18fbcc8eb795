"""``sync --dry-run`` as a rehearsal: the real sync, on a dry twin and a copy of the store.

A dry run that only evaluates cannot know what a real run sends: a real run records each
page (signal history, customer memory, the ledger) before it evaluates the next, and its
writes depend on what the helpdesk holds when they are sent. So the dry run *is* the real
run, with two things swapped: the connector is its
:meth:`~empathy_firewall.connectors.base.Connector.rehearsal_twin` (for HTTP connectors
their ``dry_twin``: reads reach the helpdesk,
writes are recorded and answered by the vendor's pure hook) and the store is a throwaway
copy of the real one, which is never written to: a copy of the SQLite file, or on
PostgreSQL a schema ``ef_rehearsal_<random>`` in the same database
(:mod:`empathy_firewall.state.scratch`), dropped when the rehearsal ends. The recorded
writes are then exactly the requests the real run sends from the same state.

The file source rehearses too: its twin records plans in a copy of its ``output`` file.
A read-only file source (no ``output``) and connectors without a dry twin fall back to
the evaluating dry run; it prints each page's requests from ``render``, and on a run of
several pages it cannot observe every page before evaluating (it records nothing), so its
plans may differ from the real run's there. It reads a throwaway copy of the store too
(:func:`scratch_store`), so not even an older store is migrated by a dry run.
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
from empathy_firewall.state.scratch import ScratchSchema, copy_store
from empathy_firewall.state.store import StateStore
from empathy_firewall.wire import HttpRequest

if TYPE_CHECKING:
    from empathy_firewall.sync.settings import SyncConfig

__all__ = ["Rehearsal", "ScratchStore", "rehearsal", "scratch_store"]


@dataclass
class ScratchStore:
    """A throwaway copy of the configured store: a SQLite file in ``folder``, or on
    PostgreSQL the rehearsal ``schema`` (None on SQLite)."""

    store: StateStore
    folder: Path
    schema: ScratchSchema | None = None

    def close(self) -> None:
        """Close and delete the copy (drop the rehearsal schema)."""
        try:
            self.store.close()
        finally:
            try:
                if self.schema is not None:
                    self.schema.drop()
            finally:
                shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class Rehearsal:
    """The dry twin, the scratch store and the writes recorded so far."""

    connector: Connector
    scratch: ScratchStore
    writes: list[HttpRequest]

    @property
    def store(self) -> StateStore:
        """The scratch store the rehearsal runs on."""
        return self.scratch.store

    def close(self) -> None:
        """Close and delete the scratch store (drop the rehearsal schema)."""
        self.scratch.close()


def rehearsal(connector: Connector, config: SyncConfig) -> Rehearsal | None:
    """A rehearsal for ``connector`` and the configured store, or None when the connector
    cannot rehearse (see the module docstring)."""
    folder = Path(tempfile.mkdtemp(prefix="empathy-firewall-dry-run-"))
    try:
        twin = connector.rehearsal_twin(folder)
        if twin is None:
            shutil.rmtree(folder, ignore_errors=True)
            return None
        return Rehearsal(twin[0], scratch_store(config, folder), twin[1])
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def scratch_store(config: SyncConfig, folder: Path | None = None) -> ScratchStore:
    """A throwaway copy of the configured store, migrated there if it is older (the real
    store is never created, migrated or written): every dry run runs on one, the
    evaluating dry run of a connector that cannot rehearse too. ``folder`` (made if None)
    holds the SQLite copy and is deleted by :meth:`ScratchStore.close`."""
    from sqlalchemy.engine import make_url

    from empathy_firewall.sync.settings import resolve_state_url

    url = resolve_state_url(config)
    target = make_url(url)
    folder = folder or Path(tempfile.mkdtemp(prefix="empathy-firewall-dry-run-"))
    try:
        if target.get_backend_name() != "sqlite":
            schema = copy_store(url, config.state.schema_)
            try:
                store = StateStore(
                    url,
                    schema=schema.name,
                    max_tickets=config.state.max_tickets_per_customer,
                    keep_hours=config.state.keep_hours,
                )
            except BaseException:
                schema.drop()
                raise
            return ScratchStore(store, folder, schema)
        copy = folder / "rehearsal.db"
        source = Path(target.database or "")
        if target.database not in (None, "", ":memory:") and source.exists():
            with (
                closing(sqlite3.connect(source)) as live,
                closing(sqlite3.connect(copy)) as scratch,
            ):
                live.backup(scratch)
        store = StateStore(
            f"sqlite:///{copy}",
            max_tickets=config.state.max_tickets_per_customer,
            keep_hours=config.state.keep_hours,
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return ScratchStore(store, folder)
