"""Configuration and credentials: secrets only from the environment."""

from __future__ import annotations

import base64

import pytest

from empathy_firewall.errors import ConfigError
from empathy_firewall_zendesk import ZendeskConnector
from empathy_firewall_zendesk.config import ZendeskConfig, resolve_credentials


def test_base_url_comes_from_the_subdomain_and_can_be_overridden() -> None:
    assert ZendeskConfig(subdomain="acme").url == "https://acme.zendesk.com"
    assert ZendeskConfig(subdomain="acme", base_url="http://localhost:8080/").url == (
        "http://localhost:8080"
    )


@pytest.mark.parametrize("key", ["token", "api_token", "password", "signing_secret"])
def test_a_secret_in_the_config_file_is_refused_with_the_variable_to_use(key: str) -> None:
    with pytest.raises(ConfigError, match="environment variable") as info:
        ZendeskConnector.from_config({"subdomain": "acme", key: "hunter2"})
    assert "hunter2" not in str(info.value)


def test_api_token_basic_auth_uses_email_slash_token() -> None:
    config = ZendeskConfig(subdomain="acme", email="agent@acme.test")
    creds = resolve_credentials(config, {"ZENDESK_API_TOKEN": "tok"})
    expected = base64.b64encode(b"agent@acme.test/token:tok").decode()
    assert creds.authorization == f"Basic {expected}"
    assert "tok" not in repr(creds)


def test_oauth_uses_a_bearer_token() -> None:
    config = ZendeskConfig(subdomain="acme", auth="oauth")
    creds = resolve_credentials(config, {"ZENDESK_OAUTH_TOKEN": "abc"})
    assert creds.authorization == "Bearer abc"


def test_a_missing_variable_is_named_in_the_error() -> None:
    config = ZendeskConfig(subdomain="acme", email="a@b.c", token_env="MY_ZD_TOKEN")
    with pytest.raises(ConfigError, match="MY_ZD_TOKEN"):
        resolve_credentials(config, {})


def test_pure_parts_work_without_credentials() -> None:
    connector = ZendeskConnector.from_config({"subdomain": "acme"}, env={})
    assert connector.render([]) == ()
    with pytest.raises(ConfigError):
        connector.check()
