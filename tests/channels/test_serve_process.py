"""The whole loop against real servers: `sync` queues, `digest send` mails through a real
SMTP server, and the List-Unsubscribe one-click POST reaches a real `serve` (uvicorn)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from channel_support import KEY, free_port, smtp_server
from ci_support import dev_import
from click.testing import CliRunner

from empathy_firewall.cli import main
from empathy_firewall.state import StateStore
from empathy_firewall.state.agents import stored_choices

dev_import("uvicorn", "serve needs the 'serve' extra")


def _config(folder: Path, smtp_port: int, http_port: int) -> Path:
    path = folder / "firewall.toml"
    path.write_text(
        f"""
[connector]
name = "zendesk"
base_url = "https://fake.zendesk.test"

[state]
url = "sqlite:///state.db"

[webhooks]
workers = 0

[channels]
public_url = "http://127.0.0.1:{http_port}"

[channels.digest]
quiet_hours = ""

[channels.email]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
sender = "care@example.com"
""",
        encoding="utf-8",
    )
    return path


def test_one_click_unsubscribe_through_a_running_serve(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from empathy_firewall.channels.outbox import AgentRef, QueuedPrompt, queue_prompts

    http_port = free_port()
    with smtp_server() as (smtp_port, inbox):
        config = _config(tmp_path, smtp_port, http_port)
        store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
        agent = AgentRef("zendesk", "fake.zendesk.test", "1003")
        now = datetime.now(UTC)
        with store.engine.begin() as conn:
            queue_prompts(
                conn,
                [
                    QueuedPrompt(
                        agent,
                        "ef1-x",
                        "zendesk:fake.zendesk.test:7",
                        "7",
                        None,
                        "breaks",
                        ("agent-care-break",),
                        "Take ten minutes.",
                        "sam@example.com",
                        now,
                    ),
                ],
            )
        env = {"EMPATHY_FIREWALL_CHANNEL_SECRET": KEY.decode(), "ZENDESK_WEBHOOK_SECRET": "s"}
        result = CliRunner().invoke(main, ["digest", "send", "--config", str(config)], env=env)
        assert result.exit_code == 0, result.output
    (message,) = inbox.to("sam@example.com")
    link = message["List-Unsubscribe"].strip("<>")
    assert link.startswith(f"http://127.0.0.1:{http_port}/agents/opt-out?t=")

    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from empathy_firewall.cli import main; main()",
            "serve",
            "--config",
            str(config),
            "--port",
            str(http_port),
        ],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(link, timeout=2) as page:
                    assert page.status == 200
                    assert "Yes, stop them" in page.read().decode()
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert stored_choices(store, "zendesk", "fake.zendesk.test", ["1003"]) == {}
        # what a mail client sends for List-Unsubscribe-Post (RFC 8058)
        request = urllib.request.Request(
            link,
            data=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5) as done:
            assert done.status == 200
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert stored_choices(store, "zendesk", "fake.zendesk.test", ["1003"]) == {
        "1003": {"strain": False, "breaks": False, "recognition": False}
    }
    assert KEY not in stderr  # the link key is never logged
    assert b"1003" not in stderr  # nor who opted out
    store.close()
