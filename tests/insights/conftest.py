"""Insight tests: a fresh store on SQLite and on PostgreSQL (helpers from tests/state)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "state"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sync"))

from state_support import store

__all__ = ["store"]  # the shared fixture: every backend, from tests/state
