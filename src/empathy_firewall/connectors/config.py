"""What every HTTP helpdesk connector's configuration shares: secrets only from the environment.

A config file names *environment variables*; secrets themselves never appear in it.
:class:`HttpConnectorConfig` rejects a secret written in the file with a message naming the
``*_env`` key to use instead (each connector lists its keys in ``secret_keys``), and holds
the settings the shared HTTP client reads: ``base_url`` and the transport's timeout and
retry bounds. The base URL is always configurable: ``base_url`` wins over the vendor's
hosted address (:meth:`HttpConnectorConfig.hosted_url`). :func:`secret_from_env` and
:func:`required_secret` read the secrets.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, ClassVar, Self

from pydantic import Field, model_validator

from empathy_firewall.connectors.base import ConnectorConfig
from empathy_firewall.errors import ConfigError

__all__ = ["HttpConnectorConfig", "environment", "required_secret", "secret_from_env"]


def environment(env: Mapping[str, str] | None = None) -> Mapping[str, str]:
    """``env``, or the process environment when it is None."""
    return os.environ if env is None else env


def secret_from_env(name: str, env: Mapping[str, str] | None = None) -> str | None:
    """The value of the variable ``name`` in ``env`` (default ``os.environ``); None if unset
    or empty."""
    return environment(env).get(name) or None


def required_secret(
    name: str, env: Mapping[str, str] | None = None, *, what: str, strip: bool = False
) -> str:
    """The value of the variable ``name``, stripped of surrounding blanks if ``strip``.

    Raises :class:`ConfigError` ("``what``: environment variable NAME is not set") when it
    is unset or empty; the message names the variable, never a value.
    """
    value = environment(env).get(name) or ""
    if strip:
        value = value.strip()
    if not value:
        raise ConfigError(f"{what}: environment variable {name} is not set")
    return value


class HttpConnectorConfig(ConnectorConfig):
    """Base of an HTTP helpdesk connector's config. Only variable *names* refer to secrets."""

    #: keys that would hold a secret in the file -> the ``*_env`` key to use instead
    secret_keys: ClassVar[Mapping[str, str]] = {}
    #: the key naming the vendor-hosted account (``subdomain``, ``domain``); required
    #: unless ``base_url`` is set (sandboxes, proxies, tests); "" when there is none
    address_key: ClassVar[str] = ""

    base_url: str | None = Field(default=None, pattern=r"^https?://[^\s/]+(:\d+)?/?$")

    # transport
    timeout_seconds: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=5, ge=1, le=10)
    max_total_wait_seconds: float = Field(default=300.0, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _no_secrets_in_clear(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            for key, env_key in cls.secret_keys.items():
                if key in data:
                    raise ValueError(
                        f"`{key}` must not be written in the config file; put the secret in "
                        f"an environment variable and name it with `{env_key}`"
                    )
        return data

    @model_validator(mode="after")
    def _has_address(self) -> Self:
        if self.address_key and self.base_url is None and getattr(self, self.address_key) is None:
            raise ValueError(
                f"set `{self.address_key}` (or `base_url` for sandboxes, proxies and tests)"
            )
        return self

    @property
    def url(self) -> str:
        """The API base URL: ``base_url`` if set, else :meth:`hosted_url`."""
        if self.base_url is not None:
            return self.base_url.rstrip("/")
        return self.hosted_url()

    def hosted_url(self) -> str:
        """The vendor's own address for the account named by :attr:`address_key`."""
        raise NotImplementedError(f"{type(self).__name__} needs `base_url`")

    @property
    def account(self) -> str:
        """The account name stamped on every SourceRef: :meth:`account_name`, else the host."""
        name = self.account_name()
        return name if name is not None else self.url.split("://", 1)[1]

    def account_name(self) -> str | None:
        """The account's name from the config (None: use the host of :attr:`url`)."""
        return None
