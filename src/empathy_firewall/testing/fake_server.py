"""Run the fake Zendesk as a real local HTTP server, seeded from a normalized ticket file.

::

    python -m empathy_firewall.testing.fake_server --seed examples/sample_helpdesk.jsonl \\
        --port 8765

It prints one line, ``fake-zendesk http://127.0.0.1:PORT now=ISO``, then serves until
killed. The sample's timestamps are shifted so its latest activity is five minutes before
the server started; the helpdesk's wall clock then stands still (tickets the firewall
touches are not exported again within the run), while its request clock runs in real time
(bulk jobs complete, rate limits apply). Credentials are the fake's fixed ones:
``ZENDESK_EMAIL=admin@example.com`` and ``ZENDESK_API_TOKEN=fake-api-token``.

Two extra endpoints help tests: ``GET /_fake/snapshot`` (tickets' tags, status and
comments) and ``GET /_fake/stats`` (requests received). For tests and demos only.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from empathy_firewall.connectors.base import Headers
from empathy_firewall.models import Role, Ticket
from empathy_firewall.testing.fake_zendesk import FakeZendesk
from empathy_firewall.ticketfile import iter_tickets

__all__ = ["ServerClock", "main", "seed_from_tickets", "serve"]

_STATUS = {"on_hold": "hold"}


class ServerClock:
    """Wall time frozen at ``wall_at``; request time (``now``) runs with the real clock."""

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


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def seed_from_tickets(fake: FakeZendesk, tickets: Iterable[Ticket], shift: timedelta) -> int:
    """Load normalized tickets into ``fake`` (times moved by ``shift``); returns the count."""
    users: dict[str, int] = {}
    groups: dict[str, int] = {}

    def user(key: str, name: str, role: str, email: str | None = None) -> int:
        if key not in users:
            users[key] = fake.add_user(name=name, role=role, email=email)
        return users[key]

    count = 0
    for ticket in tickets:
        requester = user(
            "c:" + ticket.requester.id,
            ticket.requester.name or ticket.requester.id,
            "end-user",
            ticket.requester.email,
        )
        assignee = None
        if ticket.assignee is not None:
            assignee = user("a:" + ticket.assignee.id, ticket.assignee.name or "Agent", "agent")
        group = None
        if ticket.group:
            group = groups.get(ticket.group) or fake.add_group(ticket.group)
            groups[ticket.group] = group
        tid = fake.add_ticket(
            subject=ticket.subject,
            body=".",
            requester_id=requester,
            status=_STATUS.get(ticket.status.value, ticket.status.value),
            priority=ticket.priority.value,
            tags=ticket.tags,
            assignee_id=assignee,
            group_id=group,
        )
        record = fake.state.tickets[tid]
        created = ticket.created_at + shift
        updated = ticket.last_activity_at + shift
        record["created_at"] = _iso(created)
        record["updated_at"] = _iso(updated)
        record["generated_timestamp"] = int(updated.timestamp())
        record["via"] = {"channel": ticket.channel.value}
        if ticket.metrics is not None and ticket.metrics.reopens is not None:
            fake.state.metrics[tid]["reopens"] = ticket.metrics.reopens
        comments: list[dict[str, Any]] = []
        for number, comment in enumerate(ticket.comments, start=1):
            if comment.author_role is Role.CUSTOMER:
                author = requester
            elif comment.author_role is Role.AGENT:
                author = user("a:" + (comment.author_id or "agent"), "Agent", "agent")
            else:
                author = -1  # a system message
            comments.append(
                {
                    "id": tid * 1000 + number,
                    "type": "Comment",
                    "author_id": author,
                    "body": comment.text,
                    "plain_body": comment.text,
                    "public": comment.public,
                    "created_at": _iso(comment.created_at + shift),
                    "via": {"channel": comment.channel.value if comment.channel else "web"},
                }
            )
        fake.state.comments[tid] = comments
        count += 1
    return count


def _handler(fake: FakeZendesk, lock: threading.Lock) -> type[BaseHTTPRequestHandler]:
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

        def _any(self) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            with lock:
                if split.path == "/_fake/snapshot":
                    data = {str(k): v for k, v in fake.snapshot().items()}
                    self._reply(
                        200, {"Content-Type": "application/json"}, json.dumps(data).encode()
                    )
                    return
                if split.path == "/_fake/stats":
                    stats = {"requests": len(fake.log), "violations": len(fake.violations)}
                    self._reply(
                        200, {"Content-Type": "application/json"}, json.dumps(stats).encode()
                    )
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


def serve(
    seed: Path,
    *,
    port: int = 0,
    export_per_minute: int = 10,
    job_seconds: float = 0.5,
    now: datetime | None = None,
) -> tuple[HTTPServer, FakeZendesk, datetime]:
    """Build a seeded fake and an HTTP server for it (call ``serve_forever`` to run).

    ``now`` fixes the helpdesk's wall clock (default: the real time at start), so two
    servers seeded alike hold identical tickets.
    """
    tickets = list(iter_tickets(seed))
    started = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    latest = max((t.last_activity_at for t in tickets), default=started)
    shift = (started - timedelta(minutes=5)) - latest
    server = HTTPServer(("127.0.0.1", port), BaseHTTPRequestHandler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    fake = FakeZendesk(
        base_url=base,
        clock=ServerClock(started),  # type: ignore[arg-type]
        export_per_minute=export_per_minute,
        job_seconds=job_seconds,
    )
    seed_from_tickets(fake, tickets, shift)
    server.RequestHandlerClass = _handler(fake, threading.Lock())
    return server, fake, started


def main(argv: list[str] | None = None) -> None:
    """Command line: seed, print the address, serve until killed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=Path, required=True, help="normalized ticket JSONL")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--port-file", type=Path, help="also write the base URL here")
    parser.add_argument("--export-per-minute", type=int, default=10)
    parser.add_argument("--job-seconds", type=float, default=0.5)
    parser.add_argument("--now", help="the helpdesk's wall-clock time (ISO 8601, with zone)")
    args = parser.parse_args(argv)
    server, _fake, started = serve(
        args.seed,
        port=args.port,
        export_per_minute=args.export_per_minute,
        job_seconds=args.job_seconds,
        now=datetime.fromisoformat(args.now) if args.now else None,
    )
    base = f"http://127.0.0.1:{server.server_address[1]}"
    if args.port_file is not None:
        args.port_file.write_text(f"{base} {started.isoformat()}\n", encoding="utf-8")
    print(f"fake-zendesk {base} now={started.isoformat()}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()
