"""The store fixture: every test in tests/state runs on SQLite and on PostgreSQL.

PostgreSQL tests use 127.0.0.1:5432 (database ``test``, trust auth; override with
``EF_TEST_PG_URL``) in a fresh schema per test, dropped afterwards. They skip
with a reason when the server is unreachable; CI provides it.
"""

from __future__ import annotations

from state_support import store

__all__ = ["store"]
