"""The Flask and FastAPI examples mount the receiver and answer as the bundled app does.

Each test skips, with the reason, when its framework is not installed (they are
development dependencies, not the library's).
"""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from ci_support import dev_import
from sync_support import seeded_fake
from webhook_support import event_body, service_for, signed_headers

from empathy_firewall.state import StateStore
from empathy_firewall.state.inbox import status_counts

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "webhooks"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def setup(tmp_path: Path) -> tuple[Any, Any, StateStore]:
    fake, _ = seeded_fake(5)
    fake.clock.wall = lambda: datetime.now(UTC)  # type: ignore[method-assign]
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    return fake, service_for(fake, store, tmp_path), store


def test_the_flask_example_verifies_queues_and_dedupes(tmp_path: Path) -> None:
    dev_import("flask", "Flask is not installed (a dev extra)")
    fake, service, store = setup(tmp_path)
    client = load("flask_app").create_app(service).test_client()
    body = event_body(1005, "flask-1")
    headers = signed_headers(fake.signing_secret, body, datetime.now(UTC))
    first = client.post("/helpdesk/webhooks/zendesk", data=body, headers=headers)
    again = client.post("/helpdesk/webhooks/zendesk", data=body, headers=headers)
    forged = client.post(
        "/helpdesk/webhooks/zendesk", data=body, headers={**headers, "Content-Type": "text/xml"}
    )
    unsigned = client.post(
        "/helpdesk/webhooks/zendesk", data=body, headers={"Content-Type": "application/json"}
    )
    assert (first.status_code, first.get_json()["status"]) == (202, "queued")
    assert again.get_json()["status"] == "duplicate"
    assert forged.status_code == 415
    assert (unsigned.status_code, unsigned.get_json()["reason"]) == (401, "bad_signature")
    assert client.post("/helpdesk/webhooks/nope", data=body).status_code == 404
    assert client.get("/helpdesk/readyz").status_code == 200
    assert status_counts(store) == {"pending": 1}
    service.close()


def test_the_fastapi_example_verifies_queues_and_dedupes(tmp_path: Path) -> None:
    dev_import("fastapi", "FastAPI is not installed (a dev extra)")
    dev_import("httpx2", "the test client (Starlette's TestClient) needs httpx2")
    from starlette.testclient import TestClient

    fake, service, store = setup(tmp_path)
    app = load("fastapi_app").create_app(service)
    body = event_body(1005, "fastapi-1")
    headers = signed_headers(fake.signing_secret, body, datetime.now(UTC))
    with TestClient(app) as client:
        first = client.post("/helpdesk/webhooks/zendesk", content=body, headers=headers)
        again = client.post("/helpdesk/webhooks/zendesk", content=body, headers=headers)
        big = client.post(
            "/helpdesk/webhooks/zendesk", content=b"{" + b" " * 300_000 + b"}", headers=headers
        )
        assert client.post("/helpdesk/webhooks/nope", content=body).status_code == 404
    assert (first.status_code, first.json()["status"]) == (202, "queued")
    assert again.json()["status"] == "duplicate"
    assert (big.status_code, big.json()["reason"]) == (413, "body_too_large")
    assert status_counts(store) == {"pending": 1}
    service.close()


def test_the_example_configuration_loads() -> None:
    from empathy_firewall.webhooks.settings import load_serve_config

    config = load_serve_config(EXAMPLES / "firewall.toml")
    assert list(config.connectors) == ["zendesk"]
    assert config.webhooks.workers == 1
