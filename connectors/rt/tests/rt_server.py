"""Access to the real RT 5 server the RT tests run against (``scripts/rt5.sh start``).

The URL comes from ``EF_RT_URL`` (``export EF_RT_URL="$(sudo scripts/rt5.sh start)"``); the
RT superuser is root / ``password`` (``EF_RT_PASSWORD`` to change). Without a reachable
server the tests skip with the reason; under CI (``CI`` set) they fail instead.

Token auth tests also need ``EF_RT_TOKEN`` (``sudo scripts/rt5.sh token``).

Every test works in a queue of its own, so tests never see each other's tickets and the
server never needs a reset between them.
"""

from __future__ import annotations

import os
import socket
import socketserver
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any

import pytest
import requests
from empathy_firewall_rt import RtConnector
from empathy_firewall_rt.parse import ref_id

from empathy_firewall.wire import Send

TAGS_FIELD = "Tags"


def require_rt() -> str:
    """The RT URL, or skip (fail under CI) saying why there is none."""
    url = os.environ.get("EF_RT_URL", "").rstrip("/")
    reason = ""
    if not url:
        reason = "EF_RT_URL is not set: run `sudo scripts/rt5.sh install` and "
        reason += '`export EF_RT_URL="$(sudo scripts/rt5.sh start)"`'
    else:
        try:
            answer = requests.get(f"{url}/REST/2.0/rt", auth=root_auth(), timeout=10)
            if answer.status_code != 200:
                reason = f"RT at {url} answered {answer.status_code} to root"
        except requests.RequestException as exc:
            reason = f"RT at {url} is not reachable ({type(exc).__name__})"
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"RT tests must run in CI: {reason}")
        pytest.skip(reason)
    return url


def require_token() -> str:
    """A REST 2 auth token for root (``EF_RT_TOKEN``), or skip (fail under CI)."""
    token = os.environ.get("EF_RT_TOKEN", "").strip()
    if not token:
        reason = 'EF_RT_TOKEN is not set: export EF_RT_TOKEN="$(sudo scripts/rt5.sh token)"'
        if os.environ.get("CI"):
            pytest.fail(f"RT tests must run in CI: {reason}")
        pytest.skip(reason)
    return token


def root_auth() -> tuple[str, str]:
    """The RT superuser's credentials (the test server's, never a real one)."""
    return ("root", os.environ.get("EF_RT_PASSWORD", "password"))


def root_env() -> dict[str, str]:
    """The environment the connector reads the credentials from."""
    user, password = root_auth()
    return {"RT_USER": user, "RT_PASSWORD": password}


