"""Real processes for the crash test: a fake Zendesk server and ``empathy-firewall sync``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sync_support import SAMPLE

__all__ = ["NOW", "fake_server", "kill", "snapshot", "start_sync", "sync_config", "sync_env"]

#: the helpdesk's (frozen) wall clock, and the evaluation time of every run
NOW = "2026-10-01T12:00:00+00:00"


@contextmanager
def fake_server(folder: Path, port: int = 0) -> Iterator[str]:
    """A seeded fake Zendesk process; yields its base URL and stops it afterwards.

    Reuse the reference server's ``port`` so the account (host:port), and with it every
    ticket key and note marker, is the same in every trial.
    """
    port_file = folder / "fake.port"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "empathy_firewall_zendesk.testing.server",
            "--seed",
            str(SAMPLE),
            "--port-file",
            str(port_file),
            "--export-per-minute",
            "100000",
            "--job-seconds",
            "0.02",
            "--now",
            NOW,
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().endswith("\n")):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the fake Zendesk server did not start")
            time.sleep(0.05)
        yield port_file.read_text().split()[0]
    finally:
        process.kill()
        process.wait()


def snapshot(base: str) -> dict[str, Any]:
    """The helpdesk's state: every ticket's tags, priority, status and comments."""
    with urllib.request.urlopen(f"{base}/_fake/snapshot", timeout=10) as response:
        data: dict[str, Any] = json.loads(response.read())
    return data


def sync_config(folder: Path, base: str, state: str) -> Path:
    """A sync config for the fake server; ``state`` is the [state] table's body."""
    path = folder / "sync.toml"
    path.write_text(
        f"""
[state]
{state}

[connector]
name = "zendesk"
base_url = "{base}"
initial_lookback_minutes = 525600
per_page = 100
job_poll_interval_seconds = 0.02
""",
        encoding="utf-8",
    )
    return path


def sync_env() -> dict[str, str]:
    """The environment of a sync process: the fake's credentials, nothing else secret."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ZENDESK_", "FRESHDESK_", "EMPATHY_FIREWALL_"))
    }
    env.update({"ZENDESK_EMAIL": "admin@example.com", "ZENDESK_API_TOKEN": "fake-api-token"})
    return env


def start_sync(config: Path) -> subprocess.Popen[bytes]:
    """``empathy-firewall sync`` as a child process."""
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from empathy_firewall.cli import main; main()",
            *("sync", "--config", str(config), "--now", NOW, "--no-progress"),
        ],
        env=sync_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def kill(process: subprocess.Popen[bytes]) -> bool:
    """SIGKILL the process; True if it was still running (a real interruption)."""
    alive = process.poll() is None
    if alive:
        os.kill(process.pid, signal.SIGKILL)
    process.communicate()
    return alive
