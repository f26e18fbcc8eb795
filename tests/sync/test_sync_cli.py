"""The sync and check commands: exit codes, messages, the file source end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sync_support import SAMPLE

from empathy_firewall.cli import main
from empathy_firewall.state import StateStore, acquire_lock
from empathy_firewall.state.migrations import MIGRATIONS

NOW = "2026-09-20T12:00:00+00:00"


def _config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "sync.toml"
    path.write_text(
        f"""
[connector]
name = "file"
path = "{SAMPLE}"
output = "plans.jsonl"
page_size = 50
{extra}
""",
        encoding="utf-8",
    )
    return path


def _sync(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["sync", *args])
    return result.exit_code, result.stdout, result.stderr


def test_sync_runs_then_has_nothing_left_to_do(tmp_path: Path) -> None:
    config = _config(tmp_path)
    code, out, _ = _sync("--config", str(config), "--now", NOW, "--json")
    assert code == 0
    summary = json.loads(out)
    assert summary["tickets_seen"] == 320
    assert summary["status"] == "finished"
    applied = sum(summary["actions_applied"].values())
    assert applied > 100
    lines = (tmp_path / "plans.jsonl").read_text(encoding="utf-8").splitlines()
    keys = [a["key"] for line in lines for a in json.loads(line)["actions"]]
    assert len(keys) == len(set(keys)) == applied  # every action written once
    assert (tmp_path / "sync.db").exists()  # the default store sits next to the config

    code, out, _ = _sync("--config", str(config), "--now", NOW, "--json")
    assert code == 0
    assert json.loads(out)["tickets_seen"] == 0


def test_an_overlapping_run_exits_at_once_with_code_6(tmp_path: Path) -> None:
    config = _config(tmp_path)
    with StateStore(f"sqlite:///{tmp_path / 'sync.db'}") as store:
        lease = acquire_lock(store, f"sync:file:{SAMPLE}")
        code, _, err = _sync("--config", str(config), "--now", NOW)
        lease.release()
    assert code == 6
    assert "another run holds the lock" in err
    assert not (tmp_path / "plans.jsonl").exists()


def test_dry_run_prints_plans_and_writes_nothing(tmp_path: Path) -> None:
    config = _config(tmp_path)
    code, out, err = _sync(
        "--config", str(config), "--now", NOW, "--dry-run", "--max-tickets", "100"
    )
    assert code == 0
    plans = [json.loads(line) for line in out.splitlines() if line.startswith('{"plan"')]
    assert plans
    assert not (tmp_path / "plans.jsonl").exists()
    assert "dry_run=true" in err  # the summary goes to stderr: stdout is JSON lines only


def test_max_tickets_and_since(tmp_path: Path) -> None:
    config = _config(tmp_path)
    code, out, _ = _sync("--config", str(config), "--now", NOW, "--max-tickets", "60", "--json")
    assert code == 0
    assert json.loads(out)["tickets_seen"] == 100
    code, out, _ = _sync(
        "--config", str(config), "--now", NOW, "--since", "2026-09-19T00:00:00+00:00", "--json"
    )
    assert code == 0
    assert 0 < json.loads(out)["tickets_seen"] < 320


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("[state]\nurl = 'postgresql+psycopg://ef:hunter2@db/ef'", "must not contain a password"),
        ("[state]\nurl = 'mysql://db/ef'", "state.url"),
        ("[sync]\nlock_ttl_minutes = -1", "sync.lock_ttl_minutes"),
        ("[sync]\nmystery = 1", "sync.mystery"),
    ],
)
def test_config_errors_name_the_key(tmp_path: Path, extra: str, message: str) -> None:
    code, _, err = _sync("--config", str(_config(tmp_path, extra)))
    assert code == 2
    assert message in err
    assert "hunter2" not in err


def test_a_missing_connector_name_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[connector]\nsubdomain = 'acme'\n", encoding="utf-8")
    code, _, err = _sync("--config", str(path))
    assert code == 2
    assert "connector.name" in err


def test_zendesk_secrets_in_the_file_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "zd.toml"
    path.write_text("[connector]\nname = 'zendesk'\nsubdomain = 'acme'\ntoken = 'x'\n")
    code, _, err = _sync("--config", str(path))
    assert code == 2
    assert "token_env" in err


def test_check_changes_nothing_and_says_ready(tmp_path: Path) -> None:
    config = _config(tmp_path)
    result = CliRunner().invoke(main, ["check", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "ready: sync can run" in result.stdout
    assert not (tmp_path / "sync.db").exists()
    _sync("--config", str(config), "--now", NOW, "--max-tickets", "10")
    result = CliRunner().invoke(main, ["check", "--config", str(config)])
    assert result.exit_code == 0
    latest = max(m.version for m in MIGRATIONS)
    assert f"schema version {latest}" in result.stdout
    assert "bookmark: saved" in result.stdout


def test_check_reports_missing_credentials(tmp_path: Path) -> None:
    path = tmp_path / "zd.toml"
    path.write_text("[connector]\nname = 'zendesk'\nsubdomain = 'acme'\n")
    result = CliRunner().invoke(main, ["check", "--config", str(path)])
    assert result.exit_code == 2
    assert "ZENDESK_API_TOKEN" in result.stderr or "ZENDESK_EMAIL" in result.stderr


def test_an_unreachable_state_store_exits_4_and_names_the_key(tmp_path: Path) -> None:
    extra = "[state]\nurl = 'postgresql+psycopg://postgres@127.0.0.1:9/test'"
    code, _, err = _sync("--config", str(_config(tmp_path, extra)))
    assert code == 4
    assert "state store unavailable" in err
    assert "state.url" in err
