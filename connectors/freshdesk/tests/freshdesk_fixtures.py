"""Shared fixtures: recorded Freshdesk payloads and a connector wired to the fake Freshdesk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from empathy_firewall_freshdesk import FreshdeskConnector
from empathy_firewall_freshdesk.testing import FakeFreshdesk

FIXTURES = Path(__file__).parent / "fixtures"
#: the team's shared payload collection (vendor doc examples we do not redistribute)
SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "fixtures" / "freshdesk"


def load(name: str) -> Any:
    """A recorded payload from fixtures/ (see fixtures/SOURCES.md)."""
    return json.loads((FIXTURES / name).read_text())


def shared(name: str) -> Any:
    """A Freshdesk doc example from the shared collection; skips when it is absent."""
    path = SHARED / name
    if not path.is_file():
        pytest.skip(f"shared fixture {name} not available (../shared is absent)")
    return json.loads(path.read_text())


@pytest.fixture
def fake() -> FakeFreshdesk:
    return FakeFreshdesk()


def connect(fake: FakeFreshdesk, **config: Any) -> FreshdeskConnector:
    """A connector whose transport, clock and environment are the fake's."""
    return fake.connect(FreshdeskConnector, **config)


@pytest.fixture
def connector(fake: FakeFreshdesk) -> FreshdeskConnector:
    return connect(fake)
