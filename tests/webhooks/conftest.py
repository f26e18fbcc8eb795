"""Webhook tests share the PostgreSQL helpers of tests/state and the sample fakes of tests/sync."""

from __future__ import annotations

import sys
from pathlib import Path

_TESTS = Path(__file__).resolve().parents[1]
for folder in ("state", "sync", "webhooks"):
    if str(_TESTS / folder) not in sys.path:
        sys.path.insert(0, str(_TESTS / folder))

from state_support import store  # noqa: E402  (the fresh store on each backend, for every test here)

__all__ = ["store"]
