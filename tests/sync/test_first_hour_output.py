"""Issue 11 item 9: what a new user sees: dry runs store nothing and print JSON lines only,
the progress line is ended, ``serve`` says where it listens and leaves no -wal/-shm."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from empathy_firewall.cli import main

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-09-20T12:00:00+00:00"


def _file_config(tmp: Path) -> Path:
    shutil.copy(ROOT / "examples" / "sample_helpdesk.jsonl", tmp / "sample.jsonl")
    text = (
        "[connector]\nname = 'file'\npath = 'sample.jsonl'\noutput = 'plans.jsonl'\n"
        "[state]\nurl = 'sqlite:///state/firewall.db'\n"
    )
    path = tmp / "sync.toml"
    path.write_text(text)
    return path


def test_a_dry_run_creates_no_store_and_prints_only_json_lines(tmp_path: Path) -> None:
    config = _file_config(tmp_path)
    result = CliRunner().invoke(
        main, ["sync", "--config", str(config), "--dry-run", "--now", NOW, "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "state" / "firewall.db").exists()
    assert not (tmp_path / "plans.jsonl").exists()
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert lines
    for line in lines:
        json.loads(line)  # every stdout line is JSON
    assert "sync status=finished" in result.stderr
    with_json = CliRunner().invoke(
        main, ["sync", "--config", str(config), "--dry-run", "--json", "--now", NOW]
    )
    assert with_json.exit_code == 0
    for line in with_json.stdout.splitlines():
        json.loads(line)
    assert not (tmp_path / "state" / "firewall.db").exists()


def test_the_progress_line_is_ended_even_when_no_ticket_was_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from empathy_firewall.sync.commands import _Progress
    from empathy_firewall.sync.job import PageReport

    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    progress = _Progress(enabled=True, dry_run=False, show_plans=False)
    report = PageReport.__new__(PageReport)
    for name, value in {"number": 1, "tickets": 0, "plans": ()}.items():
        object.__setattr__(report, name, value)

    class _Summary:
        actions_applied: dict[str, int] = {}  # noqa: RUF012

    object.__setattr__(report, "summary", _Summary())
    progress(report)
    progress.close()
    assert err.getvalue().startswith("\r")
    assert err.getvalue().endswith("\n")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_serve_says_where_it_listens_and_leaves_no_wal_files(tmp_path: Path) -> None:
    port = _free_port()
    config = tmp_path / "firewall.toml"
    config.write_text(
        "[connector]\nname = 'zendesk'\nbase_url = 'http://127.0.0.1:9'\n"
        "[state]\nurl = 'sqlite:///hooks.db'\n"
        f"[webhooks]\nhost = '127.0.0.1'\nport = {port}\nworkers = 1\n"
    )
    exe = Path(sys.executable).with_name("empathy-firewall")
    env = {**os.environ, "ZENDESK_EMAIL": "a@example.com", "ZENDESK_API_TOKEN": "t"}
    env["ZENDESK_WEBHOOK_SECRET"] = "s"
    proc = subprocess.Popen(
        [str(exe), "serve", "--config", str(config)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2):
                    break
            except OSError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
                time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            r.read()
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert f"listening on http://127.0.0.1:{port}" in err.decode()
    assert (tmp_path / "hooks.db").exists()
    assert sorted(p.name for p in tmp_path.glob("hooks.db*")) == ["hooks.db"]


def test_an_evaluating_dry_run_leaves_an_older_store_unmigrated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read-only file source cannot rehearse; its dry run still reads a copy of the store
    (it used to open the real one and migrate it: a dry run that changed the store)."""
    from empathy_firewall.state import migrations
    from empathy_firewall.state.store import StateStore

    shutil.copy(ROOT / "examples" / "sample_helpdesk.jsonl", tmp_path / "sample.jsonl")
    config = tmp_path / "sync.toml"
    config.write_text(
        "[connector]\nname = 'file'\npath = 'sample.jsonl'\n"  # no output: read-only
        "[state]\nurl = 'sqlite:///firewall.db'\n"
    )
    with monkeypatch.context() as patched:
        patched.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:1])
        StateStore(f"sqlite:///{tmp_path / 'firewall.db'}").close()
    before = (tmp_path / "firewall.db").read_bytes()
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        main, ["sync", "--config", str(config), "--dry-run", "--now", NOW, "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    assert [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert (tmp_path / "firewall.db").read_bytes() == before
    store = StateStore(f"sqlite:///{tmp_path / 'firewall.db'}", migrate_schema=False)
    assert store.version == 1
    store.close()
