"""``sync --dry-run`` on a PostgreSQL store rehearses the real run, as on SQLite.

The rehearsal runs the real sync on a throwaway schema copied from the store
(:mod:`empathy_firewall.state.scratch`): a first dry run makes the observation pass and
records each page in the copy, so it plans what the first real run then does. The real
store is left exactly as it was (every row of every table, every sequence), and no
rehearsal schema outlives the dry run; one left by a killed dry run is dropped by the next.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from crash_support import NOW as CLI_NOW
from crash_support import kill
from sqlalchemy import Connection, Engine, create_engine, text
from state_support import pg_schema, pg_url
from sync_support import SAMPLE

from empathy_firewall.cli import main
from empathy_firewall.state.scratch import LOCK_CLASS, PREFIX

pytestmark = pytest.mark.postgres


@pytest.fixture
def server() -> Iterator[Engine]:
    """A plain engine on the test database (no schema map)."""
    engine = create_engine(pg_url())
    yield engine
    engine.dispose()


def _config(folder: Path, state: str) -> Path:
    shutil.copy(SAMPLE, folder / "sample.jsonl")
    config = folder / "sync.toml"
    config.write_text(
        "[connector]\nname = 'file'\npath = 'sample.jsonl'\noutput = 'plans.jsonl'\n"
        f"page_size = 100\n[state]\n{state}\n"
    )
    return config


def _args(config: Path, *extra: str) -> list[str]:
    return ["sync", "--config", str(config), "--now", CLI_NOW, "--no-progress", "--json", *extra]


def _dry_run(config: Path) -> tuple[Counter[str], dict[str, Any]]:
    """The action keys a dry run plans, and its summary."""
    dry = CliRunner().invoke(main, _args(config, "--dry-run"))
    assert dry.exit_code == 0, dry.output
    lines = [json.loads(line) for line in dry.stdout.splitlines() if line.strip()]
    planned = Counter(a["key"] for line in lines if "plan" in line for a in line["plan"]["actions"])
    return planned, lines[-1]


def _recorded(output: Path, skip: int = 0) -> Counter[str]:
    with output.open(encoding="utf-8") as recorded:
        lines = recorded.read().splitlines()[skip:]
    return Counter(a["key"] for line in lines for a in json.loads(line)["actions"])


def _prompts(engine: Engine, schema: str) -> Counter[str]:
    """The agent prompts the store queued (an ``agent_prompt`` action goes there, not to
    the file source's ``output``), by action key."""
    with engine.connect() as conn:
        keys = conn.execute(text(f'SELECT prompt_key FROM "{schema}".ef_agent_prompts'))
        return Counter(keys.scalars())


def _dump(conn: Connection, schema: str) -> dict[str, Any]:
    """Every table's rows (sorted), every index and every sequence's state in ``schema``."""
    out: dict[str, Any] = {}
    tables = conn.execute(
        text("SELECT tablename FROM pg_tables WHERE schemaname = :s ORDER BY 1"), {"s": schema}
    ).scalars()
    for table in list(tables):
        rows = conn.execute(text(f'SELECT row_to_json(x)::text FROM "{schema}"."{table}" x'))
        out[f"table {table}"] = sorted(rows.scalars())
    indexes = conn.execute(
        text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = :s ORDER BY 1"),
        {"s": schema},
    )
    out["indexes"] = [tuple(row) for row in indexes]
    sequences = conn.execute(
        text("SELECT sequencename FROM pg_sequences WHERE schemaname = :s ORDER BY 1"),
        {"s": schema},
    ).scalars()
    for seq in list(sequences):
        state = conn.execute(text(f'SELECT last_value, is_called FROM "{schema}"."{seq}"'))
        out[f"sequence {seq}"] = tuple(state.one())
    return out


def _rehearsal_schemas(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT nspname FROM pg_namespace WHERE starts_with(nspname, :p)"),
            {"p": PREFIX},
        )
        return list(found.scalars())


@pytest.mark.parametrize("where", ["schema", "search_path"])
def test_a_first_dry_run_on_postgresql_plans_what_the_real_run_then_records(
    where: str, tmp_path: Path, server: Engine
) -> None:
    """The README's first command on a new PostgreSQL store (``state.schema``, or tables
    where the role's search_path puts them). The real first run observes every page before
    it evaluates any; the dry run must plan exactly that, and create nothing in the store."""
    with pg_schema() as schema:
        if where == "schema":
            state = f"url = '{pg_url()}'\nschema = '{schema}'"
        else:
            with server.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            state = f"url = '{pg_url()}?options=-csearch_path%3D{schema}'"
        config = _config(tmp_path, state)
        planned, summary = _dry_run(config)
        assert not (tmp_path / "plans.jsonl").exists(), "the dry run recorded plans"
        with server.connect() as conn:
            assert _dump(conn, schema) == {"indexes": []}, "the dry run created the store"
        assert not _rehearsal_schemas(server), "the rehearsal schema was left behind"

        real = CliRunner().invoke(main, _args(config))
        assert real.exit_code == 0, real.output
        assert (
            summary["actions_planned"]
            == json.loads(real.stdout.splitlines()[-1])["actions_planned"]
        )
        written = _recorded(tmp_path / "plans.jsonl")
        prompts = _prompts(server, schema)
        assert written
        assert prompts
        assert planned == written + prompts, "the dry run did not plan what the real run did"


def test_a_dry_run_leaves_the_postgresql_store_exactly_as_it_was(
    tmp_path: Path, server: Engine
) -> None:
    """A store with a stopped first run (one page evaluated, bookmark after it): the dry
    run evaluates and records the rest in its copy, plans what the next real run then
    records, and leaves every row, index and sequence of the real store as it was."""
    url = pg_url() + ("&" if "?" in pg_url() else "?") + "options=-clock_timeout%3D5000"
    with pg_schema() as schema:
        config = _config(tmp_path, f"url = '{url}'\nschema = '{schema}'")
        first = CliRunner().invoke(main, _args(config, "--max-tickets", "100"))
        assert first.exit_code == 0, first.output
        done = len((tmp_path / "plans.jsonl").read_text(encoding="utf-8").splitlines())
        with server.connect() as conn:
            before = _dump(conn, schema)
        assert before["table ef_ledger"]
        assert before["table ef_signal_history"]
        queued = _prompts(server, schema)
        assert any(name.startswith("sequence ") for name in before)

        # a webhook worker mid-transaction holds row locks on every row of the store: the
        # dry run must neither wait for them (lock_timeout makes a wait fail) nor take any
        worker = server.connect()
        try:
            for name in before:
                if name.startswith("table "):
                    table = name.removeprefix("table ")
                    worker.execute(text(f'SELECT 1 FROM "{schema}"."{table}" FOR UPDATE'))
            planned, _ = _dry_run(config)
        finally:
            worker.rollback()
            worker.close()
        assert planned, "the rest of the sample plans actions"
        with server.connect() as conn:
            assert _dump(conn, schema) == before, "the dry run changed the real store"
        assert not _rehearsal_schemas(server), "the rehearsal schema was left behind"

        real = CliRunner().invoke(main, _args(config))
        assert real.exit_code == 0, real.output
        written = _recorded(tmp_path / "plans.jsonl", skip=done)
        assert planned == written + (_prompts(server, schema) - queued)


@pytest.mark.parametrize("next_run", ["dry run", "real run"])
def test_the_next_run_drops_the_schema_a_killed_rehearsal_left_and_spares_a_live_one(
    tmp_path: Path, server: Engine, next_run: str
) -> None:
    """A dry run killed mid-rehearsal (kill -9) leaves its schema; the next sync run, dry
    or real (a cron job may never dry-run again), drops it. A schema whose rehearsal still
    runs (its session holds the advisory lock) stays."""
    dead, live = (f"{PREFIX}{uuid.uuid4().hex[:16]}" for _ in range(2))
    with server.begin() as conn:
        for name in (dead, live):
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
            conn.execute(text(f'CREATE TABLE "{name}".ef_ledger (k text)'))
    holder = server.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        holder.execute(
            text("SELECT pg_advisory_lock(:c, hashtext(:n))"), {"c": LOCK_CLASS, "n": live}
        )
        with pg_schema() as schema:
            config = _config(tmp_path, f"url = '{pg_url()}'\nschema = '{schema}'")
            if next_run == "dry run":
                _dry_run(config)
            else:
                real = CliRunner().invoke(main, _args(config))
                assert real.exit_code == 0, real.output
        left = _rehearsal_schemas(server)
        assert dead not in left, "the killed rehearsal's schema was left behind"
        assert live in left, "the dry run dropped the schema of a running rehearsal"
    finally:
        holder.close()
        with server.begin() as conn:
            for name in (dead, live):
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))


