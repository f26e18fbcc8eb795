"""``[report]``: the manager report's privacy floor, thresholds and who may open it.

::

    [report]
    min_group_agents = 5           # strain is never shown for a group with fewer agents
    min_n = 30                     # fewer observations than this: "too thin to tell"
    admin_user = "admin"           # serve's /report asks for this user ...
    admin_password_env = "EMPATHY_FIREWALL_REPORT_PASSWORD"   # ... and this secret
    [report.interventions]         # which rules count as which intervention
    delay-acknowledgement = "delay_acknowledgement"
    handoff-baton = "baton"
    service-recovery = "recovery"
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from empathy_firewall.errors import ConfigError
from empathy_firewall.insights.dataset import INTERVENTIONS

__all__ = ["REPORT_PASSWORD_ENV", "ReportSettings", "report_settings"]

#: the default environment variable holding the report password
REPORT_PASSWORD_ENV = "EMPATHY_FIREWALL_REPORT_PASSWORD"  # noqa: S105 - a variable name


class ReportSettings(BaseModel):
    """The ``[report]`` table (see the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_group_agents: int = Field(default=5, ge=1, le=1000)
    min_n: int = Field(default=30, ge=5, le=100_000)
    admin_user: str = Field(default="admin", min_length=1, max_length=200)
    admin_password_env: str = Field(default=REPORT_PASSWORD_ENV, min_length=1)
    interventions: Mapping[str, str] = Field(default_factory=lambda: dict(INTERVENTIONS))


def report_settings(extra: Mapping[str, Any], source: str) -> ReportSettings:
    """Validate ``[report]`` from a configuration's extra tables; errors name the key."""
    raw = extra.get("report", {})
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: 'report' must be a table ([report])")
    try:
        return ReportSettings.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"report.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
            for err in exc.errors(include_url=False, include_input=False)
        )
        raise ConfigError(f"{source}: {problems}") from None
