"""The ``[channels]`` configuration table: where agents' digests go, how often, and when not.

::

    [channels]
    public_url = "https://firewall.example.com"   # where `serve` is reachable (opt-out links)
    secret_env = "EMPATHY_FIREWALL_CHANNEL_SECRET" # the HMAC key for opt-out links
    link_days = 30                                 # an opt-out link works this long
    order = ["slack", "email"]                     # the first channel that knows the agent

    [channels.digest]
    max_per_shift = 2        # digests per agent per shift, at most
    shift_hours = 8
    max_moments = 10         # lines per digest; the rest wait for the next one
    quiet_hours = "20:00-08:00"
    timezone = "Europe/Berlin"
    max_age_hours = 24       # a moment older than this is dropped, not sent late

    [channels.email]
    host = "smtp.example.com"
    port = 587
    security = "starttls"    # "starttls", "ssl" or "none" (a local relay)
    username = "firewall@example.com"
    password_env = "EMPATHY_FIREWALL_SMTP_PASSWORD"
    sender = "Empathy Firewall <care@example.com>"

    [channels.slack]
    token_env = "EMPATHY_FIREWALL_SLACK_TOKEN"

    [channels.agents."12345"]  # per agent (the helpdesk's agent id); optional
    email = "sam@example.com"
    slack = "U0123ABCD"

Secrets (SMTP password, Slack token, link key) come from environment variables only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from empathy_firewall.errors import ConfigError

__all__ = [
    "AgentAddress",
    "ChannelSettings",
    "DigestSettings",
    "EmailSettings",
    "SlackSettings",
    "parse_channel_settings",
]

_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class _Table(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class DigestSettings(_Table):
    """``[channels.digest]``: batching, limits and quiet hours."""

    max_per_shift: int = Field(default=2, ge=1, le=48)
    """Digests one agent receives per shift, at most."""
    shift_hours: float = Field(default=8.0, gt=0, le=24)
    max_moments: int = Field(default=10, ge=1, le=100)
    """Moments (lines) per digest; the rest wait for the next digest."""
    quiet_hours: str | None = "20:00-08:00"
    """Local times with no digest, ``HH:MM-HH:MM`` (may wrap midnight); empty: none."""
    timezone: str = "UTC"
    max_age_hours: float = Field(default=24.0, gt=0, le=24 * 14)
    """A moment older than this is dropped rather than delivered late."""

    @field_validator("quiet_hours")
    @classmethod
    def _hours(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        match = _HOURS.match(value)
        if match is None or int(match[1]) > 23 or int(match[3]) > 23:
            raise ValueError("expected HH:MM-HH:MM, e.g. 20:00-08:00")
        if int(match[2]) > 59 or int(match[4]) > 59:
            raise ValueError("expected HH:MM-HH:MM, e.g. 20:00-08:00")
        return value.strip()

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (IANA name, e.g. Europe/Berlin)"
            ) from None
        return value

    @property
    def quiet(self) -> tuple[time, time] | None:
        """The quiet hours as (start, end) local times, or None."""
        if self.quiet_hours is None:
            return None
        match = _HOURS.match(self.quiet_hours)
        assert match is not None
        return time(int(match[1]), int(match[2])), time(int(match[3]), int(match[4]))


class EmailSettings(_Table):
    """``[channels.email]``: the SMTP relay digests are sent through."""

    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    security: str = Field(default="starttls", pattern="^(starttls|ssl|none)$")
    username: str | None = None
    password_env: str = "EMPATHY_FIREWALL_SMTP_PASSWORD"  # noqa: S105 - a variable name
    sender: str = Field(min_length=3)
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)


class SlackSettings(_Table):
    """``[channels.slack]``: the bot token's variable and the API base URL."""

    token_env: str = "EMPATHY_FIREWALL_SLACK_TOKEN"  # noqa: S105 - a variable name
    base_url: str = "https://slack.com/api"
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    max_retry_after_seconds: float = Field(default=120.0, ge=0, le=3600)
    """A 429 asking to wait longer than this ends the run (retry later) instead."""


class AgentAddress(_Table):
    """``[channels.agents."<id>"]``: where one agent is reached (overrides the helpdesk)."""

    email: str | None = None
    slack: str | None = None


class ChannelSettings(_Table):
    """``[channels]``: everything about agents' private digests."""

    public_url: str | None = None
    """Where ``serve`` is reachable; opt-out links point there. Required to send."""
    secret_env: str = "EMPATHY_FIREWALL_CHANNEL_SECRET"  # noqa: S105 - a variable name
    link_days: float = Field(default=30.0, gt=0, le=365)
    order: tuple[str, ...] = ("slack", "email")
    digest: DigestSettings = Field(default_factory=DigestSettings)
    email: EmailSettings | None = None
    slack: SlackSettings | None = None
    agents: dict[str, AgentAddress] = Field(default_factory=dict)
    plugins: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """``[channels.plugins.<name>]``: the own configuration of a third-party channel."""

    def configured(self) -> tuple[str, ...]:
        """The channel names in ``order`` that have a table (or are plugins: any name)."""
        return tuple(
            n
            for n in self.order
            if (n in ("email", "slack") and getattr(self, n)) or n in self.plugins
        )


def parse_channel_settings(raw: Mapping[str, Any] | None, where: str) -> ChannelSettings:
    """Validate the ``[channels]`` table; errors name the key (``channels.digest...``)."""
    try:
        return ChannelSettings.model_validate(dict(raw or {}))
    except ValidationError as exc:
        problems = "; ".join(
            f"channels.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
            for err in exc.errors(include_url=False, include_input=False)
        )
        raise ConfigError(f"{where}: {problems}") from None
