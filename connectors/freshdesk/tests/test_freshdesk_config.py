"""Configuration: addresses, secrets only from the environment, credentials never shown."""

from __future__ import annotations

import base64

import pytest

from empathy_firewall.connectors import create
from empathy_firewall.errors import ConfigError
from empathy_firewall_freshdesk import FreshdeskConnector
from empathy_firewall_freshdesk.config import FreshdeskConfig, resolve_credentials


def test_domain_gives_the_freshdesk_url_and_account() -> None:
    config = FreshdeskConfig(domain="acme")
    assert config.url == "https://acme.freshdesk.com"
    assert config.account == "acme"
    assert FreshdeskConfig(domain="acme.freshdesk.com").url == "https://acme.freshdesk.com"


def test_base_url_overrides_the_domain() -> None:
    config = FreshdeskConfig(domain="acme", base_url="http://localhost:8080/")
    assert config.url == "http://localhost:8080"


def test_an_address_is_required() -> None:
    with pytest.raises(ConfigError, match="domain"):
        create("freshdesk", {})


@pytest.mark.parametrize("key", ["api_key", "password", "webhook_secret", "secret"])
def test_secrets_in_the_file_are_refused_without_echoing_them(key: str) -> None:
    with pytest.raises(ConfigError) as info:
        create("freshdesk", {"domain": "acme", key: "hunter2-value"})
    assert "hunter2-value" not in str(info.value)
    assert "_env" in str(info.value)


def test_unknown_keys_are_refused() -> None:
    with pytest.raises(ConfigError, match="subdomian"):
        create("freshdesk", {"domain": "acme", "subdomian": "x"})


def test_api_key_is_basic_auth_with_x_as_password() -> None:
    creds = resolve_credentials(FreshdeskConfig(domain="acme"), {"FRESHDESK_API_KEY": "abc123"})
    assert creds.authorization == "Basic " + base64.b64encode(b"abc123:X").decode()
    assert "abc123" not in repr(creds)


def test_a_missing_key_names_the_variable() -> None:
    config = FreshdeskConfig(domain="acme", api_key_env="MY_FD_KEY")
    with pytest.raises(ConfigError, match="MY_FD_KEY"):
        resolve_credentials(config, {})


def test_pure_parts_work_without_credentials() -> None:
    connector = FreshdeskConnector.from_config({"domain": "acme"}, env={})
    assert connector.render([]) == ()
    with pytest.raises(ConfigError, match="FRESHDESK_API_KEY"):
        connector.check()


def test_custom_statuses_map_from_string_keys() -> None:
    config = FreshdeskConfig.model_validate({"domain": "a", "custom_statuses": {"6": "pending"}})
    assert config.custom_statuses == {6: "pending"}
