"""Issue 13: ``sync --dry-run`` prints exactly the write requests the real run then sends.

Each vendor fake is seeded with the sample helpdesk; a dry run prints its plans and write
requests, then a real sync on the same state sends its writes to the fake. The printed
requests and the received ones must be the same multiset, bodies included. Zendesk runs
through the command line against the fake served over HTTP; Freshdesk (no HTTP server
for its fake) runs the same rehearsal ``sync --dry-run`` builds, in process.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from crash_support import NOW as CLI_NOW
from crash_support import sync_config, sync_env
from fidelity_support import NOW, freshdesk, reconnect, zendesk
from sqlalchemy import create_engine, text
from state_support import pg_schema, pg_url
from sync_support import ENGINE, SAMPLE

from empathy_firewall.cli import main
from empathy_firewall.connectors.rest import HttpConnector
from empathy_firewall.state import StateStore
from empathy_firewall.sync import SyncJob, SyncOptions
from empathy_firewall.sync.commands import _Progress
from empathy_firewall_freshdesk.testing import FakeFreshdesk
from empathy_firewall_zendesk.testing import FakeZendesk
from empathy_firewall_zendesk.testing.server import serve

Fake = FakeZendesk | FakeFreshdesk


def _key(method: str, path: str, body: Any) -> tuple[str, str, str]:
    return method, path, json.dumps(body, sort_keys=True)


def _writes_received(fake: Fake, since: int) -> Counter[tuple[str, str, str]]:
    return Counter(
        _key(r.method, r.path, r.body)
        for r in fake.log[since:]
        if r.method != "GET" and 200 <= r.status < 300
    )


@pytest.mark.parametrize("vendor", ["zendesk", "freshdesk"])
def test_the_rehearsal_prints_exactly_the_writes_the_real_run_sends(
    vendor: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake, connector = zendesk(3) if vendor == "zendesk" else freshdesk(3)
    fake.clock.advance(120)
    before = fake.snapshot()
    assert isinstance(connector, HttpConnector)
    twin, dry = connector.dry_twin()
    with StateStore(f"sqlite:///{tmp_path / 'dry.db'}") as store:
        printer = _Progress(False, True, show_plans=True, writes=dry.writes)
        SyncJob(store, twin, ENGINE, options=SyncOptions(now=NOW), on_page=printer).run()
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    printed = [line["request"] for line in lines if "request" in line]
    assert fake.snapshot() == before, "the dry run wrote to the helpdesk"
    assert printed, "the sample plans writes: the dry run must show them"
    assert all(set(r) == {"method", "url", "body"} for r in printed)
    assert "authorization" not in json.dumps(printed).lower()

    mark = len(fake.log)
    with StateStore(f"sqlite:///{tmp_path / 'real.db'}") as store:
        SyncJob(store, reconnect(fake), ENGINE, options=SyncOptions(now=NOW)).run()
    shown = Counter(_key(r["method"], urlsplit(r["url"]).path, r["body"]) for r in printed)
    assert shown == _writes_received(fake, mark)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_table(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The backend and the [state] table of a store not made yet."""
    if request.param == "sqlite":
        yield "sqlite", f'url = "sqlite:///{tmp_path / "state.db"}"'
        return
    with pg_schema() as schema:
        yield "postgresql", f'url = "{pg_url()}"\nschema = "{schema}"'


def _store_exists(backend: str, tmp_path: Path, state: str) -> bool:
    if backend == "sqlite":
        return (tmp_path / "state.db").exists()
    schema = state.rsplit('"', 2)[-2]
    engine = create_engine(pg_url())
    try:
        with engine.connect() as conn:
            found = conn.execute(
                text("SELECT count(*) FROM pg_tables WHERE schemaname = :s"), {"s": schema}
            )
            return bool(found.scalar_one())
    finally:
        engine.dispose()


def test_sync_dry_run_on_the_command_line_prints_what_sync_then_sends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store_table: tuple[str, str]
) -> None:
    """Through the Zendesk connector over HTTP, on SQLite and on PostgreSQL (where the
    rehearsal runs on a throwaway schema); then a second sync with nothing new writes
    nothing."""
    backend, state = store_table
    single, fake, _ = serve(
        SAMPLE, export_per_minute=100_000, job_seconds=0.02, now=datetime.fromisoformat(CLI_NOW)
    )
    # one thread per connection: each in-process run keeps its own connection alive
    address, handler = single.server_address, single.RequestHandlerClass
    single.server_close()
    server = ThreadingHTTPServer((str(address[0]), int(address[1])), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        config = sync_config(tmp_path, base, state)
        for name, value in sync_env().items():
            monkeypatch.setenv(name, value)
        args = ["sync", "--config", str(config), "--now", CLI_NOW, "--no-progress"]
        before = fake.snapshot()
        dry = CliRunner().invoke(main, [*args, "--dry-run"])
        assert dry.exit_code == 0, dry.output
        assert fake.snapshot() == before, "the dry run wrote to the helpdesk"
        assert not _store_exists(backend, tmp_path, state), "the dry run created the store"
        printed = [
            json.loads(line)["request"]
            for line in dry.stdout.splitlines()
            if line.startswith('{"request"')
        ]
        assert printed
        mark = len(fake.log)
        real = CliRunner().invoke(main, args)
        assert real.exit_code == 0, real.output
        after_real = len(fake.log)
        again = CliRunner().invoke(main, args)
        assert again.exit_code == 0, again.output
        assert not _writes_received(fake, after_real), "a second sync wrote again"
    finally:
        server.shutdown()
        server.server_close()
    shown = Counter(_key(r["method"], urlsplit(r["url"]).path, r["body"]) for r in printed)
    assert shown == _writes_received(fake, mark)  # the second sync added none


def test_a_first_dry_run_of_the_file_source_plans_what_the_real_run_then_records(
    tmp_path: Path,
) -> None:
    """The README's first command, rehearsed: the sample (4 pages of 100) on a new SQLite
    store. A real first run observes every page before it evaluates any; the dry run must
    plan the same actions, not what a page-by-page evaluation would (it planned 2 internal
    notes and 1 priority change fewer)."""
    shutil.copy(SAMPLE, tmp_path / "sample.jsonl")
    config = tmp_path / "sync.toml"
    config.write_text(
        "[connector]\nname = 'file'\npath = 'sample.jsonl'\noutput = 'plans.jsonl'\n"
        "page_size = 100\n[state]\nurl = 'sqlite:///state.db'\n"
    )
    args = ["sync", "--config", str(config), "--now", CLI_NOW, "--no-progress", "--json"]
    dry = CliRunner().invoke(main, [*args, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert not (tmp_path / "plans.jsonl").exists(), "the dry run recorded plans"
    assert not (tmp_path / "state.db").exists(), "the dry run created the store"
    lines = [json.loads(line) for line in dry.stdout.splitlines() if line.strip()]
    planned_keys = Counter(
        a["key"] for line in lines if "plan" in line for a in line["plan"]["actions"]
    )
    real = CliRunner().invoke(main, args)
    assert real.exit_code == 0, real.output
    assert (
        lines[-1]["actions_planned"] == json.loads(real.stdout.splitlines()[-1])["actions_planned"]
    )
    with (tmp_path / "plans.jsonl").open(encoding="utf-8") as recorded:
        written = Counter(a["key"] for line in recorded for a in json.loads(line)["actions"])
    assert written
    assert not written - planned_keys, "the real run wrote actions the dry run did not show"
