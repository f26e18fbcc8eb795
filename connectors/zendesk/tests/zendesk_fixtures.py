"""Shared fixtures: recorded Zendesk payloads and a connector wired to the fake Zendesk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from empathy_firewall_zendesk import ZendeskConnector
from empathy_firewall_zendesk.testing import FakeZendesk

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> Any:
    """A recorded payload from fixtures/ (see fixtures/SOURCES.md)."""
    return json.loads((FIXTURES / name).read_text())


def raw(name: str) -> bytes:
    """A recorded payload's exact bytes."""
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def fake() -> FakeZendesk:
    return FakeZendesk()


def connect(fake: FakeZendesk, **config: Any) -> ZendeskConnector:
    """A connector whose transport, clock and environment are the fake's."""
    return fake.connect(ZendeskConnector, **config)


@pytest.fixture
def connector(fake: FakeZendesk) -> ZendeskConnector:
    return connect(fake)
