"""Zendesk connector configuration and credentials.

The config file names *environment variables*; secrets themselves never appear in it.
Putting a token, password or signing secret in the file is rejected with a message that
says which variable to use instead.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Literal

from pydantic import Field

from empathy_firewall.connectors.config import (
    HttpConnectorConfig,
    environment,
    required_secret,
    secret_from_env,
)
from empathy_firewall.connectors.people import CustomerFieldNames
from empathy_firewall.errors import ConfigError

__all__ = ["Credentials", "ZendeskConfig", "resolve_credentials"]

_SECRET_KEYS: dict[str, str] = {
    "token": "token_env",
    "api_token": "token_env",
    "password": "token_env",
    "oauth_token": "oauth_token_env",
    "access_token": "oauth_token_env",
    "secret": "signing_secret_env",
    "signing_secret": "signing_secret_env",
    "webhook_secret": "signing_secret_env",
}


class ZendeskConfig(HttpConnectorConfig):
    """Settings for one Zendesk account. Only environment-variable *names* refer to secrets.

    ``base_url`` and the transport settings (``timeout_seconds``, ``max_attempts``,
    ``max_total_wait_seconds``) come from :class:`HttpConnectorConfig`.
    """

    secret_keys: ClassVar[Mapping[str, str]] = _SECRET_KEYS
    address_key: ClassVar[str] = "subdomain"

    subdomain: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]*$")
    auth: Literal["api_token", "oauth"] = "api_token"
    email: str | None = None
    email_env: str = "ZENDESK_EMAIL"
    token_env: str = "ZENDESK_API_TOKEN"  # noqa: S105 - a variable name, not a secret
    oauth_token_env: str = "ZENDESK_OAUTH_TOKEN"  # noqa: S105 - a variable name
    signing_secret_env: str = "ZENDESK_WEBHOOK_SECRET"  # noqa: S105 - a variable name
    allow_unsigned_webhooks: bool = False
    webhook_replay_window_seconds: float = Field(default=300.0, gt=0)

    # polling
    polling: bool = True
    initial_lookback_minutes: int = Field(default=24 * 60, ge=2)
    per_page: int = Field(default=1000, ge=1, le=1000)
    sideloads: tuple[str, ...] = ("users", "groups", "organizations", "metric_sets")
    include_slas: bool = False
    support_type_scope: Literal["all", "agent", "ai_agent"] = "all"
    exclude_deleted: bool = False
    fetch_comments: bool = True
    history: Literal["audits", "comments"] = "audits"
    """``audits``: read each ticket's audits, which hold its comments *and* its history
    (reassignments, status and priority changes) for the same one call per ticket that
    the comments endpoint costs; ``comments``: comments only (no history events)."""
    audits_page_size: int = Field(default=100, ge=1, le=100)

    # people
    customer_fields: CustomerFieldNames = Field(default_factory=CustomerFieldNames)
    """User/organisation field keys holding tier, lifetime value, orders, language."""
    fetch_agents: bool = True
    """List agents once per run (group memberships with users and groups sideloaded)."""
    agents_cache_seconds: float = Field(default=600.0, ge=0)
    """How long a long-lived process (``serve``) keeps the agent list before reading it again."""
    agent_opt_in_field: str | None = None
    """A user field key where agents record their opt-ins (``strain,breaks,recognition``,
    ``all``, or a checkbox meaning all); a choice stored by the firewall wins over it."""
    comments_page_size: int = Field(default=100, ge=1, le=100)
    export_requests_per_minute: int = Field(default=10, ge=1, le=30)

    # write-back
    bulk_size: int = Field(default=100, ge=1, le=100)
    max_inflight_jobs: int = Field(default=25, ge=1, le=30)
    job_poll_interval_seconds: float = Field(default=1.0, gt=0)
    job_timeout_seconds: float = Field(default=600.0, gt=0)
    ticket_updates_per_window: int = Field(default=30, ge=1)
    ticket_update_window_seconds: float = Field(default=600.0, gt=0)
    macro_comments_public: bool = False
    conflict_attempts: int = Field(default=3, ge=1, le=10)

    def hosted_url(self) -> str:
        """``https://{subdomain}.zendesk.com`` (``url`` is ``base_url`` when that is set)."""
        return f"https://{self.subdomain}.zendesk.com"

    def account_name(self) -> str | None:
        """The subdomain (else the account is the host of ``base_url``)."""
        return self.subdomain


@dataclass(frozen=True, slots=True)
class Credentials:
    """Resolved secrets. ``repr`` never shows them."""

    authorization: str
    signing_secret: str | None

    def __repr__(self) -> str:
        signed = "set" if self.signing_secret else "unset"
        return f"Credentials(authorization=<hidden>, signing_secret=<{signed}>)"


def resolve_credentials(config: ZendeskConfig, env: Mapping[str, str] | None = None) -> Credentials:
    """Read the secrets named by ``config`` from ``env`` (default: ``os.environ``).

    Raises :class:`ConfigError` naming the missing variable (never its value).
    """
    secret = secret_from_env(config.signing_secret_env, env)
    if config.auth == "oauth":
        token = required_secret(config.oauth_token_env, env, what="Zendesk OAuth")
        return Credentials(f"Bearer {token}", secret)
    email = config.email or environment(env).get(config.email_env)
    if not email:
        raise ConfigError(
            f"Zendesk API token auth needs the agent email: set `email` or {config.email_env}"
        )
    token = required_secret(config.token_env, env, what="Zendesk API token")
    basic = base64.b64encode(f"{email}/token:{token}".encode()).decode("ascii")
    return Credentials(f"Basic {basic}", secret)
