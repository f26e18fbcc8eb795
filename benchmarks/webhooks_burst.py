"""Benchmark: a burst of signed Zendesk webhooks against ``empathy-firewall serve``.

Run: ``python benchmarks/webhooks_burst.py [--deliveries 10000] [--no-postgres]``
(needs the ``serve`` extra and empathy-firewall-zendesk; PostgreSQL at 127.0.0.1:5432,
database ``test``, or ``--pg-url``).

For each backend (SQLite file; PostgreSQL in a throwaway schema):

1. a fake Zendesk (the sample helpdesk, 320 tickets) is served over loopback HTTP by a
   separate process;
2. ``empathy-firewall serve`` (uvicorn, no in-process workers) and two
   ``empathy-firewall worker`` processes start on one state store; the burst waits until
   both workers say they are processing the inbox (steady state: a worker's start-up, a
   second or two of CPU loading the rule packs and the scorer, is not part of the run);
3. a load generator (asyncio, keep-alive HTTP/1.1 on ``--connections`` loopback
   connections) sends ``--deliveries`` signed event-subscription webhooks, 10% of them
   redeliveries of an event already sent, and times each request from first byte sent to
   response read;
4. when the inbox is drained, the workers are stopped and the exactly-once check runs:
   items done == unique events accepted, sum of the workers' completions == unique
   accepted, no completion lost to an expired claim, nothing parked, and no note marker
   twice on any ticket of the fake helpdesk.

Printed: accepted/s, p50/p99/max latency, drain time, and the check, per backend. Only
loopback addresses are used; every wait is bounded.

Side by side in the same run (issue 11 item 12), the same burst is sent to a **bare
Starlette app** (one route that reads the body and answers 202, nothing else) under the
same uvicorn settings as ``serve``, while the two workers of the backend run; the line
``product/bare`` is the ratio of accepted/s. Targets (2 cores, PostgreSQL, 2 workers
running): >= 1,000 accepted/s, p99 < 50 ms, and >= 0.35 of the bare app.

Each backend runs once per ``--connections`` count (default 8, then 32). With 8 requests
in flight the bare app is already busy, but the product is not: every one of its answers
waits for a durable commit (a round trip and a WAL flush), so 8 connections measure
that latency more than its capacity; with 32 both apps are busy, and the ratio is one of
capacities.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "sample_helpdesk.jsonl"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SECRET = "bench-signing-secret"  # a throwaway value for the fake helpdesk
CLI = Path(sys.executable).parent / "empathy-firewall"
ENV = {
    "ZENDESK_EMAIL": "admin@example.com",
    "ZENDESK_API_TOKEN": "fake-api-token",
    "ZENDESK_WEBHOOK_SECRET": SECRET,
}


# -- the fake helpdesk (a child process) -------------------------------------------------


def fake_helpdesk(port_file: Path) -> None:
    """Serve the seeded fake Zendesk, one thread per connection (two workers keep-alive)."""
    from http.server import ThreadingHTTPServer

    from empathy_firewall_zendesk.testing.server import serve

    server, _fake, _started = serve(SAMPLE, export_per_minute=100_000, job_seconds=0.01)
    # the fake's handler serializes requests with its own lock; threads only stop one
    # keep-alive connection from starving the other worker's
    server.__class__ = ThreadingHTTPServer
    base = f"http://127.0.0.1:{server.server_address[1]}"
    port_file.write_text(base + "\n", encoding="utf-8")
    server.serve_forever()


@contextmanager
def child(args: list[str], env: dict[str, str] | None = None, **kwargs: Any) -> Iterator[Any]:
    process = subprocess.Popen(args, env={**os.environ, **(env or {})}, **kwargs)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def get_json(url: str) -> Any:
    assert url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(url, timeout=10) as response:  # loopback only
        return json.loads(response.read())


# -- the load generator ------------------------------------------------------------------


def deliveries(tickets: list[int], count: int, rng: random.Random) -> list[bytes]:
    """``count`` signed requests (raw HTTP), 10% of them redeliveries of earlier events."""
    from empathy_firewall_zendesk.webhook import compute_signature

    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    sent: list[bytes] = []
    out: list[bytes] = []
    for n in range(count):
        if sent and rng.random() < 0.10:
            out.append(rng.choice(sent))
            continue
        ticket = rng.choice(tickets)
        body = json.dumps(
            {
                "account_id": 1,
                "detail": {"id": str(ticket), "status": "OPEN"},
                "event": {},
                "id": f"bench-{n}-{uuid.uuid4().hex[:8]}",
                "subject": f"zen:ticket:{ticket}",
                "time": stamp,
                "type": "zen:event-type:ticket.comment_added",
                "zendesk_event_version": "2022-11-06",
            }
        ).encode()
        head = (
            "POST /webhooks/zendesk HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/json\r\n"
            f"X-Zendesk-Webhook-Signature: {compute_signature(SECRET, stamp, body)}\r\n"
            f"X-Zendesk-Webhook-Signature-Timestamp: {stamp}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        sent.append(head + body)
        out.append(head + body)
    return out


async def _connection(
    port: int, queue: list[bytes], latencies: list[float], statuses: dict[str, int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while queue:
            request = queue.pop()
            started = time.perf_counter()
            writer.write(request)
            await writer.drain()
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            body = await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            code = status_line.split()[1].decode()
            outcome = json.loads(body).get("status", "?") if code.startswith("2") else code
            statuses[outcome] = statuses.get(outcome, 0) + 1
    finally:
        writer.close()


async def load(port: int, requests: list[bytes], connections: int) -> dict[str, Any]:
    queue = list(reversed(requests))
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    started = time.perf_counter()
    await asyncio.wait_for(
        asyncio.gather(
            *(_connection(port, queue, latencies, statuses) for _ in range(connections))
        ),
        timeout=600,
    )
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "elapsed": elapsed,
        "statuses": statuses,
        "accepted_per_s": (statuses.get("queued", 0) + statuses.get("duplicate", 0)) / elapsed,
        "p50_ms": 1000 * statistics.median(ordered),
        "p99_ms": 1000 * ordered[int(len(ordered) * 0.99) - 1],
        "max_ms": 1000 * ordered[-1],
    }


# -- one backend -------------------------------------------------------------------------


def write_config(
    folder: Path,
    base: str,
    url: str | None,
    schema: str | None,
    worker_nice: int | None = None,
    settle: float | None = None,
) -> Path:
    lines = [
        "[connector]",
        'name = "zendesk"',
        f'base_url = "{base}"',
        "job_poll_interval_seconds = 0.02",
        "",
        "[state]",
    ]
    if url is not None:
        lines.append(f'url = "{url}"')
    if schema is not None:
        lines.append(f'schema = "{schema}"')
    lines += ["", "[webhooks]", "workers = 0", "batch = 50", "idle_sleep_seconds = 0.1"]
    if worker_nice is not None:  # else the product's default (webhooks.worker_nice = 10)
        lines.append(f"worker_nice = {worker_nice}")
    if settle is not None:  # else the product's default (webhooks.settle_seconds = 2)
        lines.append(f"settle_seconds = {settle}")
    path = folder / "bench.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_backend(
    name: str, base: str, folder: Path, url: str | None, schema: str | None, args: Any
) -> dict[str, Any]:
    from empathy_firewall.state import StateStore
    from empathy_firewall.webhooks.queue import counts

    config = write_config(folder, base, url, schema, args.worker_nice, args.settle_seconds)
    store_url = url or f"sqlite:///{folder / 'bench.db'}"
    store = StateStore(store_url, schema=schema)  # creates the schema before the children
    port = free_port()
    snapshot = get_json(base + "/_fake/snapshot")
    tickets = [int(t) for t in snapshot]
    requests = deliveries(tickets, args.deliveries, random.Random(42))
    quiet = [str(CLI), "--log-level", "error"]
    serve_cmd = [*quiet, "serve", "--config", str(config), "--port", str(port)]
    worker_cmd = [*quiet, "worker", "--config", str(config), "--json"]
    with child(serve_cmd, ENV) as server:
        wait_for(lambda: _up(port), 30, "serve to listen")
        if args.workers_after:
            result = asyncio.run(load(port, requests, args.connections))
        logs = [folder / "worker-1.log", folder / "worker-2.log"]
        with (
            logs[0].open("w") as log1,
            logs[1].open("w") as log2,
            child(worker_cmd, ENV, stdout=subprocess.PIPE, stderr=log1, text=True) as w1,
            child(worker_cmd, ENV, stdout=subprocess.PIPE, stderr=log2, text=True) as w2,
        ):
            # the workers are running (built, polling the inbox) before the burst starts:
            # their start-up (rule packs, scorer) is not part of the steady state measured
            wait_for(lambda: all(_worker_ready(log) for log in logs), 120, "the workers to start")
            if not args.workers_after:
                result = asyncio.run(load(port, requests, args.connections))
                if not args.no_bare:  # same machine, same moment: the workers still busy
                    result["bare"] = run_bare(requests, args)
            unique = result["statuses"].get("queued", 0)
            drain_started = time.monotonic()
            wait_for(
                lambda: counts(store).get("done", 0) + counts(store).get("failed", 0) >= unique,
                args.drain_timeout,
                "the workers to drain the inbox",
            )
            result["drain_s"] = time.monotonic() - drain_started
            reports = []
            for worker in (w1, w2):
                worker.send_signal(signal.SIGTERM)
                out, _ = worker.communicate(timeout=120)
                reports.append(json.loads(out.strip().splitlines()[-1]))
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    final = counts(store)
    store.close()
    markers = _duplicate_markers(get_json(base + "/_fake/snapshot"))
    processed = sum(r["processed"] for r in reports)
    result.update(
        backend=name,
        worker_nice=10 if args.worker_nice is None else args.worker_nice,
        unique_accepted=unique,
        inbox=final,
        processed=processed,
        tickets_reread=sum(r.get("tickets", 0) for r in reports),
        lost_claims=sum(r["lost"] for r in reports),
        parked=final.get("failed", 0),
        duplicate_markers=markers,
        exactly_once=(
            final.get("done", 0) == unique == processed
            and sum(r["lost"] for r in reports) == 0
            and final.get("failed", 0) == 0
            and markers == 0
        ),
    )
    return result


def bare_app(port: int) -> None:
    """The comparison: a Starlette app under serve's uvicorn settings, no firewall."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def receive(request: Request) -> Response:
        await request.body()
        return Response(b'{"status":"queued"}', status_code=202, media_type="application/json")

    app = Starlette(routes=[Route("/webhooks/zendesk", receive, methods=["POST"])])
    uvicorn.run(
        app, host="127.0.0.1", port=port, log_level="error", access_log=False, server_header=False
    )


