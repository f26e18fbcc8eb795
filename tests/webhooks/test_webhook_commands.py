"""``serve`` and ``worker`` from the command line: start-up errors name what to fix,
``serve`` answers on loopback and stops on SIGTERM, ``worker --until-empty`` exits."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from ci_support import dev_import

# ruff: noqa: E402  (the dev extra is checked before the imports that need it)
dev_import("starlette", "the webhook service needs the 'serve' extra")
dev_import("uvicorn", "serve needs the 'serve' extra")

from click.testing import CliRunner
from webhook_support import write_config

from empathy_firewall.cli import main


def test_serve_without_the_webhook_secret_exits_2_naming_it(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'state.db'}")
    result = CliRunner().invoke(main, ["serve", "--config", str(config)])
    assert result.exit_code == 2
    assert "ZENDESK_WEBHOOK_SECRET" in result.output


def test_a_bad_webhooks_key_exits_2_naming_it(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'state.db'}", port=70000)
    result = CliRunner().invoke(main, ["worker", "--config", str(config)])
    assert result.exit_code == 2
    assert "webhooks.port" in result.output
    unknown = write_config(tmp_path, None, retries=3)
    assert (
        "webhooks.retries" in CliRunner().invoke(main, ["serve", "--config", str(unknown)]).output
    )


def test_webhooks_typos_get_the_closest_key_and_are_listed_with_the_files_other_problems(
    tmp_path: Path,
) -> None:
    """[webhooks] is reported like every other table (issue 11 item 10): the allowed keys,
    the closest one, and every problem of the file at once, not one table per run."""
    config = write_config(tmp_path, None, worker_nise=3, port=-1)
    text = config.read_text("utf-8").replace("[state]", '[state]\nur = "x"')
    config.write_text(text, "utf-8")
    result = CliRunner().invoke(main, ["worker", "--config", str(config)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines[0] == f"error: {config}: 3 problems:"
    assert lines[1].strip().startswith("state.ur: unknown key; did you mean 'url'?")
    assert lines[2].strip() == "webhooks.port: Input should be greater than or equal to 0"
    assert (
        lines[3]
        .strip()
        .startswith("webhooks.worker_nise: unknown key; did you mean 'worker_nice'? (allowed: ")
    )
    assert "Traceback" not in result.output


def test_worker_until_empty_exits_with_its_counts(tmp_path: Path) -> None:
    # in-process: keep the test runner's CPU priority (the next test checks the default)
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'state.db'}", worker_nice=0)
    result = CliRunner().invoke(
        main, ["worker", "--config", str(config), "--until-empty", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["processed"] == 0


@pytest.mark.parametrize(("setting", "lowered_by"), [(None, 10), (3, 3), (0, 0)])
def test_worker_lowers_its_cpu_priority_so_acknowledging_comes_first(
    tmp_path: Path, setting: int | None, lowered_by: int
) -> None:
    options: dict[str, Any] = {} if setting is None else {"worker_nice": setting}
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'state.db'}", **options)
    # a plugin loads while the service is built (with the rule packs and the scorer):
    # it records the priority it loaded at, so the build is checked to run lowered too
    (tmp_path / "nice_probe.py").write_text(
        "import os, pathlib\n"
        "pathlib.Path(__file__).with_suffix('.nice').write_text("
        "str(os.getpriority(os.PRIO_PROCESS, 0)))\n",
        encoding="utf-8",
    )
    config.write_text('plugins = ["nice_probe"]\n' + config.read_text("utf-8"), "utf-8")
    script = (
        "import os, sys\n"
        "from empathy_firewall.cli import main\n"
        "try:\n"
        "    main(sys.argv[1:], standalone_mode=False)\n"
        "finally:\n"
        "    print('NICE', os.getpriority(os.PRIO_PROCESS, 0))\n"
    )
    started_at = os.getpriority(os.PRIO_PROCESS, 0)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            "--log-level",
            "info",
            "worker",
            "--config",
            str(config),
            "--until-empty",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    niceness = int(done.stdout.split("NICE")[-1])
    assert niceness == min(19, started_at + lowered_by)
    assert int((tmp_path / "nice_probe.nice").read_text("utf-8")) == niceness
    assert ("CPU priority lowered" in done.stderr) == (lowered_by > 0 and started_at < 19)
    # once built, the worker says so on stderr (ops, and the burst benchmark, wait for it)
    assert "processing the inbox (zendesk); SIGTERM stops" in done.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_serve_listens_answers_health_and_stops_on_sigterm(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'state.db'}", workers=0)
    port = _free_port()
    env = {**os.environ, "ZENDESK_WEBHOOK_SECRET": "s3cret"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from empathy_firewall.cli import main; main()",
            "serve",
            "--config",
            str(config),
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        body = None
        while time.monotonic() < deadline and body is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                    body = json.loads(r.read())
            except OSError:
                time.sleep(0.1)
        assert body == {"status": "ready"}
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/webhooks/zendesk",
            data=b"{}",
            headers={"Content-Type": "application/json"},
        )
        with pytest.raises(urllib.error.HTTPError) as rejected:
            urllib.request.urlopen(request, timeout=5)
        assert rejected.value.code == 401
        assert json.loads(rejected.value.read())["reason"] == "bad_signature"
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    # uvicorn shuts down gracefully, then re-raises SIGTERM (exit status -15) on recent versions
    assert process.returncode in (0, -signal.SIGTERM), stderr.decode()
    assert b"s3cret" not in stderr
