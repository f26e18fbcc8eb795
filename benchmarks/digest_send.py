"""Benchmark: queueing agent prompts and sending digests through a real local SMTP server.

Run from the repository root::

    python benchmarks/digest_send.py                       # 500 agents x 25 prompts, SQLite
    python benchmarks/digest_send.py --agents 100 --prompts 5
    python benchmarks/digest_send.py --url postgresql+psycopg://postgres@127.0.0.1:5432/test

It prints, side by side in one run: the time to queue every prompt (one transaction, as a
sync page does), the digest run that sends one digest per agent through aiosmtpd on a
free loopback port, a second run that sends the moments left past ``max_moments``, and a
third that may send nothing (``max_per_shift`` reached: each agent still costs its lease
and a few queries). It fails if the server did not receive exactly one mail per digest.
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text

from empathy_firewall.channels.email import EmailChannel
from empathy_firewall.channels.outbox import AgentRef, QueuedPrompt, queue_prompts
from empathy_firewall.channels.sender import DigestRun
from empathy_firewall.channels.settings import parse_channel_settings
from empathy_firewall.state import StateStore


class _Count:
    def __init__(self) -> None:
        self.messages = 0

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages += 1
        return "250 OK"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--prompts", type=int, default=25, help="prompts per agent")
    parser.add_argument("--url", help="a PostgreSQL URL (a throwaway schema is used)")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp())
    schema = None
    if args.url:
        schema = f"ef_bench_{uuid.uuid4().hex[:8]}"
        store = StateStore(args.url, schema=schema)
    else:
        store = StateStore(f"sqlite:///{folder / 'bench.db'}")
    now = datetime(2026, 9, 20, 12, tzinfo=UTC)
    prompts = [
        QueuedPrompt(
            AgentRef("zendesk", "acme", f"a{a}"),
            f"ef1-{a}-{p}",
            f"zendesk:acme:{a * 1000 + p}",
            str(a * 1000 + p),
            None,
            "recognition",
            ("positive-moment-recognition",),
            f'A customer thanked you: - "Thanks a lot!" (moment {p})',
            f"agent{a}@example.com",
            now - timedelta(minutes=p),
        )
        for a in range(args.agents)
        for p in range(args.prompts)
    ]
    started = time.perf_counter()
    with store.engine.begin() as conn:
        queue_prompts(conn, prompts)
    queued = time.perf_counter() - started

    handler = _Count()
    port = _port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings = parse_channel_settings(
        {
            "public_url": "https://firewall.example.com",
            "digest": {"quiet_hours": "", "max_moments": 10},
            "email": {
                "host": "127.0.0.1",
                "port": port,
                "security": "none",
                "sender": "care@example.com",
            },
        },
        "bench",
    )
    channels = {"email": EmailChannel.from_settings(settings, {})}
    key = b"benchmark-key-0123456789"
    try:
        started = time.perf_counter()
        first = DigestRun(store, settings, channels, key, now=now + timedelta(hours=1)).run()
        sending = time.perf_counter() - started
        started = time.perf_counter()
        second = DigestRun(store, settings, channels, key, now=now + timedelta(hours=1, minutes=5))
        rest = sum(1 for o in second.run() if o.status == "sent")
        started_third = time.perf_counter()
        again = started_third - started
        DigestRun(store, settings, channels, key, now=now + timedelta(hours=1, minutes=10)).run()
        idle = time.perf_counter() - started_third
    finally:
        controller.stop()
        store.close()
        if schema and args.url:
            engine = create_engine(args.url)
            with engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            engine.dispose()

    sent = sum(1 for o in first if o.status == "sent")
    backend = "postgresql" if args.url else "sqlite"
    print(f"backend {backend}: {args.agents} agents x {args.prompts} prompts")
    print(
        f"queue {len(prompts)} prompts in one transaction: {queued:.3f} s "
        f"({len(prompts) / queued:,.0f} prompts/s)"
    )
    print(f"digest run: {sent} digests, {sending:.2f} s ({sent / sending:,.1f} digests/s)")
    print(f"second run: {rest} digests of the moments past max_moments, {again:.2f} s")
    print(
        f"third run (max_per_shift reached, nothing sent): {idle:.2f} s "
        f"({idle / sending:.2f} x the first run)"
    )
    print(f"mails the SMTP server received: {handler.messages} (digests sent: {sent + rest})")
    if handler.messages != sent + rest:
        sys.exit("mismatch: every sent digest must arrive exactly once")


if __name__ == "__main__":
    main()
