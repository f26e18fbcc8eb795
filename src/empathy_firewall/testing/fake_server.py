"""Serve any fake helpdesk as a real local HTTP server, and what seeding one from a ticket
file needs whatever the vendor.

A vendor's distribution wires its fake to these (the Zendesk one:
``python -m empathy_firewall_zendesk.testing.server --seed examples/sample_helpdesk.jsonl``).
:func:`http_server` answers every request through the fake's own dispatcher, plus two
endpoints for tests: ``GET /_fake/snapshot`` (the fake's :meth:`~FakeHelpdesk.snapshot`)
and ``GET /_fake/stats`` (requests received, ``Retry-After`` violations). For tests and
demos only.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from empathy_firewall.connectors.base import Headers
from empathy_firewall.models import Agent, Customer, EventType, Ticket, TicketStatus
from empathy_firewall.testing.fake_helpdesk import FakeHelpdesk

__all__ = [
    "OPT_IN_FIELD",
    "ServerClock",
    "agent_email",
    "attach",
    "customer_fields",
    "first_state",
    "http_server",
    "opt_in_value",
    "run_until_killed",
    "shift_to",
]


class ServerClock:
    """Wall time frozen at ``wall_at``; request time (``now``) runs with the real clock.

    Tickets the firewall touches are then not exported again within a run, while bulk
    jobs complete and rate limits apply in real time.
    """

    def __init__(self, wall_at: datetime) -> None:
        self._wall = wall_at
        self._start = time.monotonic()
        self.sleeps: list[float] = []

    def now(self) -> float:
        """Real seconds since the server started."""
        return time.monotonic() - self._start

    def sleep(self, seconds: float) -> None:
        """Never used by the server; present for the Clock protocol."""
        self.sleeps.append(seconds)

    def advance(self, seconds: float) -> None:
        """Move the frozen wall clock forward."""
        self._wall += timedelta(seconds=max(0.0, seconds))

    def wall(self) -> datetime:
        """The helpdesk's (frozen) wall-clock time."""
        return self._wall


#: the user field where the seeded agents keep their opt-ins (see ``agent_opt_in_field``)
OPT_IN_FIELD = "empathy_firewall_opt_in"


def opt_in_value(agent: Agent) -> str:
    """An agent's opt-ins as the text the seeded opt-in user field holds."""
    chosen = agent.opt_in
    words = [
        word
        for word, on in (
            ("strain", chosen.strain_tracking),
            ("breaks", chosen.break_prompts),
            ("recognition", chosen.recognition),
        )
        if on
    ]
    return ",".join(words)


def agent_email(agent: Agent | None, agent_id: str = "", name: str | None = None) -> str:
    """The agent's e-mail, or a made-up one from their name or id (the file has none)."""
    if agent is not None and agent.email:
        return agent.email
    if agent is not None:
        agent_id, name = agent.id, agent.name
    slug = re.sub(r"[^a-z0-9]+", ".", (name or agent_id).lower()).strip(".")
    return f"{slug or agent_id}@support.example.com"


def customer_fields(customer: Customer) -> dict[str, Any]:
    """The requester's loyalty tier, lifetime value, order count and other fields, as a
    helpdesk keeps them on the contact (user fields, custom fields)."""
    return {
        "loyalty_tier": customer.loyalty_tier,
        "lifetime_value": customer.lifetime_value,
        "order_count": customer.order_count,
        **customer.fields,
    }


def first_state(ticket: Ticket) -> tuple[str | None, str | None, TicketStatus | None]:
    """The ticket's assignee, group and status before its first change (``None`` status:
    the file records no status change, the seeder picks the opening one)."""
    assignee = ticket.assignee.id if ticket.assignee is not None else None
    group = ticket.group
    for event in ticket.events:
        if event.type is EventType.REASSIGNED:
            assignee, group = event.from_assignee, event.from_group
            break
    status = next(
        (
            e.from_status
            for e in ticket.events
            if e.type is EventType.STATUS_CHANGED and e.from_status is not None
        ),
        None,
    )
    return assignee, group, status


def shift_to(tickets: list[Ticket], now: datetime | None) -> tuple[datetime, timedelta]:
    """The server's start (``now`` or the real time, whole seconds) and the shift that puts
    the tickets' latest activity five minutes before it."""
    started = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    latest = max((t.last_activity_at for t in tickets), default=started)
    return started, (started - timedelta(minutes=5)) - latest


def _handler(fake: FakeHelpdesk, lock: threading.Lock) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            """No Nagle delay: headers and body go out as separate writes."""
            super().setup()
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: no access log."""

        def _reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _json(self, data: Any) -> None:
            self._reply(200, {"Content-Type": "application/json"}, json.dumps(data).encode())

        def _any(self) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            with lock:
                if split.path == "/_fake/snapshot":
                    self._json({str(k): v for k, v in fake.snapshot().items()})
                    return
                if split.path == "/_fake/stats":
                    self._json({"requests": len(fake.log), "violations": len(fake.violations)})
                    return
                try:
                    payload = json.loads(raw) if raw else None
                except ValueError:
                    payload = None
                status, headers, body = fake._handle(  # the fake's own dispatcher
                    self.command.upper(),
                    split.path,
                    dict(parse_qsl(split.query)),
                    Headers(dict(self.headers.items())),
                    payload,
                )
            if status < 0:  # an injected timeout: drop the connection
                self.close_connection = True
                return
            self._reply(status, headers, body)

        do_GET = do_PUT = do_POST = do_DELETE = _any

    return Handler


def http_server(port: int = 0) -> tuple[HTTPServer, str]:
    """A loopback HTTP server (``port`` 0 picks a free one) and its base URL; give it a
    fake with :func:`attach` once the fake (which needs the URL) is built."""
    server = HTTPServer(("127.0.0.1", port), BaseHTTPRequestHandler)
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def attach(server: HTTPServer, fake: FakeHelpdesk) -> None:
    """Answer ``server``'s requests with ``fake`` (one request at a time)."""
    server.RequestHandlerClass = _handler(fake, threading.Lock())


def run_until_killed(
    server: HTTPServer, banner: str, started: datetime, port_file: Path | None = None
) -> None:
    """Print ``banner URL now=ISO`` (and write ``URL ISO`` to ``port_file``), then serve
    until interrupted."""
    base = f"http://127.0.0.1:{server.server_address[1]}"
    if port_file is not None:
        port_file.write_text(f"{base} {started.isoformat()}\n", encoding="utf-8")
    print(f"{banner} {base} now={started.isoformat()}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
