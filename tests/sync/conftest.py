"""Sync tests share the PostgreSQL helpers of tests/state."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "state"))

from state_support import store  # the fresh store on each backend, for every test here

__all__ = ["store"]
