"""``empathy-firewall sync`` against a real RT 5: twice, killed mid-run, bad credentials, RT down.

Each test runs the CLI as a subprocess on a queue of its own and reads the outcome back from
RT itself (transactions, custom-field values, comment texts), never from our own records.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from rt_server import Proxy, RtAdmin, free_port, require_rt, require_token, root_env, settle

from empathy_firewall.connectors import markers_in

CLI = str(Path(sys.executable).parent / "empathy-firewall")
TEXTS = (
    "This is the THIRD time I am asking!!! Still no answer. I will cancel my subscription"
    " and go to your competitor.",
    "Nobody answers me. I want to speak to a manager NOW, this is unacceptable!!!",
    "Thanks a lot, you solved it, great service!",
    "Still waiting for my refund after two weeks, this is ridiculous. Third email.",
)


@pytest.fixture
def admin() -> RtAdmin:
    made = RtAdmin(require_rt())
    made.ensure_tags_field()
    return made


def write_config(tmp_path: Path, url: str, queue: str, **extra: Any) -> Path:
    settings = {"settle_seconds": 0, "initial_lookback_minutes": 60, **extra}
    lines = ["[connector]", 'name = "rt"', f'base_url = "{url}"', f'queues = ["{queue}"]']
    lines += [f"{k} = {json.dumps(v)}" for k, v in settings.items()]
    lines += ["", "[state]", f'url = "sqlite:///{tmp_path / "state.db"}"']
    path = tmp_path / "sync-rt.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def sync_command(config: Path) -> list[str]:
    return [CLI, "sync", "--config", str(config), "--json", "--no-progress"]


def sync(config: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        sync_command(config),
        env={"PATH": "/usr/bin:/bin", **(env if env is not None else root_env())},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def summary(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def seed(admin: RtAdmin, queue: str, count: int) -> list[str]:
    return [admin.new_ticket(queue, TEXTS[n % len(TEXTS)]) for n in range(count)]


def twice_written(admin: RtAdmin, queue: str) -> list[tuple[str, str]]:
    """(ticket, what) for every marker or tag value present more than once."""
    found = []
    for tid, state in admin.state(queue).items():
        keys = [k for text in admin.comments(tid) for k in markers_in(text)]
        found += [(tid, k) for k in set(keys) if keys.count(k) > 1]
        tags = state["tags"] or []
        found += [(tid, t) for t in set(tags) if tags.count(t) > 1]
    return found


def test_second_sync_writes_nothing(admin: RtAdmin, tmp_path: Path) -> None:
    queue = admin.new_queue()
    ids = seed(admin, queue, 3)
    config = write_config(tmp_path, admin.url, queue)
    settle()
    first = summary(sync(config))
    assert first["tickets_seen"] == 3
    assert sum(first["actions_applied"].values()) > 0
    written = admin.state(queue)
    assert "ef_frustration_high" in written[ids[0]]["tags"]
    assert any(markers_in(text) for text in admin.comments(ids[0]))

    settle()  # our own writes moved LastUpdated: the next run reads the tickets again
    second = summary(sync(config))
    assert second["tickets_seen"] == 3
    assert sum(second["actions_applied"].values()) == 0
    assert admin.state(queue) == written  # not one transaction more
    assert twice_written(admin, queue) == []


def comments_in(admin: RtAdmin, ids: list[str]) -> int:
    query = f"ObjectType = 'RT::Ticket' AND Type = 'Comment' AND ObjectId >= {ids[0]}"
    query += f" AND ObjectId <= {ids[-1]}"
    return int(admin.call("GET", "/transactions", query=query)["total"])


def test_sigkill_mid_run_then_rerun_writes_nothing_twice(admin: RtAdmin, tmp_path: Path) -> None:
    queue = admin.new_queue()
    ids = seed(admin, queue, 6)
    config = write_config(tmp_path, admin.url, queue, per_page=1)
    settle()
    env = {"PATH": "/usr/bin:/bin", **root_env()}
    process = subprocess.Popen(
        sync_command(config), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while comments_in(admin, ids) == 0 and process.poll() is None:
        assert time.monotonic() < deadline, "the sync never wrote a comment"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    assert process.wait(30) == -signal.SIGKILL, "the run finished before it could be killed"
    handled = [tid for tid, s in admin.state(queue).items() if s["tags"]]
    assert len(handled) < len(ids)  # it really died mid-run

    settle()
    rerun = summary(sync(config))
    assert rerun["status"] == "finished"
    assert twice_written(admin, queue) == []
    state = admin.state(queue)
    assert all(s["tags"] for s in state.values())  # every ticket was handled: nothing lost
    settle()
    assert sum(summary(sync(config))["actions_applied"].values()) == 0
    assert admin.state(queue) == state


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in done.stderr
    return lines[0]


def test_bad_credentials_exit_2_with_one_line(admin: RtAdmin, tmp_path: Path) -> None:
    queue = admin.new_queue()
    config = write_config(tmp_path, admin.url, queue)
    done = sync(config, {"RT_USER": "root", "RT_PASSWORD": "not-the-password"})
    assert done.returncode == 2
    message = one_line_error(done)
    assert "401" in message
    assert "not-the-password" not in done.stderr + done.stdout


def test_token_auth_syncs_and_a_bogus_token_is_refused(admin: RtAdmin, tmp_path: Path) -> None:
    token = require_token()
    queue = admin.new_queue()
    seed(admin, queue, 1)
    config = write_config(tmp_path, admin.url, queue, auth="token")
    settle()
    assert summary(sync(config, {"RT_TOKEN": token}))["tickets_seen"] == 1
    refused = sync(config, {"RT_TOKEN": "1-14-0123456789abcdef"})
    assert refused.returncode == 2
    assert "401" in one_line_error(refused)


def test_rt_down_names_the_host_and_loses_nothing(admin: RtAdmin, tmp_path: Path) -> None:
    queue = admin.new_queue()
    ids = seed(admin, queue, 4)
    port = free_port()  # nothing listens here yet: RT is "down"
    url = f"http://127.0.0.1:{port}"
    config = write_config(
        tmp_path, url, queue, per_page=1, max_attempts=2, max_total_wait_seconds=1
    )
    settle()
    down = sync(config)
    assert down.returncode == 4
    assert f"RT at {url} did not answer" in one_line_error(down)

    proxy = Proxy.to(admin.url, port, limit=12)  # RT goes away in the middle of the run
    try:
        midway = sync(config)
    finally:
        proxy.stop()
    assert midway.returncode == 4
    assert f"RT at {url} did not answer" in one_line_error(midway)
    handled = [tid for tid, s in admin.state(queue).items() if s["tags"]]
    assert len(handled) < len(ids)

    proxy = Proxy.to(admin.url, port)  # RT is back
    try:
        settle()
        back = summary(sync(config))
    finally:
        proxy.stop()
    assert back["status"] == "finished"
    assert all(s["tags"] for s in admin.state(queue).values())  # nothing lost
    assert twice_written(admin, queue) == []
