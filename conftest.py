"""Test-wide settings: hermetic environment and Hypothesis profiles.

Tests never see real helpdesk credentials from the environment, and under CI Hypothesis
runs derandomized so a failure is reproducible from the log.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# support modules any test folder may import (ci_support)
_TESTS = str(Path(__file__).resolve().parent / "tests")
if _TESTS not in sys.path:
    sys.path.append(_TESTS)

settings.register_profile(
    "ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

_SECRET_PREFIXES = ("ZENDESK_", "FRESHDESK_", "RT_", "EMPATHY_FIREWALL_")


@pytest.fixture(autouse=True)
def _hermetic_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Drop any helpdesk credentials the developer's shell may carry."""
    for name in list(os.environ):
        if name.startswith(_SECRET_PREFIXES):
            monkeypatch.delenv(name, raising=False)
