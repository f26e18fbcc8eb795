"""The command line: `agents list|opt-in|opt-out`, `digest send [--dry-run]`, and `serve`'s
opt-out route mounted from the same configuration file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from channel_support import KEY, SAMPLE, queued_rows, smtp_server
from click.testing import CliRunner
from starlette.testclient import TestClient

from empathy_firewall.cli import main
from empathy_firewall.errors import ConfigError
from empathy_firewall.signals.strain import Interaction
from empathy_firewall.state import StateStore

NOW = "2026-09-20T12:00:00+00:00"
LATER = "2026-09-20T13:00:00+00:00"
ENV = {"EMPATHY_FIREWALL_CHANNEL_SECRET": KEY.decode()}


def _config(folder: Path, port: int = 25, channels: bool = True) -> Path:
    text = f"""
[connector]
name = "file"
path = "{SAMPLE}"
output = "plans.jsonl"

[state]
url = "sqlite:///state.db"
"""
    if channels:
        text += f"""
[channels]
public_url = "https://firewall.example.com"
order = ["email"]

[channels.digest]
quiet_hours = "20:00-08:00"
timezone = "UTC"

[channels.email]
host = "127.0.0.1"
port = {port}
security = "none"
sender = "Empathy Firewall <care@example.com>"

[channels.agents.agt-01]
email = "maya@example.com"
"""
    path = folder / "firewall.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=ENV)
    return result.exit_code, result.stdout, result.stderr


def test_agents_opt_in_list_opt_out(tmp_path: Path) -> None:
    config = str(_config(tmp_path))
    code, out, _ = _cli("agents", "list", "--config", config)
    assert code == 0
    assert "no stored choices" in out
    code, out, _ = _cli("agents", "opt-in", "agt-04", "--feature", "breaks", "--config", config)
    assert code == 0
    assert "agent agt-04 opted in to breaks" in out
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    store.record_interactions(
        "file:sample:agt-01", [Interaction("c", datetime.fromisoformat(NOW), 0.9)]
    )
    code, out, _ = _cli("agents", "opt-out", "agt-01", "--config", config)
    assert code == 0
    assert "opted out of strain, breaks, recognition" in out
    assert "deleted 1 strain record(s)" in out
    code, out, _ = _cli("agents", "list", "--config", config)
    lines = out.splitlines()
    assert lines[1].split() == ["agt-01", "out", "out", "out"]
    assert lines[2].split() == ["agt-04", "-", "in", "-"]
    store.close()


def test_opt_in_needs_a_feature_and_a_known_one(tmp_path: Path) -> None:
    config = str(_config(tmp_path))
    code, _, err = _cli("agents", "opt-in", "agt-04", "--config", config)
    assert code == 2
    assert "name at least one --feature" in err
    code, _, err = _cli("agents", "opt-in", "agt-04", "--feature", "naps", "--config", config)
    assert code == 2
    assert "'naps' is not one of" in err


def test_digest_dry_run_shows_exactly_what_is_sent_and_changes_nothing(tmp_path: Path) -> None:
    with smtp_server() as (port, inbox):
        config = str(_config(tmp_path, port))
        code, _, err = _cli("sync", "--config", config, "--now", NOW)
        assert code == 0, err
        store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
        before = queued_rows(store)
        code, dry, err = _cli("digest", "send", "--config", config, "--now", LATER, "--dry-run")
        assert code == 0, err
        assert queued_rows(store) == before
        assert inbox.messages == []
        code, out, err = _cli("digest", "send", "--config", config, "--now", LATER)
        assert code == 0, err
        assert "agent agt-01: sent" in out
        assert "agent agt-03: no-address" in out
    (message,) = inbox.to("maya@example.com")
    # the dry run printed this very message: subject and every line of the text
    assert f"Subject: {message['Subject']}" in dry
    assert message.get_content().replace("\r\n", "\n").strip() in dry
    assert "=== to agent agt-01 via email <maya@example.com>" in dry
    store.close()


def test_digest_send_in_quiet_hours_sends_nothing(tmp_path: Path) -> None:
    config = str(_config(tmp_path))
    assert _cli("sync", "--config", config, "--now", NOW)[0] == 0
    code, out, _ = _cli("digest", "send", "--config", config, "--now", "2026-09-20T22:00:00+00:00")
    assert code == 0
    assert "agent agt-01: quiet" in out


def test_digest_send_config_errors_are_one_line(tmp_path: Path) -> None:
    config = _config(tmp_path, channels=False)
    code, _, err = _cli("digest", "send", "--config", str(config))
    assert code == 2
    assert "channels.public_url" in err
    assert "Traceback" not in err
    config = _config(tmp_path)
    result = CliRunner().invoke(
        main,
        ["digest", "send", "--config", str(config)],
        env={"EMPATHY_FIREWALL_CHANNEL_SECRET": "short"},
    )
    assert result.exit_code == 2
    assert "at least 16 characters" in result.stderr
    config.write_text(config.read_text() + "\n[channels.digest2]\n", encoding="utf-8")
    code, _, err = _cli("digest", "send", "--config", str(config))
    assert code == 2
    assert "channels.digest2" in err
    assert len(err.strip().splitlines()) == 1


def test_serve_mounts_the_opt_out_route_from_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime, timedelta

    from empathy_firewall.channels.links import OptOutToken, opt_out_url
    from empathy_firewall.optins import FEATURES
    from empathy_firewall.state.agents import stored_choices
    from empathy_firewall.webhooks.service import WebhookService
    from empathy_firewall_zendesk.testing import FakeZendesk

    fake = FakeZendesk()
    config = tmp_path / "serve.toml"
    config.write_text(
        '[connector]\nname = "zendesk"\nbase_url = "https://fake.zendesk.test"\n\n'
        '[state]\nurl = "sqlite:///serve.db"\n\n[webhooks]\nworkers = 0\n\n'
        '[channels]\npublic_url = "https://firewall.example.com"\n',
        encoding="utf-8",
    )
    options = {"zendesk": {"transport": fake, "clock": fake.clock, "env": fake.env}}
    monkeypatch.delenv("EMPATHY_FIREWALL_CHANNEL_SECRET", raising=False)
    service = WebhookService.from_file(config, connector_options=options)
    try:
        with pytest.raises(ConfigError, match="EMPATHY_FIREWALL_CHANNEL_SECRET"):
            service.app()  # the link key is checked at start-up, like webhook secrets
        monkeypatch.setenv("EMPATHY_FIREWALL_CHANNEL_SECRET", KEY.decode())
        expires = datetime.now(UTC) + timedelta(days=1)
        token = OptOutToken("zendesk", "fake.zendesk.test", "1003", FEATURES, expires)
        path = opt_out_url("", token, KEY)
        with TestClient(service.app()) as client:
            assert client.get("/healthz").status_code == 200
            page = client.get(path)
            assert page.status_code == 200
            assert page.headers["cache-control"] == "no-store"
            assert client.post(path, content=b"List-Unsubscribe=One-Click").status_code == 200
            assert client.post("/agents/opt-out?t=nope").status_code == 400
        assert stored_choices(service.store, "zendesk", "fake.zendesk.test", ["1003"]) == {
            "1003": {"strain": False, "breaks": False, "recognition": False}
        }
    finally:
        service.close()