def test_a_dry_run_killed_mid_rehearsal_leaves_a_schema_the_next_dry_run_drops(
    tmp_path: Path, server: Engine
) -> None:
    """kill -9 while the rehearsal runs: its schema stays (nothing could drop it), its
    advisory lock goes with its connection, and the next dry run drops it and succeeds."""
    earlier = set(_rehearsal_schemas(server))
    with pg_schema() as schema:
        config = _config(tmp_path, f"url = '{pg_url()}'\nschema = '{schema}'")
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from empathy_firewall.cli import main; main()",
                *_args(config, "--dry-run"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        left: set[str] = set()
        deadline = time.monotonic() + 60
        while not left and process.poll() is None and time.monotonic() < deadline:
            left = set(_rehearsal_schemas(server)) - earlier
            time.sleep(0.02)
        assert kill(process), "the dry run ended before it could be killed"
        assert left, "no rehearsal schema appeared"
        assert left <= set(_rehearsal_schemas(server)), "a killed dry run dropped its schema"
        held = (
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 "
            "AND classid::bigint = :c AND objid::bigint = hashtext(:n)::oid::bigint"
        )
        with server.connect() as conn:  # the server ends the dead client's session
            while conn.execute(text(held), {"c": LOCK_CLASS, "n": min(left)}).scalar_one():
                assert time.monotonic() < deadline, "the killed dry run's lock is still held"
                time.sleep(0.05)
                conn.rollback()

        _dry_run(config)
        assert not left & set(_rehearsal_schemas(server)), "the killed dry run's schema stayed"
        with server.connect() as conn:
            assert _dump(conn, schema) == {"indexes": []}, "a dry run created the store"


def test_a_dry_run_says_which_grant_it_needs_when_the_role_may_not_create_a_schema(
    tmp_path: Path, server: Engine
) -> None:
    """A role that can use its store but not create schemas: the dry run stops with a
    configuration error (exit 2) that names the grant, and leaves nothing behind."""
    from sqlalchemy.engine import make_url

    role = f"ef_test_{uuid.uuid4().hex[:12]}"
    database = make_url(pg_url()).database
    with pg_schema() as schema:
        with server.begin() as conn:
            conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
            conn.execute(text(f'CREATE SCHEMA "{schema}" AUTHORIZATION "{role}"'))
            if conn.execute(
                text("SELECT has_database_privilege(:r, current_database(), 'CREATE')"),
                {"r": role},
            ).scalar_one():
                pytest.skip("every role may create schemas in this database")
        try:
            url = make_url(pg_url()).set(
                username=role, query={"options": f"-csearch_path={schema}"}
            )
            state = f"url = '{url.render_as_string(hide_password=False)}'"
            config = _config(tmp_path, state)
            real = CliRunner().invoke(main, _args(config, "--max-tickets", "100"))
            assert real.exit_code == 0, real.output
            dry = CliRunner().invoke(main, _args(config, "--dry-run"))
            assert dry.exit_code == 2, dry.output
            assert f"GRANT CREATE ON DATABASE {database}" in dry.output
            assert not _rehearsal_schemas(server)
        finally:
            with server.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
