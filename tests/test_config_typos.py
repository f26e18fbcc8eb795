"""Issue 11 item 10: a config typo names the file, every problem at once, the allowed keys
and the closest one; a misspelt connector name suggests the installed one, never a
package that does not exist."""

from __future__ import annotations

from pathlib import Path

import pytest

from empathy_firewall.errors import ConfigError
from empathy_firewall.sync.settings import load_sync_config


def test_every_typo_is_reported_at_once_with_the_closest_key(tmp_path: Path) -> None:
    path = tmp_path / "firewall.toml"
    path.write_text(
        "rulez = ['rules/default']\n"
        "[connector]\nname = 'file'\npath = 'x.jsonl'\n"
        "[state]\nulr = 'sqlite:///x.db'\n"
        "[sync]\nlock_ttl_minute = 3\n"
        "[settings]\nfrinction = {}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_sync_config(path)
    message = str(caught.value)
    assert str(path) in message
    assert "5 problems" not in message  # exactly the four below
    assert "4 problems" in message
    assert "rulez: unknown key; did you mean 'rules'?" in message
    assert "state.ulr: unknown key; did you mean 'url'?" in message
    assert "(allowed: keep_hours, max_tickets_per_customer, schema, url, url_env)" in message
    assert "sync.lock_ttl_minute: unknown key; did you mean 'lock_ttl_minutes'?" in message
    assert "settings.frinction: unknown key; did you mean 'friction'?" in message


def test_a_misspelt_connector_suggests_the_installed_one_not_a_package(tmp_path: Path) -> None:
    from empathy_firewall.connectors.registry import create

    with pytest.raises(ConfigError) as caught:
        create("zendsk", {})
    message = str(caught.value)
    assert "did you mean 'zendesk'?" in message
    assert "empathy-firewall-zendsk" not in message
    with pytest.raises(ConfigError) as other:
        create("acme-desk", {})
    assert "empathy-firewall-acme-desk" not in str(other.value)


def test_a_connector_key_typo_names_the_closest_key() -> None:
    from empathy_firewall.connectors.registry import create

    with pytest.raises(ConfigError) as caught:
        create("zendesk", {"base_urll": "https://x.zendesk.com"})
    assert "connector.base_urll: unknown key; did you mean 'base_url'?" in str(caught.value)


def test_simulate_accepts_the_config_file_sync_uses(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from empathy_firewall.cli import main

    root = Path(__file__).resolve().parents[1]
    config = root / "examples" / "sync-file.toml"
    sample = root / "examples" / "sample_helpdesk.jsonl"
    result = CliRunner().invoke(main, ["simulate", str(sample), "--config", str(config)])
    assert result.exit_code == 0, result.output
