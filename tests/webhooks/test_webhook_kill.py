"""A real ``kill -9``: a ``worker`` process dies while its bulk update is in flight; its
claim expires, another worker finishes the item, and the note is on the ticket once.
Runs on SQLite and on PostgreSQL (skipped with the reason when the server is unreachable).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from ci_support import dev_import

# ruff: noqa: E402  (the dev extra is checked before the imports that need it)
dev_import("prometheus_client", "the webhook service needs the 'serve' extra")

from state_support import pg_schema, pg_url
from sync_support import SAMPLE, duplicate_markers
from webhook_support import event_body, signed_headers

from empathy_firewall.connectors.base import Headers
from empathy_firewall.state import StateStore
from empathy_firewall.state import schema as t
from empathy_firewall.state.inbox import status_counts
from empathy_firewall.webhooks.request import WebhookRequest
from empathy_firewall.webhooks.service import WebhookService
from empathy_firewall_zendesk.testing.server import serve

SECRET = "kill-test-secret"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def state(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str | None]]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.db'}", None
        return
    with pg_schema() as schema:
        yield pg_url(), schema


def test_a_killed_worker_leaves_its_items_to_another_and_nothing_is_written_twice(
    tmp_path: Path, state: tuple[str, str | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, schema = state
    server, fake, _ = serve(SAMPLE, job_seconds=3.0)  # the bulk job stays running for 3 s
    # one thread per connection: a keep-alive connection must not block the next client
    server.__class__ = ThreadingHTTPServer
    server.daemon_threads = True  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    config = tmp_path / "firewall.toml"
    lines = [
        "[connector]",
        'name = "zendesk"',
        f'base_url = "{base}"',
        "job_poll_interval_seconds = 0.1",
        "[state]",
        f'url = "{url}"',
        *([f'schema = "{schema}"'] if schema else []),
        "[webhooks]",
        "lease_seconds = 5",
        "settle_seconds = 0",  # the 25 events make one batch as soon as the worker starts
    ]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {
        **os.environ,
        "ZENDESK_EMAIL": fake.email,
        "ZENDESK_API_TOKEN": fake.token,
        "ZENDESK_WEBHOOK_SECRET": SECRET,
    }
    store = StateStore(url, schema=schema)
    monkeypatch.setenv("ZENDESK_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("ZENDESK_EMAIL", fake.email)
    monkeypatch.setenv("ZENDESK_API_TOKEN", fake.token)
    try:
        service = WebhookService.from_file(config, store=store)
        open_tickets = [
            t for t in sorted(fake.state.tickets) if fake.ticket(t)["status"] != "closed"
        ]
        tickets = open_tickets[:25]  # one batch; several of them get notes
        for tid in tickets:
            body = event_body(tid, f"kill-{tid}")
            now = datetime.now(UTC)
            headers = Headers(signed_headers(SECRET, body, now))
            request = WebhookRequest("POST", "/webhooks/zendesk", headers, body, now)
            assert service.receivers["zendesk"].receive(request).status == 202
        worker = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from empathy_firewall.cli import main; main()",
                "worker",
                "--config",
                str(config),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while fake.count("update_many") == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert fake.count("update_many") == 1, "the worker never wrote"
            worker.kill()  # SIGKILL while it waits for the bulk job: no cleanup runs
        finally:
            worker.wait(10)
        assert status_counts(store) == {"claimed": len(tickets)}
        time.sleep(3.2)  # the job finishes on the helpdesk: the note is there
        with store.engine.begin() as conn:  # fast-forward the 5 s lease
            conn.execute(t.inbox.update().values(claimed_until=datetime(2000, 1, 1, tzinfo=UTC)))
        report = service.worker().run(until_empty=True)
        assert report.processed == len(tickets)
        assert status_counts(store) == {"done": len(tickets)}
        notes = {tid: [c[0] for c in v["comments"]] for tid, v in fake.snapshot().items()}
        assert sum(1 for tid in tickets if any("[empathy-firewall:" in n for n in notes[tid]))
        assert duplicate_markers(notes) == []
        assert fake.count("update_many") == 1  # the survivor found the writes: none again
        service.close()
    finally:
        server.shutdown()
        server.server_close()
        store.close()
