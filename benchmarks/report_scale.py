"""Benchmark: the manager report over 1,000,000 timeline rows, on SQLite and PostgreSQL.

Run from the repository root::

    python benchmarks/report_scale.py                      # 1M rows, SQLite and PostgreSQL
    python benchmarks/report_scale.py --rows 200000 --backends sqlite

For each backend it writes planted history (:mod:`empathy_firewall.insights.planted`) until
the timeline holds ``--rows`` rows, then runs ``empathy-firewall report --json --out`` in a
fresh process and prints, side by side: rows, generation time, report wall time and CPU time
(user + system: wall time depends on what else the machine runs), the report process's peak
memory (max RSS), and the recovered effects of group hops, breaches and
reopens. It exits 1 if a report took 30 s or more, or used 500 MB or more.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text

from empathy_firewall.insights import tables
from empathy_firewall.insights.planted import plant
from empathy_firewall.state import StateStore

NOW = datetime(2026, 11, 30, tzinfo=UTC)
ROWS_PER_TICKET = 9.75  # what the planted generator writes on average
PG_URL = os.environ.get("EF_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
LIMIT_SECONDS, LIMIT_MB = 30.0, 500.0


def _pg_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1.0):
            return True
    except OSError:
        return False


def _fill(store: StateStore, rows: int) -> tuple[int, float]:
    started = time.perf_counter()
    written, seed = 0, 1
    while written < rows:
        tickets = max(50, int((rows - written) / ROWS_PER_TICKET))
        planted = plant(
            store.engine,
            tickets=tickets,
            seed=seed,
            now=NOW,
            days=28,
            batch=20_000,
            prefix=f"bench{seed}",
        )
        written += planted.rows
        seed += 1
    with store.engine.connect() as conn:
        count = int(conn.execute(select(func.count()).select_from(tables.timeline)).scalar_one())
    return count, time.perf_counter() - started


_CHILD = """
import resource, sys
from empathy_firewall.cli import main
try:
    main(sys.argv[1:], prog_name="empathy-firewall")
finally:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    sys.stderr.write(f"\\nEF_MAXRSS_KB={usage.ru_maxrss}\\n")
    sys.stderr.write(f"EF_CPU_S={usage.ru_utime + usage.ru_stime:.2f}\\n")
"""


def _report(
    config: Path, env: dict[str, str], out: Path
) -> tuple[float, float, float, dict[str, Any]]:
    """Run the report in a child; wall seconds, CPU seconds, peak RSS in MB, the JSON."""
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _CHILD,
            "report",
            "--config",
            str(config),
            "--since",
            "30d",
            "--now",
            NOW.isoformat(),
            "--json",
            "--out",
            str(out),
        ],
        capture_output=True,
        env=env,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"report failed: {done.stderr.decode()[-2000:]}")
    err = done.stderr.decode()
    peak = int(err.rsplit("EF_MAXRSS_KB=", 1)[-1].split()[0]) / 1024.0
    cpu = float(err.rsplit("EF_CPU_S=", 1)[-1].split()[0])
    return seconds, cpu, peak, json.loads(done.stdout)


def _effect(e: dict[str, Any]) -> str:
    lo, hi = e["ci95"]
    return f"{e['effect']:+.3f} [{lo:+.3f},{hi:+.3f}]"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    failed = False
    results = []
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            env = dict(os.environ)
            env.pop("EMPATHY_FIREWALL_STATE_URL", None)
            schema = None
            if backend == "sqlite":
                url = f"sqlite:///{folder / 'state.db'}"
                state = 'url = "sqlite:///state.db"\n'
            else:
                if not _pg_reachable():
                    print("postgresql: not reachable at 127.0.0.1:5432, skipped")
                    continue
                url = PG_URL
                schema = f"ef_bench_{uuid.uuid4().hex[:8]}"
                env["EMPATHY_FIREWALL_STATE_URL"] = url
                state = f'schema = "{schema}"\n'
            config = folder / "ef.toml"
            config.write_text(f'[state]\n{state}[connector]\nname = "file"\npath = "t.jsonl"\n')
            store = StateStore(url, schema=schema)
            try:
                rows, fill_seconds = _fill(store, args.rows)
                if backend == "postgresql":
                    with store.engine.begin() as conn:
                        conn.execute(text(f'ANALYZE "{schema}".ef_timeline'))
                seconds, cpu, peak, data = _report(config, env, folder / "report.html")
                size = (folder / "report.html").stat().st_size
            finally:
                store.close()
                if schema is not None:
                    engine = create_engine(PG_URL)
                    with engine.begin() as conn:
                        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                    engine.dispose()
            effects = {e["kind"]: e for e in data["insights"]["disruptions"]}
            results.append((backend, rows, fill_seconds, seconds, cpu, peak, size, effects))
            failed |= seconds >= LIMIT_SECONDS or peak >= LIMIT_MB
    print(
        f"{'backend':11} {'rows':>9} {'generate s':>10} {'report s':>9} {'cpu s':>6} "
        f"{'peak MB':>8} {'html KB':>8}  group_hop (-0.3)   sla_breach (-0.2)   reopen (0)"
    )
    for backend, rows, fill_seconds, seconds, cpu, peak, size, effects in results:
        shown = "   ".join(_effect(effects[k]) for k in ("group_hop", "sla_breach", "reopen"))
        print(
            f"{backend:11} {rows:>9} {fill_seconds:>10.1f} {seconds:>9.1f} {cpu:>6.1f} "
            f"{peak:>8.0f} {size / 1024:>8.0f}  {shown}"
        )
    print(f"limits: report < {LIMIT_SECONDS:.0f} s and < {LIMIT_MB:.0f} MB per backend")
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
