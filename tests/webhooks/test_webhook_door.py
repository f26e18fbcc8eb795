"""Issue 11 item 6: right answers at the door, and metrics where the work happens."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from ci_support import dev_import

# ruff: noqa: E402  (the dev extra is checked before the imports that need it)
dev_import("starlette", "the webhook service needs the 'serve' extra")
dev_import("httpx2", "Starlette's TestClient needs httpx2")

from starlette.testclient import TestClient
from sync_support import seeded_fake
from webhook_support import (
    MemoryInbox,
    event_body,
    service_for,
    signed_headers,
    write_config,
    zendesk_request,
)

from empathy_firewall.state import StateStore
from empathy_firewall.webhooks import WebhookReceiver
from empathy_firewall_zendesk.testing import FakeZendesk


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[StateStore]:
    opened = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    yield opened
    opened.close()


def test_a_zendesk_ticket_event_without_a_ticket_id_is_a_400() -> None:
    from empathy_firewall_zendesk import ZendeskConnector

    fake = FakeZendesk()
    receiver = WebhookReceiver(fake.connect(ZendeskConnector), MemoryInbox(), account="acme")
    data = json.loads(event_body(1, "e-1"))
    data["detail"].pop("id")
    data.pop("subject")
    answer = receiver.receive(zendesk_request(fake, json.dumps(data).encode()))
    assert answer.status == 400
    assert answer.json["reason"] == "malformed_payload"
    assert "ticket id" in answer.json["detail"]


def _sample(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if line.startswith(name) and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_405_and_413_are_json_counted_and_timed_and_no_created_series(
    sqlite_store: StateStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake, _ = seeded_fake(3)
    service = service_for(fake, sqlite_store, tmp_path, max_body_bytes=1024)
    with TestClient(service.app(workers=0)) as client:
        wrong = client.get("/webhooks/zendesk")
        assert wrong.status_code == 405
        assert wrong.json()["reason"] == "method_not_allowed"
        big = b"{" + b" " * 5000 + b"}"
        heads = signed_headers(fake.signing_secret, big, fake.clock.wall())
        assert client.post("/webhooks/zendesk", content=big, headers=heads).status_code == 413
        text = client.get("/metrics").text
    assert "method_not_allowed" in caplog.text
    assert _sample(
        text, "ef_webhooks_rejected_total", connector="zendesk", reason="method_not_allowed"
    ) == (1.0)
    assert _sample(text, "ef_webhooks_received_total", connector="zendesk") == 2.0
    assert _sample(text, "ef_webhook_request_seconds_count", connector="zendesk") == 2.0
    assert "_created" not in text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_a_separate_worker_process_exposes_its_metrics(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'state.db'}")
    port = _free_port()
    exe = Path(sys.executable).with_name("empathy-firewall")
    env = {**os.environ, "ZENDESK_EMAIL": "a@example.com", "ZENDESK_API_TOKEN": "t"}
    env["ZENDESK_WEBHOOK_SECRET"] = "s"
    proc = subprocess.Popen(
        [str(exe), "worker", "--config", str(config), "--metrics-port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        text = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
                    text = r.read().decode()
                break
            except OSError:
                if proc.poll() is not None:
                    break
                time.sleep(0.2)
        assert "ef_inbox_items" in text, proc.stderr.read().decode() if proc.poll() else text
        assert "ef_inbox_processed" in text
        assert "_created" not in text
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