class RtAdmin:
    """Direct REST 2 calls as root: set up queues and tickets, read back what happened."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.api = f"{url}/REST/2.0"
        self.session = requests.Session()
        self.session.auth = root_auth()

    def call(self, method: str, path: str, body: Any = None, **params: str) -> Any:
        answer = self.session.request(
            method, f"{self.api}{path}", json=body, params=params or None, timeout=30
        )
        assert answer.status_code < 300, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json() if answer.content else None

    def ensure_tags_field(self) -> None:
        found = self.call("POST", "/customfields", [{"field": "Name", "value": TAGS_FIELD}])
        if not found["total"]:
            self.call(
                "POST",
                "/customfield",
                {
                    "Name": TAGS_FIELD,
                    "Type": "Freeform",
                    "MaxValues": 0,
                    "LookupType": "RT::Queue-RT::Ticket",
                    "Queue": 0,
                    "Description": "tags for empathy-firewall",
                },
            )

    def new_queue(self) -> str:
        name = f"ef-{uuid.uuid4().hex[:10]}"
        self.call("POST", "/queue", {"Name": name})
        return name

    def new_agent(self) -> str:
        """A privileged user (``scripts/rt5.sh install`` lets those own tickets)."""
        name = f"agent-{uuid.uuid4().hex[:8]}"
        self.call(
            "POST", "/user", {"Name": name, "EmailAddress": f"{name}@localhost", "Privileged": 1}
        )
        return name

    def new_ticket(self, queue: str, text: str, subject: str = "Help", **extra: Any) -> str:
        body = {
            "Queue": queue,
            "Subject": subject,
            "Requestor": f"{uuid.uuid4().hex[:8]}@example.com",
            "Content": text,
            "ContentType": "text/plain",
            **extra,
        }
        return str(self.call("POST", "/ticket", body)["id"])

    def tickets(self, queue: str) -> list[str]:
        found = self.call("GET", "/tickets", query=f"Queue = '{queue}'", per_page="100")
        return sorted((str(i["id"]) for i in found["items"]), key=int)

    def state(self, queue: str) -> dict[str, Any]:
        """Per ticket: every transaction id and type, the tags and the priority."""
        out: dict[str, Any] = {}
        for tid in self.tickets(queue):
            record = self.call("GET", f"/ticket/{tid}")
            history = self.call("GET", f"/ticket/{tid}/history", fields="Type", per_page="100")
            tags = [f["values"] for f in record["CustomFields"] if f["name"] == TAGS_FIELD]
            out[tid] = {
                "transactions": [(t["id"], t["Type"]) for t in history["items"]],
                "tags": tags[0] if tags else None,
                "priority": record["Priority"],
            }
        return out

    def comments(self, tid: str) -> list[str]:
        """The text of every internal comment on a ticket."""
        history = self.call("GET", f"/ticket/{tid}/history", fields="Type", per_page="100")
        ids = {t["id"] for t in history["items"] if t["Type"] == "Comment"}
        parts = self.call(
            "GET",
            f"/ticket/{tid}/attachments",
            fields="TransactionId,ContentType,Content",
            per_page="100",
        )
        return [
            p["Content"]
            for p in parts["items"]
            if ref_id(p["TransactionId"]) in ids and p["ContentType"] == "text/plain"
        ]


def connector(url: str, queue: str, transport: Send | None = None, **config: Any) -> RtConnector:
    """A connector for one test queue, looking back far enough for any test ticket."""
    raw: Mapping[str, Any] = {
        "base_url": url,
        "queues": [queue],
        "settle_seconds": 0,
        "initial_lookback_minutes": 24 * 60,
        **config,
    }
    made = RtConnector.from_config(raw, env=root_env(), transport=transport)
    assert isinstance(made, RtConnector)
    return made


def settle() -> None:
    """Wait until changes made now lie before the server-clock bound of the next poll."""
    time.sleep(1.1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Pipe(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        proxy: Proxy = self.server.proxy  # type: ignore[attr-defined]
        if not proxy.admit():
            return
        with socket.create_connection(proxy.target) as upstream:
            upstream.settimeout(60)
            self.request.settimeout(60)
            done = threading.Event()

            def pump(src: socket.socket, dst: socket.socket) -> None:
                try:
                    while chunk := src.recv(65536):
                        dst.sendall(chunk)
                except OSError:
                    pass
                finally:
                    done.set()

            threading.Thread(target=pump, args=(upstream, self.request), daemon=True).start()
            pump(self.request, upstream)
            done.wait(60)


class Proxy:
    """A loopback TCP proxy in front of RT that can "take RT down": after ``limit``
    connections it stops listening, so every later request is refused."""

    def __init__(self, target: tuple[str, int], port: int, limit: int | None = None) -> None:
        self.target, self.port, self.limit, self.count = target, port, limit, 0
        self._lock = threading.Lock()
        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", port), _Pipe)
        self.server.daemon_threads = True
        self.server.proxy = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def admit(self) -> bool:
        with self._lock:
            self.count += 1
            if self.limit is not None and self.count > self.limit:
                threading.Thread(target=self.stop, daemon=True).start()
                return False
            return True

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @classmethod
    def to(cls, url: str, port: int, limit: int | None = None) -> Proxy:
        """A proxy on ``port`` in front of the RT at ``url``."""
        host, _, target_port = url.split("://", 1)[1].partition(":")
        return cls((host, int(target_port)), port, limit)
