"""Request Tracker connector configuration and credentials.

The config file names *environment variables*; secrets never appear in it. RT has no hosted
address, so ``base_url`` (scheme, host and port, e.g. ``https://rt.example.com``) is required; RT's
``$WebPath`` goes in ``web_path`` (Debian's package default is ``/rt``); REST 2 lives under
``{base_url}{web_path}/REST/2.0``.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import ClassVar, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, model_validator

from empathy_firewall.connectors.config import HttpConnectorConfig, environment, required_secret
from empathy_firewall.models import Priority

__all__ = ["RtConfig", "resolve_authorization"]

_SECRET_KEYS = {"password": "password_env", "token": "token_env", "auth_token": "token_env"}
_LEVELS = {Priority.LOW: 0, Priority.NORMAL: 50, Priority.HIGH: 75, Priority.URGENT: 100}


class RtConfig(HttpConnectorConfig):
    """Settings for one RT instance. Only environment-variable *names* refer to secrets.

    ``tags_field`` names the ticket custom field (multi-value, freeform) that holds tags;
    ``settle_seconds``: tickets updated in the last seconds wait for the next run (a write
    being committed in the current second is never skipped);
    ``timezone`` is the zone RT reads TicketSQL dates in: RT's ``$Timezone``, or the RT
    user's own timezone preference when set (checked at every poll);
    ``queues`` limits polling to these queues (empty: every queue the user can see);
    ``priorities`` maps the core's four levels onto RT's numeric priority (reading picks the
    highest level whose number the ticket reaches).
    """

    secret_keys: ClassVar[Mapping[str, str]] = _SECRET_KEYS

    auth: Literal["basic", "token"] = "basic"
    user: str | None = None
    user_env: str = "RT_USER"
    password_env: str = "RT_PASSWORD"  # noqa: S105 - a variable name, not a secret
    token_env: str = "RT_TOKEN"  # noqa: S105 - a variable name, not a secret

    web_path: str = Field(default="", pattern=r"^(/[\w.~-]+)*$")
    queues: tuple[str, ...] = ()
    tags_field: str = Field(default="Tags", min_length=1)
    settle_seconds: int = Field(default=2, ge=0, le=60)
    timezone: str = "UTC"
    initial_lookback_minutes: int = Field(default=24 * 60, ge=1)
    per_page: int = Field(default=50, ge=1, le=100)
    priorities: dict[Priority, int] = Field(default_factory=lambda: dict(_LEVELS))

    @model_validator(mode="after")
    def _needs_base_url(self) -> Self:
        if self.base_url is None:
            raise ValueError("set `base_url` to the RT web root (RT is self-hosted)")
        try:
            ZoneInfo(self.timezone)
        except (ValueError, ZoneInfoNotFoundError):
            raise ValueError(f"unknown timezone {self.timezone!r} (an IANA name)") from None
        if set(self.priorities) != set(Priority):
            raise ValueError("`priorities` must give a number for low, normal, high and urgent")
        return self

    @property
    def zone(self) -> ZoneInfo:
        """:attr:`timezone` as a zone."""
        return ZoneInfo(self.timezone)

    @property
    def web(self) -> str:
        """RT's web root: ``base_url`` plus ``web_path`` (Debian's default is ``/rt``)."""
        return f"{self.url}{self.web_path}"

    @property
    def api(self) -> str:
        """The REST 2 root: ``{web}/REST/2.0``."""
        return f"{self.web}/REST/2.0"


def resolve_authorization(config: RtConfig, env: Mapping[str, str] | None = None) -> str:
    """The ``Authorization`` header value from the environment (never logged).

    Raises :class:`~empathy_firewall.errors.ConfigError` naming the missing variable.
    """
    if config.auth == "token":
        token = required_secret(config.token_env, env, what="RT auth token", strip=True)
        return f"token {token}"
    user = config.user or environment(env).get(config.user_env) or ""
    if not user:
        required_secret(config.user_env, env, what="RT basic auth user")
    password = required_secret(config.password_env, env, what="RT basic auth password")
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
