"""Channel tests share the PostgreSQL helpers of tests/state and the support module here."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "state"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from collections.abc import Iterator

import pytest
from state_support import store

from empathy_firewall.state import StateStore

__all__ = ["lite", "store"]  # store: the shared fixture, every backend, from tests/state


@pytest.fixture
def lite(tmp_path: Path) -> Iterator[StateStore]:
    """A SQLite store only (tests about a channel, not about the backends)."""
    opened = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    yield opened
    opened.close()
