"""The Starlette app: routes per connector, signed deliveries end to end, health,
readiness, metrics, the streaming size limit, and a 500-delivery burst (10% redelivered)
processed exactly once by two workers on SQLite and on PostgreSQL."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ci_support import dev_import

# ruff: noqa: E402  (the dev extra is checked before the imports that need it)
dev_import("starlette", "the webhook service needs the 'serve' extra")
dev_import("prometheus_client", "the webhook service needs the 'serve' extra")
dev_import("httpx2", "Starlette's TestClient needs httpx2")

from starlette.testclient import TestClient
from sync_support import duplicate_markers, seeded_fake
from webhook_support import event_body, service_for, signed_headers

from empathy_firewall.state import StateStore
from empathy_firewall.state.inbox import status_counts
from empathy_firewall.webhooks.service import WebhookService
from empathy_firewall.webhooks.worker import BatchReport
from empathy_firewall_zendesk.testing import FakeZendesk


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[StateStore]:
    opened = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    yield opened
    opened.close()


def post(client: TestClient, fake: FakeZendesk, body: bytes, **headers: str) -> Any:
    signed = {**signed_headers(fake.signing_secret, body, fake.clock.wall()), **headers}
    return client.post("/webhooks/zendesk", content=body, headers=signed)


def test_routes_health_readiness_and_metrics(sqlite_store: StateStore, tmp_path: Path) -> None:
    fake, _ = seeded_fake(10)
    service = service_for(fake, sqlite_store, tmp_path)
    # the replay window is checked against the real clock here: sign with the wall time
    fake.clock.wall = lambda: __import__("datetime").datetime.now(  # type: ignore[method-assign]
        __import__("datetime").UTC
    )
    with TestClient(service.app(workers=0)) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/readyz").json() == {"status": "ready"}
        ok = post(client, fake, event_body(1005, "m-1"))
        assert (ok.status_code, ok.json()["status"]) == (202, "queued")
        assert post(client, fake, event_body(1005, "m-1")).json()["status"] == "duplicate"
        bad = client.post(
            "/webhooks/zendesk",
            content=event_body(1005, "m-2"),
            headers={"Content-Type": "application/json"},
        )
        assert (bad.status_code, bad.json()["reason"]) == (401, "bad_signature")
        assert (
            client.post(
                "/webhooks/zendesk", content=b"x", headers={"Content-Type": "text/plain"}
            ).status_code
            == 415
        )
        assert client.get("/webhooks/zendesk").status_code == 405
        assert client.post("/webhooks/freshdesk", content=b"{}").status_code == 404
        metrics = client.get("/metrics")
        assert metrics.headers["content-type"].startswith("text/plain")
        text = metrics.text
        # the GET is counted too (a 405 is a request received and rejected)
        assert 'ef_webhooks_received_total{connector="zendesk"} 5.0' in text
        assert 'ef_webhooks_queued_total{connector="zendesk"} 1.0' in text
        assert 'ef_webhooks_duplicates_total{connector="zendesk"} 1.0' in text
        assert 'ef_webhooks_rejected_total{connector="zendesk",reason="bad_signature"} 1.0' in text
        assert 'reason="unsupported_media_type"' in text
        assert 'ef_inbox_items{status="pending"} 1.0' in text
        assert "ef_webhook_request_seconds_bucket" in text
        assert "ef_inbox_processing_seconds" in text


def test_a_client_gone_mid_body_gets_nothing_stored_and_no_answer(
    sqlite_store: StateStore, tmp_path: Path
) -> None:
    """The webhook route is plain ASGI: a delivery whose connection drops before its body
    is complete is never processed (half a signed body is not an event), and nothing is
    sent on the closed connection."""
    import asyncio
    from datetime import UTC, datetime

    fake, _ = seeded_fake(5)
    service = service_for(fake, sqlite_store, tmp_path)
    body = event_body(1005, "cut-off")
    signed = signed_headers(fake.signing_secret, body, datetime.now(UTC))  # the app's clock
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/webhooks/zendesk",
        "headers": [(k.lower().encode(), v.encode()) for k, v in signed.items()],
    }
    arriving = [
        {"type": "http.request", "body": body[:20], "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return arriving.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(service.app(workers=0)(scope, receive, send))  # type: ignore[arg-type]
    assert sent == []
    assert status_counts(sqlite_store) == {}
    # the same delivery whole is stored
    arriving[:] = [{"type": "http.request", "body": body, "more_body": False}]
    asyncio.run(service.app(workers=0)(scope, receive, send))  # type: ignore[arg-type]
    assert sent[0]["status"] == 202
    assert status_counts(sqlite_store) == {"pending": 1}


def test_a_body_over_the_limit_is_413_without_reading_it_all(
    sqlite_store: StateStore, tmp_path: Path
) -> None:
    fake, _ = seeded_fake(5)
    service = service_for(fake, sqlite_store, tmp_path, max_body_bytes=1024)

    def chunks() -> Iterator[bytes]:
        yield b"{" + b" " * 1000
        yield b" " * 1000
        yield b"}"

    with TestClient(service.app(workers=0)) as client:
        streamed = client.post(
            "/webhooks/zendesk", content=chunks(), headers={"Content-Type": "application/json"}
        )
        declared = client.post(
            "/webhooks/zendesk",
            content=b"{" + b" " * 2000 + b"}",
            headers={"Content-Type": "application/json"},
        )
    assert (streamed.status_code, streamed.json()["reason"]) == (413, "body_too_large")
    assert declared.status_code == 413
    assert status_counts(sqlite_store) == {}


def test_readiness_fails_when_the_store_is_unreachable(
    sqlite_store: StateStore, tmp_path: Path
) -> None:
    fake, _ = seeded_fake(5)
    service = service_for(fake, sqlite_store, tmp_path)
    service.ready = lambda: "state store unreachable (OperationalError)"  # type: ignore[method-assign]
    with TestClient(service.app(workers=0)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["reason"].startswith("state store unreachable")


def test_in_process_workers_process_what_the_app_accepts(
    sqlite_store: StateStore, tmp_path: Path
) -> None:
    fake, _now = seeded_fake(20)
    service = service_for(
        fake, sqlite_store, tmp_path, lock=True, workers=1, idle_sleep_seconds=0.02
    )
    fake.clock.wall = lambda: __import__("datetime").datetime.now(  # type: ignore[method-assign]
        __import__("datetime").UTC
    )
    with TestClient(service.app()) as client:
        for tid in list(fake.state.tickets)[:10]:
            assert post(client, fake, event_body(tid, f"ip-{tid}")).status_code == 202
        deadline = time.monotonic() + 20
        while status_counts(sqlite_store).get("done", 0) < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert status_counts(sqlite_store) == {"done": 10}
        assert 'ef_inbox_processed_total{connector="zendesk"} 10.0' in client.get("/metrics").text
    assert duplicate_markers({t: fake.notes(t) for t in fake.state.tickets}) == []


def burst(service: WebhookService, fake: FakeZendesk, total: int, rng: random.Random) -> int:
    """``total`` deliveries, 10% of them redeliveries; returns the unique accepted count."""
    receiver = service.receivers["zendesk"]
    tickets = list(fake.state.tickets)
    sent: list[bytes] = []
    unique = 0
    from webhook_support import zendesk_request

    for n in range(total):
        if sent and rng.random() < 0.10:
            body = rng.choice(sent)
        else:
            body = event_body(rng.choice(tickets), f"burst-{n}")
            sent.append(body)
        response = receiver.receive(zendesk_request(fake, body))
        assert response.status == 202
        unique += response.json["status"] == "queued"
    assert unique == len(sent)
    return unique


def test_a_burst_with_redeliveries_is_processed_exactly_once_by_two_workers(
    store: StateStore, tmp_path: Path
) -> None:
    fake, now = seeded_fake(40)
    service = service_for(fake, store, tmp_path, lock=True, batch=20)
    unique = burst(service, fake, 500, random.Random(6))
    reports = [BatchReport(), BatchReport()]
    workers = [service.worker(now=lambda: now) for _ in reports]
    deadline = time.monotonic() + 60

    def work(n: int) -> None:
        # items that waited for the other worker's ticket lease come back a second later
        while status_counts(store) != {"done": unique} and time.monotonic() < deadline:
            reports[n].add(workers[n].run(until_empty=True))
            time.sleep(0.2)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    ids = [i for r in reports for i in r.completed_ids]
    assert len(ids) == len(set(ids)) == unique  # every accepted event processed exactly once
    assert status_counts(store) == {"done": unique}
    assert sum(r.lost for r in reports) == 0
    assert duplicate_markers({t: fake.notes(t) for t in fake.state.tickets}) == []


def test_a_store_outage_during_the_write_is_503_with_retry_after(
    sqlite_store: StateStore, tmp_path: Path
) -> None:
    fake, _ = seeded_fake(5)
    service = service_for(fake, sqlite_store, tmp_path)
    fake.clock.wall = lambda: __import__("datetime").datetime.now(  # type: ignore[method-assign]
        __import__("datetime").UTC
    )

    class Broken:
        def begin(self) -> Any:
            raise OSError("gone")

    with TestClient(service.app(workers=0)) as client:
        service.writer.store = type("S", (), {"engine": Broken()})()  # type: ignore[assignment]
        response = post(client, fake, event_body(1005, "down-1"))
    assert response.status_code == 503
    assert response.json()["reason"] == "store_unavailable"
    assert response.headers["retry-after"] == "30"
