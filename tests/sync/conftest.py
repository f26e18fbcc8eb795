"""Sync tests share the PostgreSQL helpers of tests/state."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "state"))
