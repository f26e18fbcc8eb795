"""Benchmark: ``sync`` of 10,000 tickets from the fake Zendesk, on SQLite and PostgreSQL.

Run: ``python benchmarks/sync_10k.py [--tickets 10000] [--no-postgres]``
(needs empathy-firewall-zendesk; PostgreSQL at 127.0.0.1:5432, database ``test``, or
``--pg-url``).

The sample helpdesk is repeated to N tickets (new ids, a third as many customers) and
served by the fake Zendesk as a separate HTTP process, so the sync process's memory is its
own. Each measurement is a fresh child process running one complete sync (poll, enrich,
evaluate, apply, record) against a freshly seeded server and an empty store. The child
times every state-store call (page history reads and writes, ledger, bookmark, lock) with
the process CPU clock and reports it as a share of the run's CPU time. Printed: wall time,
API calls, peak RSS at N/5 and N tickets (memory must be flat in N), and the store's
overhead per ticket on each backend, side by side.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import wraps
from itertools import cycle, islice
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "sample_helpdesk.jsonl"
NOW = "2026-10-01T12:00:00+00:00"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def write_tickets(path: Path, count: int) -> None:
    """The sample repeated to ``count`` tickets with fresh ids."""
    from empathy_firewall.ticketfile import iter_tickets

    sample = list(iter_tickets(SAMPLE))
    with path.open("w", encoding="utf-8") as out:
        for n, ticket in enumerate(islice(cycle(sample), count)):
            requester = ticket.requester.model_copy(update={"id": f"cus-{n % (count // 3 + 1)}"})
            source = ticket.source.model_copy(update={"external_id": str(100_000 + n)})
            copy = ticket.model_copy(update={"source": source, "requester": requester})
            out.write(copy.model_dump_json(exclude={"raw"}) + "\n")


@contextmanager
def fake_server(seed: Path, folder: Path) -> Iterator[str]:
    """A fake Zendesk process seeded with ``seed``; yields its base URL."""
    port_file = folder / f"port-{uuid.uuid4().hex[:6]}"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "empathy_firewall_zendesk.testing.server",
            *("--seed", str(seed), "--port-file", str(port_file), "--now", NOW),
            *("--export-per-minute", "100000", "--job-seconds", "0.01"),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        while not (port_file.exists() and port_file.read_text().endswith("\n")):
            if process.poll() is not None:
                raise RuntimeError("fake server failed to start")
            time.sleep(0.05)
        yield port_file.read_text().split()[0]
    finally:
        process.kill()
        process.wait()


# -- the child: one measured sync -------------------------------------------------------


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM; unlike ru_maxrss it starts afresh at exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(owner: Any, name: str, spent: list[float]) -> None:
    original = getattr(owner, name)

    @wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            spent[0] += time.process_time() - start

    setattr(owner, name, wrapper)


def child(base: str, url: str, schema: str | None) -> dict[str, Any]:
    """Run one sync in this process and measure it."""
    from empathy_firewall.engine.evaluate import Engine
    from empathy_firewall.engine.loader import load_rule_packs
    from empathy_firewall.state import StateStore, buffer, lock, store
    from empathy_firewall.sync import SyncJob, SyncOptions
    from empathy_firewall_zendesk import ZendeskConnector

    spent = [0.0]
    for owner, names in (
        (
            store.StateStore,
            ("applied_keys", "mark_pending", "save_bookmark", "record_ledger", "record_signals"),
        ),
        (store.StateStore, ("bookmark", "start_run", "finish_run")),
        (buffer.PageHistory, ("__init__", "flush", "agents_with_headroom")),
        (lock.Lease, ("renew", "release")),
    ):
        for name in names:
            _timed(owner, name, spent)
    _timed(lock, "acquire_lock", spent)
    import empathy_firewall.sync.job as job_module

    job_module.acquire_lock = lock.acquire_lock  # type: ignore[attr-defined]  # the timed one
    engine = Engine(load_rule_packs(None))
    connector = ZendeskConnector.from_config(
        {
            "base_url": base,
            "initial_lookback_minutes": 525600,
            "job_poll_interval_seconds": 0.02,
        },
        env={"ZENDESK_EMAIL": "admin@example.com", "ZENDESK_API_TOKEN": "fake-api-token"},
    )
    state = StateStore(url, schema=schema)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    job = SyncJob(state, connector, engine, options=SyncOptions(now=datetime.fromisoformat(NOW)))
    summary = job.run()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    state.close()
    return {
        "tickets": summary.tickets_seen,
        "applied": sum(summary.actions_applied.values()),
        "api_calls": summary.api_calls,
        "wall_s": wall,
        "cpu_s": cpu,
        "store_cpu_s": spent[0],
        "peak_rss_mb": peak_rss_mb(),
    }


# -- the parent ---------------------------------------------------------------------------


def measure(seed: Path, folder: Path, backend: str, pg_url: str) -> dict[str, Any]:
    """Seed a server, run one sync in a child process, drop the store afterwards."""
    schema = None
    if backend == "sqlite":
        url = f"sqlite:///{folder / (uuid.uuid4().hex[:8] + '.db')}"
    else:
        url, schema = pg_url, f"ef_bench_{uuid.uuid4().hex[:8]}"
    with fake_server(seed, folder) as base:
        done = subprocess.run(
            [sys.executable, __file__, "--child", base, url, schema or ""],
            capture_output=True,
            text=True,
            check=False,
        )
    if schema is not None:
        from sqlalchemy import create_engine, text

        engine = create_engine(pg_url)
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("--child", nargs=3, metavar=("BASE", "URL", "SCHEMA"), help="internal")
    args = parser.parse_args()
    if args.child:
        base, url, schema = args.child
        print(json.dumps(child(base, url, schema or None)))
        return
    n = args.tickets
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        small, large = folder / "small.jsonl", folder / "large.jsonl"
        write_tickets(small, n // 5)
        write_tickets(large, n)
        rows: list[tuple[str, int, dict[str, Any]]] = [
            ("sqlite", n // 5, measure(small, folder, "sqlite", args.pg_url)),
            ("sqlite", n, measure(large, folder, "sqlite", args.pg_url)),
        ]
        if not args.no_postgres:
            rows.append(("postgresql", n // 5, measure(small, folder, "postgresql", args.pg_url)))
            rows.append(("postgresql", n, measure(large, folder, "postgresql", args.pg_url)))
    print(f"sync benchmark, {datetime.now(UTC):%Y-%m-%d}, fake Zendesk over local HTTP")
    header = (
        f"{'backend':11} {'tickets':>7} {'wall s':>7} {'tickets/s':>9} {'API calls':>9} "
        f"{'calls/tkt':>9} {'peak RSS MB':>11} {'CPU s':>6} {'store CPU':>9} "
        f"{'store ms/tkt':>12}"
    )
    print(header)
    for backend, _count, r in rows:
        share = r["store_cpu_s"] / r["cpu_s"] if r["cpu_s"] else 0.0
        print(
            f"{backend:11} {r['tickets']:>7} {r['wall_s']:>7.1f} "
            f"{r['tickets'] / r['wall_s']:>9.0f} {r['api_calls']:>9} "
            f"{r['api_calls'] / max(r['tickets'], 1):>9.2f} {r['peak_rss_mb']:>11.0f} "
            f"{r['cpu_s']:>6.1f} {share:>9.1%} "
            f"{1000 * r['store_cpu_s'] / max(r['tickets'], 1):>12.3f}"
        )
    rss = [r["peak_rss_mb"] for b, _c, r in rows if b == "sqlite"]
    print(f"peak RSS N/5 -> N (SQLite): {rss[0]:.0f} MB -> {rss[1]:.0f} MB")


if __name__ == "__main__":
    main()
