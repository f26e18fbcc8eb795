"""Freshdesk connector configuration and credentials.

The config file names *environment variables*; secrets never appear in it. Putting an API
key, password or webhook secret in the file is rejected with a message naming the
variable to use instead.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Literal

from pydantic import Field

from empathy_firewall.connectors.config import HttpConnectorConfig, required_secret, secret_from_env
from empathy_firewall.connectors.people import CustomerFieldNames
from empathy_firewall.models import TicketStatus

__all__ = ["Credentials", "FreshdeskConfig", "resolve_credentials", "webhook_secret"]

_SECRET_KEYS: dict[str, str] = {
    "api_key": "api_key_env",
    "apikey": "api_key_env",
    "key": "api_key_env",
    "token": "api_key_env",
    "password": "api_key_env",
    "secret": "webhook_secret_env",
    "webhook_secret": "webhook_secret_env",
    "shared_secret": "webhook_secret_env",
}


class FreshdeskConfig(HttpConnectorConfig):
    """Settings for one Freshdesk account. Only environment-variable *names* refer to secrets.

    ``base_url`` and the transport settings (``timeout_seconds``, ``max_attempts``,
    ``max_total_wait_seconds``) come from :class:`HttpConnectorConfig`.
    """

    secret_keys: ClassVar[Mapping[str, str]] = _SECRET_KEYS
    address_key: ClassVar[str] = "domain"

    domain: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]*(\.freshdesk\.com)?$")
    api_key_env: str = "FRESHDESK_API_KEY"

    # webhooks (automation rules; unsigned, so a shared secret authenticates them)
    webhook_secret_env: str = "FRESHDESK_WEBHOOK_SECRET"  # noqa: S105 - a variable name
    webhook_auth: Literal["header", "basic"] = "header"
    webhook_secret_header: str = Field(
        default="X-Empathy-Firewall-Token", pattern=r"^[A-Za-z0-9-]{1,64}$"
    )
    allow_unauthenticated_webhooks: bool = False

    # polling
    polling: bool = True
    initial_lookback_minutes: int = Field(default=24 * 60, ge=1)
    overlap_seconds: int = Field(default=1, ge=1, le=3600)
    settle_seconds: int = Field(default=5, ge=1, le=3600)
    per_page: int = Field(default=100, ge=1, le=100)
    max_pages: int = Field(default=300, ge=1, le=300)
    includes: tuple[Literal["stats", "requester", "description"], ...] = (
        "stats",
        "requester",
        "description",
    )
    fetch_conversations: bool = True
    custom_statuses: dict[int, TicketStatus] = Field(default_factory=dict)
    people_cache_seconds: float = Field(default=600.0, ge=0)

    # people
    customer_fields: CustomerFieldNames = Field(default_factory=CustomerFieldNames)
    """Contact/company custom field names holding tier, lifetime value, orders, language."""
    fetch_contacts: bool = True
    """Read each new requester's contact (and company) once per run: the list's
    ``include=requester`` carries no custom fields, no language and no company."""

    # rate limits: None means "learn it from X-RateLimit-Total"
    requests_per_minute: int | None = Field(default=None, ge=1)
    list_requests_per_minute: int | None = Field(default=None, ge=1)
    reserve_per_minute: int = Field(default=0, ge=0)

    # write-back
    tag_attempts: int = Field(default=3, ge=1, le=10)
    recheck_tags: bool = True
    bulk_priority: bool = True
    bulk_min_tickets: int = Field(default=3, ge=2)
    job_poll_interval_seconds: float = Field(default=1.0, gt=0)
    job_timeout_seconds: float = Field(default=120.0, gt=0)
    canned_responses_as: Literal["note", "draft"] = "note"

    def hosted_url(self) -> str:
        """``https://{domain}.freshdesk.com`` (``url`` is ``base_url`` when that is set)."""
        assert self.domain is not None  # guaranteed when base_url is unset
        host = (
            self.domain
            if self.domain.endswith(".freshdesk.com")
            else f"{self.domain}.freshdesk.com"
        )
        return f"https://{host}"

    def account_name(self) -> str | None:
        """The domain without ``.freshdesk.com`` (else the account is the host of ``base_url``)."""
        return None if self.domain is None else self.domain.removesuffix(".freshdesk.com")


@dataclass(frozen=True, slots=True)
class Credentials:
    """The resolved ``Authorization`` header. ``repr`` never shows it."""

    authorization: str

    def __repr__(self) -> str:
        return "Credentials(authorization=<hidden>)"


def resolve_credentials(
    config: FreshdeskConfig, env: Mapping[str, str] | None = None
) -> Credentials:
    """Basic auth with the API key as user name and ``X`` as password (Freshdesk's scheme).

    Raises :class:`ConfigError` naming the missing variable (never its value).
    """
    key = required_secret(config.api_key_env, env, what="Freshdesk API key", strip=True)
    basic = base64.b64encode(f"{key}:X".encode()).decode("ascii")
    return Credentials(f"Basic {basic}")


def webhook_secret(config: FreshdeskConfig, env: Mapping[str, str] | None = None) -> str | None:
    """The shared webhook secret from the environment, or None when unset."""
    return secret_from_env(config.webhook_secret_env, env)