def run_bare(requests: list[bytes], args: Any) -> dict[str, Any]:
    """The same burst against the bare app (run while the backend's workers are busy)."""
    port = free_port()
    with child([sys.executable, __file__, "--bare-app", str(port)]):
        wait_for(lambda: _listening(port), 30, "the bare app to listen")
        return asyncio.run(load(port, requests, args.connections))


def _worker_ready(log: Path) -> bool:
    return "processing the inbox" in log.read_text(encoding="utf-8", errors="replace")


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _up(port: int) -> bool:
    try:
        get_json(f"http://127.0.0.1:{port}/healthz")
    except OSError:
        return False
    return True


def _duplicate_markers(snapshot: dict[str, Any]) -> int:
    from empathy_firewall.connectors.base import markers_in

    duplicates = 0
    for ticket in snapshot.values():
        seen: dict[str, int] = {}
        for comment in ticket.get("comments", []):
            text = comment[0] if isinstance(comment, list) and comment else str(comment)
            for key in markers_in(text):
                seen[key] = seen.get(key, 0) + 1
        duplicates += sum(1 for n in seen.values() if n > 1)
    return duplicates


def report(result: dict[str, Any]) -> None:
    statuses = result["statuses"]
    print(
        f"{result['backend']:<16} deliveries={sum(statuses.values())} "
        f"workers at nice {result['worker_nice']}: "
        f"accepted/s={result['accepted_per_s']:.0f} p50={result['p50_ms']:.1f}ms "
        f"p99={result['p99_ms']:.1f}ms max={result['max_ms']:.1f}ms "
        f"answers={json.dumps(statuses, sort_keys=True)}"
    )
    print(
        f"{'':<16} unique accepted={result['unique_accepted']} processed={result['processed']} "
        f"inbox={json.dumps(result['inbox'], sort_keys=True)} lost claims={result['lost_claims']} "
        f"duplicate notes={result['duplicate_markers']} drain={result['drain_s']:.1f}s "
        f"tickets re-read={result['tickets_reread']} "
        f"exactly once: {'YES' if result['exactly_once'] else 'NO'}",
        flush=True,
    )
    bare = result.get("bare")
    if bare is not None:
        ratio = result["accepted_per_s"] / bare["accepted_per_s"]
        print(
            f"{'':<16} bare Starlette: accepted/s={bare['accepted_per_s']:.0f} "
            f"p50={bare['p50_ms']:.1f}ms p99={bare['p99_ms']:.1f}ms -> "
            f"product/bare={ratio:.2f} (target >= 0.35)",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=10_000)
    parser.add_argument(
        "--connections",
        default="8,32",
        help="comma-separated loopback connection counts; each is a run of its own "
        "(default 8,32: few requests in flight, then enough to keep both apps busy)",
    )
    parser.add_argument("--drain-timeout", type=float, default=600)
    parser.add_argument(
        "--workers-after",
        action="store_true",
        help="start the two workers after the burst (measure the endpoint alone)",
    )
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=None,
        help="webhooks.worker_nice for the workers (default: the product's, 10; "
        "0: same CPU priority as the endpoint)",
    )
    parser.add_argument(
        "--settle-seconds",
        type=float,
        default=None,
        help="webhooks.settle_seconds for the workers (default: the product's, 2; "
        "0: a ticket's events are taken as soon as they are stored)",
    )
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("--no-bare", action="store_true", help="skip the bare-app comparison")
    parser.add_argument("--fake-helpdesk", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--bare-app", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_app is not None:
        bare_app(args.bare_app)
        return
    if args.fake_helpdesk is not None:
        fake_helpdesk(args.fake_helpdesk)
        return
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        backends: list[tuple[str, str | None]] = []
        if not args.no_sqlite:
            backends.append(("SQLite", None))
        if not args.no_postgres:
            backends.append(("PostgreSQL", args.pg_url))
        counts = [int(n) for n in str(args.connections).split(",") if n.strip()]
        for (store, url), connections in [(b, n) for b in backends for n in counts]:
            args.connections = connections
            schema = None if url is None else f"ef_bench_{uuid.uuid4().hex[:8]}"
            label = f"{store} c={connections}"
            port_file = folder / f"fake-{store}-{connections}"
            fake_cmd = [sys.executable, __file__, "--fake-helpdesk", str(port_file)]
            with child(fake_cmd):
                wait_for(port_file.exists, 60, "the fake helpdesk")
                base = _address(port_file)
                sub = folder / f"{store}-{connections}"
                sub.mkdir()
                try:
                    result = run_backend(label, base, sub, url, schema, args)
                finally:
                    if schema is not None:
                        _drop_schema(args.pg_url, schema)
            report(result)
            results.append(result)
    if not all(r["exactly_once"] for r in results):
        sys.exit(1)


def _address(port_file: Path) -> str:
    wait_for(lambda: port_file.read_text().endswith("\n"), 10, "the fake helpdesk's address")
    return port_file.read_text().strip()


def _drop_schema(url: str, schema: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


if __name__ == "__main__":
    main()
