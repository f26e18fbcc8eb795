"""Issue 11 item 5: a locked SQLite store must not hold a webhook past the helpdesk's
timeout: the answer is 503 + Retry-After within the accept bound, /readyz says why, and
the delivery is stored once the lock is gone."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ci_support import dev_import

# ruff: noqa: E402  (the dev extra is checked before the imports that need it)
dev_import("starlette", "the webhook service needs the 'serve' extra")
dev_import("httpx2", "Starlette's TestClient needs httpx2")

from starlette.testclient import TestClient
from sync_support import seeded_fake
from webhook_support import event_body, service_for, signed_headers

from empathy_firewall.state import StateStore
from empathy_firewall.state.inbox import status_counts


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[StateStore]:
    opened = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    yield opened
    opened.close()


def test_a_locked_store_answers_503_quickly_and_readyz_reports_it(
    sqlite_store: StateStore, tmp_path: Path
) -> None:
    fake, _ = seeded_fake(3)
    fake.clock.wall = lambda: __import__("datetime").datetime.now(  # type: ignore[method-assign]
        __import__("datetime").UTC
    )
    service = service_for(fake, sqlite_store, tmp_path, accept_timeout_seconds=1.0)
    body = event_body(1001, "locked-1")
    with TestClient(service.app(workers=0)) as client:
        assert client.get("/readyz").status_code == 200
        blocker = sqlite3.connect(str(tmp_path / "state.db"), timeout=1)
        blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        try:
            started = time.monotonic()
            answer = client.post(
                "/webhooks/zendesk",
                content=body,
                headers=signed_headers(fake.signing_secret, body, fake.clock.wall()),
            )
            elapsed = time.monotonic() - started
            assert answer.status_code == 503
            assert answer.json()["reason"] == "store_unavailable"
            assert 0 < int(answer.headers["Retry-After"]) < 60
            assert elapsed < 4, elapsed
            time.sleep(0.3)
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert "blocked" in ready.json()["reason"]
        finally:
            blocker.rollback()
            blocker.close()
        deadline = time.monotonic() + 10
        while client.get("/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        again = client.post(
            "/webhooks/zendesk",
            content=body,
            headers=signed_headers(fake.signing_secret, body, fake.clock.wall()),
        )
        assert again.status_code == 202
    assert status_counts(sqlite_store) == {"pending": 1}
