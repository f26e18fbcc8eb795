"""Run the fake Zendesk as a real local HTTP server, seeded from a normalized ticket file.

::

    python -m empathy_firewall_zendesk.testing.server --seed examples/sample_helpdesk.jsonl \\
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
import sys
from datetime import datetime
from http.server import HTTPServer
from pathlib import Path

from empathy_firewall.testing.fake_server import (
    ServerClock,
    attach,
    http_server,
    run_until_killed,
    shift_to,
)
from empathy_firewall.ticketfile import iter_tickets
from empathy_firewall_zendesk.testing.fake import FakeZendesk
from empathy_firewall_zendesk.testing.seed import seed_from_tickets

__all__ = ["main", "serve"]


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
    started, shift = shift_to(tickets, now)
    server, base = http_server(port)
    fake = FakeZendesk(
        base_url=base,
        clock=ServerClock(started),  # type: ignore[arg-type]
        export_per_minute=export_per_minute,
        job_seconds=job_seconds,
    )
    seed_from_tickets(fake, tickets, shift)
    attach(server, fake)
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
    run_until_killed(server, "fake-zendesk", started, args.port_file)
    sys.exit(0)


if __name__ == "__main__":
    main()
